package httpd

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Defaults of the [http] settings the handler reads, as in 1.x.
const (
	// DefaultRealm is sent in the WWW-Authenticate challenge of a 401.
	DefaultRealm = "InfluxDB"
	// DefaultChunkSize is the number of rows per chunk when chunked=true
	// comes without a usable chunk_size, and the chunk size the executor is
	// asked for when the response is not chunked.
	DefaultChunkSize = 10000
	// DefaultBuild is the X-Influxdb-Build header value.
	DefaultBuild = "OSS"
)

// Options configure a Handler. They mirror the [http] section of the
// configuration file; the composition root copies them from there.
type Options struct {
	// AuthEnabled turns authentication on (auth-enabled).
	AuthEnabled bool
	// Realm is the realm of the Basic challenge on 401 ("" → "InfluxDB").
	Realm string

	// LogEnabled writes one access-log line per request (log-enabled).
	LogEnabled bool
	// SuppressWriteLog leaves /write requests out of the access log.
	SuppressWriteLog bool
	// AccessLog receives the access-log lines; the composition root opens
	// access-log-path and passes the file. When nil the lines go to the
	// slog logger at Info level.
	AccessLog io.Writer
	// AccessLogStatusFilters keep only lines whose status matches one of
	// the filters ("4xx", "500", …; see ParseStatusFilter). Empty keeps all.
	AccessLogStatusFilters []string
	// WriteTracing logs every /write body at Debug level (write-tracing).
	WriteTracing bool

	// PprofEnabled serves /debug/pprof/* (pprof-enabled).
	PprofEnabled bool
	// PprofAuthEnabled requires an admin for /debug/* when auth is on.
	PprofAuthEnabled bool
	// PingAuthEnabled requires credentials for /ping, /status and /health
	// when auth is on.
	PingAuthEnabled bool
	// SharedSecret is the HMAC key of Bearer JWTs; empty disables them.
	SharedSecret string

	// Metrics serves GET /metrics: the server's statistics in Prometheus'
	// exposition format (nil: no /metrics route). It sets its own
	// Content-Type and compression.
	Metrics http.Handler

	// MaxRowLimit truncates non-chunked query results (0 = unlimited).
	MaxRowLimit int
	// MaxBodySize bounds a /write body in bytes, before and after gzip
	// decompression (0 = unlimited).
	MaxBodySize int
	// MaxConcurrentWriteLimit bounds the writes processed at once
	// (0 = unlimited, and no throttling at all).
	MaxConcurrentWriteLimit int
	// MaxEnqueuedWriteLimit bounds the writes waiting for a turn
	// (0 = unlimited).
	MaxEnqueuedWriteLimit int
	// EnqueuedWriteTimeout bounds how long a write waits for a turn
	// (0 = forever).
	EnqueuedWriteTimeout time.Duration

	// Version and Build are sent in X-Influxdb-Version and X-Influxdb-Build
	// on every response (Build "" → "OSS").
	Version string
	Build   string
	// BindAddress is only the "bind" tag of the httpd statistic that
	// /debug/vars shows, as 1.x tags it.
	BindAddress string

	// Now is the clock (nil → time.Now); tests pin it.
	Now func() time.Time
}

// Consistency is the write consistency level of a /write request. A single
// node has no replicas, so every level means "stored here"; the level is
// passed on for the clustered writer.
type Consistency int

// Consistency levels, as in 1.x.
const (
	ConsistencyAny Consistency = iota
	ConsistencyOne
	ConsistencyQuorum
	ConsistencyAll
)

// String returns the level's name as clients spell it.
func (c Consistency) String() string {
	switch c {
	case ConsistencyAny:
		return "any"
	case ConsistencyOne:
		return "one"
	case ConsistencyQuorum:
		return "quorum"
	case ConsistencyAll:
		return "all"
	}
	return "Consistency(" + strconv.Itoa(int(c)) + ")"
}

// ParseConsistency parses any, one, quorum or all in any case. The empty
// string is "one", the 1.x default.
func ParseConsistency(s string) (Consistency, error) {
	switch strings.ToLower(s) {
	case "", "one":
		return ConsistencyOne, nil
	case "any":
		return ConsistencyAny, nil
	case "quorum":
		return ConsistencyQuorum, nil
	case "all":
		return ConsistencyAll, nil
	}
	return 0, ErrInvalidConsistency
}

// StatusFilter matches HTTP status codes for access-log-status-filters:
// "404" matches one code, "4xx" a hundred, "40x" ten.
type StatusFilter struct {
	base    int
	divisor int
}

// ParseStatusFilter parses a filter: three characters, a digit 1–5, then
// digits, then only x or X.
func ParseStatusFilter(s string) (StatusFilter, error) {
	if len(s) != 3 {
		return StatusFilter{}, fmt.Errorf("status filter %q: must be exactly 3 characters long", s)
	}
	if s[0] < '1' || s[0] > '5' {
		return StatusFilter{}, fmt.Errorf("status filter %q: must start with a digit 1-5", s)
	}
	digits := 1
	for digits < 3 && s[digits] >= '0' && s[digits] <= '9' {
		digits++
	}
	for i := digits; i < 3; i++ {
		if s[i] != 'x' && s[i] != 'X' {
			return StatusFilter{}, fmt.Errorf("status filter %q: only x may follow the digits", s)
		}
	}
	base, _ := strconv.Atoi(s[:digits]) // digits only: cannot fail
	divisor := 1
	for i := digits; i < 3; i++ {
		divisor *= 10
	}
	return StatusFilter{base: base, divisor: divisor}, nil
}

// Match reports whether code matches the filter.
func (f StatusFilter) Match(code int) bool {
	return f.divisor != 0 && code/f.divisor == f.base
}

// statusFilters matches when empty or when any filter matches.
type statusFilters []StatusFilter

func (fs statusFilters) match(code int) bool {
	if len(fs) == 0 {
		return true
	}
	for _, f := range fs {
		if f.Match(code) {
			return true
		}
	}
	return false
}
