package config

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Validate checks every setting and returns all problems joined with
// errors.Join, each an *Error naming its section and key (Load adds the
// file line or environment variable). The checks are 1.x's (directories
// set, positive service intervals, known index, ...) plus the ones 1.x left
// to start-up or never made: addresses parse, limits and durations are not
// negative, log level and format, TLS names, access-log status filters, and
// strings are valid UTF-8 (so WriteTOML's output loads back).
func (c *Config) Validate() error {
	v := &validator{}

	v.hostPort("", "bind-address", c.BindAddress)

	v.nonEmpty("meta", "dir", c.Meta.Dir)

	d := &c.Data
	v.nonEmpty("data", "dir", d.Dir)
	v.nonEmpty("data", "wal-dir", d.WALDir)
	v.nonNegDuration("data", "wal-fsync-delay", d.WALFsyncDelay)
	if d.IndexVersion != "inmem" && d.IndexVersion != "tsi1" {
		v.fail("data", "index-version", "%q: want \"inmem\" or \"tsi1\"", d.IndexVersion)
	}
	v.nonNegSize("data", "cache-max-memory-size", d.CacheMaxMemorySize)
	v.nonNegSize("data", "cache-snapshot-memory-size", d.CacheSnapshotMemorySize)
	v.nonNegDuration("data", "cache-snapshot-write-cold-duration", d.CacheSnapshotWriteColdDuration)
	v.nonNegDuration("data", "compact-full-write-cold-duration", d.CompactFullWriteColdDuration)
	v.nonNegSize("data", "compact-throughput", d.CompactThroughput)
	v.nonNegSize("data", "compact-throughput-burst", d.CompactThroughputBurst)
	v.nonNegInt("data", "max-concurrent-compactions", d.MaxConcurrentCompactions)
	v.nonNegInt("data", "max-series-per-database", d.MaxSeriesPerDatabase)
	v.nonNegInt("data", "max-values-per-tag", d.MaxValuesPerTag)
	v.nonNegSize("data", "max-index-log-file-size", d.MaxIndexLogFileSize)
	v.nonNegInt("data", "series-id-set-cache-size", d.SeriesIDSetCacheSize)

	co := &c.Coordinator
	v.nonNegDuration("coordinator", "write-timeout", co.WriteTimeout)
	v.nonNegInt("coordinator", "max-concurrent-queries", co.MaxConcurrentQueries)
	v.nonNegDuration("coordinator", "query-timeout", co.QueryTimeout)
	v.nonNegDuration("coordinator", "log-queries-after", co.LogQueriesAfter)
	v.nonNegInt("coordinator", "max-select-point", co.MaxSelectPoint)
	v.nonNegInt("coordinator", "max-select-series", co.MaxSelectSeries)
	v.nonNegInt("coordinator", "max-select-buckets", co.MaxSelectBuckets)

	// A disabled service's interval is never used: 1.x checks it only when
	// the service is on, and so do we (beyond not being negative).
	v.interval("retention", "check-interval", c.Retention.CheckInterval, c.Retention.Enabled)
	v.interval("shard-precreation", "check-interval", c.ShardPrecreation.CheckInterval, c.ShardPrecreation.Enabled)
	v.interval("shard-precreation", "advance-period", c.ShardPrecreation.AdvancePeriod, c.ShardPrecreation.Enabled)
	if c.Monitor.StoreEnabled {
		v.nonEmpty("monitor", "store-database", c.Monitor.StoreDatabase)
	}
	v.interval("monitor", "store-interval", c.Monitor.StoreInterval, c.Monitor.StoreEnabled)

	h := &c.HTTP
	v.hostPort("http", "bind-address", h.BindAddress)
	for i, f := range h.AccessLogStatusFilters {
		if !validStatusFilter(f) {
			v.fail("http", "access-log-status-filters",
				"element %d %q: want three characters, a digit 1-5 then digits or x (\"5xx\", \"404\")", i, f)
		}
	}
	if h.HTTPSEnabled {
		v.nonEmpty("http", "https-certificate", h.HTTPSCertificate)
	}
	v.nonNegInt("http", "max-row-limit", h.MaxRowLimit)
	v.nonNegInt("http", "max-connection-limit", h.MaxConnectionLimit)
	if h.UnixSocketEnabled {
		v.nonEmpty("http", "bind-socket", h.BindSocket)
	}
	v.nonNegInt("http", "max-body-size", h.MaxBodySize)
	v.nonNegInt("http", "max-concurrent-write-limit", h.MaxConcurrentWriteLimit)
	v.nonNegInt("http", "max-enqueued-write-limit", h.MaxEnqueuedWriteLimit)
	v.nonNegDuration("http", "enqueued-write-timeout", h.EnqueuedWriteTimeout)

	switch c.Logging.Format {
	case "", "auto", "logfmt", "json":
	default:
		v.fail("logging", "format", "%q: want \"auto\", \"logfmt\" or \"json\"", c.Logging.Format)
	}
	if _, ok := parseLevel(c.Logging.Level); !ok {
		v.fail("logging", "level", "%q: want \"debug\", \"info\", \"warn\" or \"error\"", c.Logging.Level)
	}

	v.interval("continuous_queries", "run-interval", c.ContinuousQueries.RunInterval, c.ContinuousQueries.Enabled)
	v.interval("subscriber", "http-timeout", c.Subscriber.HTTPTimeout, c.Subscriber.Enabled)
	if c.Subscriber.WriteConcurrency < 1 {
		v.fail("subscriber", "write-concurrency", "%d: must be at least 1", c.Subscriber.WriteConcurrency)
	}
	if c.Subscriber.WriteBufferSize < 1 {
		v.fail("subscriber", "write-buffer-size", "%d: must be at least 1", c.Subscriber.WriteBufferSize)
	}

	for _, name := range c.TLS.Ciphers {
		if _, ok := cipherSuiteID(name); !ok {
			v.fail("tls", "ciphers", "unknown cipher suite %q (names are crypto/tls's, e.g. \"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\")", name)
		}
	}
	minV, minOK := v.tlsVersion("min-version", c.TLS.MinVersion)
	maxV, maxOK := v.tlsVersion("max-version", c.TLS.MaxVersion)
	if minOK && maxOK && minV != 0 && maxV != 0 && minV > maxV {
		v.fail("tls", "max-version", "%q is older than min-version %q", c.TLS.MaxVersion, c.TLS.MinVersion)
	}

	// WriteTOML can only write valid UTF-8, and a TOML file cannot hold
	// anything else, so a string from the environment or from code that is
	// not UTF-8 would make the configuration impossible to write back.
	s := newSchema()
	for i := range s {
		switch p := s[i].ptr(c).(type) {
		case *string:
			if !utf8.ValidString(*p) {
				v.fail(s[i].section, s[i].key, "%q is not valid UTF-8", *p)
			}
		case *[]string:
			for j, e := range *p {
				if !utf8.ValidString(e) {
					v.fail(s[i].section, s[i].key, "element %d %q is not valid UTF-8", j, e)
				}
			}
		}
	}
	return v.err()
}

// validator collects the problems Validate finds.
type validator struct{ errs []error }

func (v *validator) err() error { return errors.Join(v.errs...) }

func (v *validator) fail(section, key, format string, args ...any) {
	v.errs = append(v.errs, &Error{Section: section, Key: key,
		Err: fmt.Errorf("%w "+format, append([]any{ErrInvalidValue}, args...)...)})
}

func (v *validator) nonEmpty(section, key, s string) {
	if strings.TrimSpace(s) == "" {
		v.errs = append(v.errs, &Error{Section: section, Key: key,
			Err: fmt.Errorf("%w: must not be empty", ErrInvalidValue)})
	}
}

func (v *validator) nonNegInt(section, key string, n int) {
	if n < 0 {
		v.fail(section, key, "%d: must not be negative", n)
	}
}

func (v *validator) nonNegSize(section, key string, n Size) {
	if n < 0 {
		v.fail(section, key, "%d: must not be negative", int64(n))
	}
}

func (v *validator) nonNegDuration(section, key string, d Duration) {
	if d < 0 {
		v.fail(section, key, "%q: must not be negative", d.String())
	}
}

// interval checks a service's period: positive when the service is on.
func (v *validator) interval(section, key string, d Duration, enabled bool) {
	switch {
	case d < 0:
		v.fail(section, key, "%q: must not be negative", d.String())
	case enabled && d == 0:
		v.fail(section, key, "%q: must be positive while the service is enabled", d.String())
	}
}

// hostPort checks a listen address: host:port with a numeric port; the
// host may be empty (every interface), a name or an IP ([::1]:8086).
func (v *validator) hostPort(section, key, addr string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		v.fail(section, key, "bind address %q: want host:port, e.g. \":8086\" or \"127.0.0.1:8086\"", addr)
		return
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || port == "" || n > 65535 {
		v.fail(section, key, "bind address %q: port %q is not a number from 0 to 65535", addr, port)
		return
	}
	if strings.ContainsFunc(host, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '/' }) {
		v.fail(section, key, "bind address %q: host %q is not a host name or IP address", addr, host)
	}
}

func (v *validator) tlsVersion(key, s string) (uint16, bool) {
	if s == "" {
		return 0, true
	}
	n, ok := parseTLSVersion(s)
	if !ok {
		v.fail("tls", key, "%q: want \"tls1.0\", \"tls1.1\", \"tls1.2\" or \"tls1.3\"", s)
	}
	return n, ok
}

// validStatusFilter checks an access-log status filter as 1.x does: exactly
// three characters, a digit 1-5, then digits, then only x wildcards.
func validStatusFilter(s string) bool {
	if len(s) != 3 || s[0] < '1' || s[0] > '5' {
		return false
	}
	wild := false
	for i := 1; i < 3; i++ {
		switch c := s[i]; {
		case c == 'x' || c == 'X':
			wild = true
		case c >= '0' && c <= '9' && !wild:
		default:
			return false
		}
	}
	return true
}
