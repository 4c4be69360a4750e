package config

import (
	"os"
	"path/filepath"
	"time"
)

// Config is the whole server configuration: the sections and keys of an
// InfluxDB 1.x influxdb.conf that Strata implements. It is a plain value;
// copy it with Clone when a copy must not share slices.
type Config struct {
	// ReportingDisabled is accepted for compatibility. Strata never reports
	// usage anywhere, whatever its value.
	ReportingDisabled bool `toml:"reporting-disabled"`
	// BindAddress is the address of the RPC service 1.x uses for backup and
	// restore.
	BindAddress string `toml:"bind-address"`

	Meta              MetaConfig              `toml:"meta"`
	Data              DataConfig              `toml:"data"`
	Coordinator       CoordinatorConfig       `toml:"coordinator"`
	Retention         RetentionConfig         `toml:"retention"`
	ShardPrecreation  ShardPrecreationConfig  `toml:"shard-precreation"`
	Monitor           MonitorConfig           `toml:"monitor"`
	HTTP              HTTPConfig              `toml:"http"`
	Logging           LoggingConfig           `toml:"logging"`
	ContinuousQueries ContinuousQueriesConfig `toml:"continuous_queries"`
	Subscriber        SubscriberConfig        `toml:"subscriber"`
	TLS               TLSConfig               `toml:"tls"`
}

// MetaConfig is [meta]: the store of databases, retention policies, users
// and continuous queries.
type MetaConfig struct {
	Dir                 string `toml:"dir"`
	RetentionAutoCreate bool   `toml:"retention-autocreate"`
	LoggingEnabled      bool   `toml:"logging-enabled"`
}

// DataConfig is [data]: the storage engine.
type DataConfig struct {
	Dir                            string   `toml:"dir"`
	WALDir                         string   `toml:"wal-dir"`
	WALFsyncDelay                  Duration `toml:"wal-fsync-delay"`
	IndexVersion                   string   `toml:"index-version"`
	QueryLogEnabled                bool     `toml:"query-log-enabled"`
	TraceLoggingEnabled            bool     `toml:"trace-logging-enabled"`
	ValidateKeys                   bool     `toml:"validate-keys"`
	CacheMaxMemorySize             Size     `toml:"cache-max-memory-size"`
	CacheSnapshotMemorySize        Size     `toml:"cache-snapshot-memory-size"`
	CacheSnapshotWriteColdDuration Duration `toml:"cache-snapshot-write-cold-duration"`
	CompactFullWriteColdDuration   Duration `toml:"compact-full-write-cold-duration"`
	CompactThroughput              Size     `toml:"compact-throughput"`
	CompactThroughputBurst         Size     `toml:"compact-throughput-burst"`
	MaxConcurrentCompactions       int      `toml:"max-concurrent-compactions"`
	MaxSeriesPerDatabase           int      `toml:"max-series-per-database"`
	MaxValuesPerTag                int      `toml:"max-values-per-tag"`
	MaxIndexLogFileSize            Size     `toml:"max-index-log-file-size"`
	SeriesIDSetCacheSize           int      `toml:"series-id-set-cache-size"`
}

// CoordinatorConfig is [coordinator]: write timeouts and query limits.
type CoordinatorConfig struct {
	WriteTimeout         Duration `toml:"write-timeout"`
	MaxConcurrentQueries int      `toml:"max-concurrent-queries"`
	QueryTimeout         Duration `toml:"query-timeout"`
	LogQueriesAfter      Duration `toml:"log-queries-after"`
	MaxSelectPoint       int      `toml:"max-select-point"`
	MaxSelectSeries      int      `toml:"max-select-series"`
	MaxSelectBuckets     int      `toml:"max-select-buckets"`
}

// RetentionConfig is [retention]: the service that drops expired shards.
type RetentionConfig struct {
	Enabled       bool     `toml:"enabled"`
	CheckInterval Duration `toml:"check-interval"`
}

// ShardPrecreationConfig is [shard-precreation]: the service that creates
// shard groups before data for them arrives.
type ShardPrecreationConfig struct {
	Enabled       bool     `toml:"enabled"`
	CheckInterval Duration `toml:"check-interval"`
	AdvancePeriod Duration `toml:"advance-period"`
}

// MonitorConfig is [monitor]: self-monitoring into the _internal database.
type MonitorConfig struct {
	StoreEnabled  bool     `toml:"store-enabled"`
	StoreDatabase string   `toml:"store-database"`
	StoreInterval Duration `toml:"store-interval"`
}

// HTTPConfig is [http]: the HTTP API.
type HTTPConfig struct {
	Enabled                 bool     `toml:"enabled"`
	BindAddress             string   `toml:"bind-address"`
	AuthEnabled             bool     `toml:"auth-enabled"`
	Realm                   string   `toml:"realm"`
	LogEnabled              bool     `toml:"log-enabled"`
	SuppressWriteLog        bool     `toml:"suppress-write-log"`
	AccessLogPath           string   `toml:"access-log-path"`
	AccessLogStatusFilters  []string `toml:"access-log-status-filters"`
	WriteTracing            bool     `toml:"write-tracing"`
	FluxEnabled             bool     `toml:"flux-enabled"`
	PprofEnabled            bool     `toml:"pprof-enabled"`
	PprofAuthEnabled        bool     `toml:"pprof-auth-enabled"`
	DebugPprofEnabled       bool     `toml:"debug-pprof-enabled"`
	PingAuthEnabled         bool     `toml:"ping-auth-enabled"`
	HTTPSEnabled            bool     `toml:"https-enabled"`
	HTTPSCertificate        string   `toml:"https-certificate"`
	HTTPSPrivateKey         string   `toml:"https-private-key"`
	SharedSecret            string   `toml:"shared-secret"`
	MaxRowLimit             int      `toml:"max-row-limit"`
	MaxConnectionLimit      int      `toml:"max-connection-limit"`
	UnixSocketEnabled       bool     `toml:"unix-socket-enabled"`
	BindSocket              string   `toml:"bind-socket"`
	MaxBodySize             int      `toml:"max-body-size"`
	MaxConcurrentWriteLimit int      `toml:"max-concurrent-write-limit"`
	MaxEnqueuedWriteLimit   int      `toml:"max-enqueued-write-limit"`
	EnqueuedWriteTimeout    Duration `toml:"enqueued-write-timeout"`
}

// LoggingConfig is [logging].
type LoggingConfig struct {
	Format       string `toml:"format"`
	Level        string `toml:"level"`
	SuppressLogo bool   `toml:"suppress-logo"`
}

// ContinuousQueriesConfig is [continuous_queries].
type ContinuousQueriesConfig struct {
	Enabled           bool     `toml:"enabled"`
	LogEnabled        bool     `toml:"log-enabled"`
	QueryStatsEnabled bool     `toml:"query-stats-enabled"`
	RunInterval       Duration `toml:"run-interval"`
}

// SubscriberConfig is [subscriber]: forwarding of accepted writes to the
// destinations of subscriptions.
type SubscriberConfig struct {
	Enabled            bool     `toml:"enabled"`
	HTTPTimeout        Duration `toml:"http-timeout"`
	InsecureSkipVerify bool     `toml:"insecure-skip-verify"`
	CACerts            string   `toml:"ca-certs"`
	WriteConcurrency   int      `toml:"write-concurrency"`
	WriteBufferSize    int      `toml:"write-buffer-size"`
}

// TLSConfig is [tls]: settings every TLS listener shares. Empty values
// leave Go's crypto/tls defaults in place.
type TLSConfig struct {
	Ciphers    []string `toml:"ciphers"`
	MinVersion string   `toml:"min-version"`
	MaxVersion string   `toml:"max-version"`
}

// Default directories live under $HOME/.strata rather than 1.x's
// $HOME/.influxdb so that Strata never opens files an InfluxDB on the same
// machine owns.
const defaultRootName = ".strata"

// NewConfig returns InfluxDB 1.x's defaults (etc/config.sample.toml and each
// service's config.go), except that the meta, data and WAL directories are
// $HOME/.strata/{meta,data,wal}. If the home directory is unknown they are
// relative: .strata/meta, and so on.
func NewConfig() *Config {
	home, err := os.UserHomeDir()
	if err != nil {
		home = ""
	}
	return newConfig(filepath.Join(home, defaultRootName))
}

// newConfig returns the defaults with the directories under root.
func newConfig(root string) *Config {
	c := &Config{
		ReportingDisabled: false,
		BindAddress:       "127.0.0.1:8088",
		Meta: MetaConfig{
			RetentionAutoCreate: true,
			LoggingEnabled:      true,
		},
		Data: DataConfig{
			WALFsyncDelay:                  0,
			IndexVersion:                   "inmem",
			QueryLogEnabled:                true,
			TraceLoggingEnabled:            false,
			ValidateKeys:                   false,
			CacheMaxMemorySize:             1 * GiB,
			CacheSnapshotMemorySize:        25 * MiB,
			CacheSnapshotWriteColdDuration: Duration(10 * time.Minute),
			CompactFullWriteColdDuration:   Duration(4 * time.Hour),
			CompactThroughput:              48 * MiB,
			CompactThroughputBurst:         48 * MiB,
			MaxConcurrentCompactions:       0,
			MaxSeriesPerDatabase:           1000000,
			MaxValuesPerTag:                100000,
			MaxIndexLogFileSize:            1 * MiB,
			SeriesIDSetCacheSize:           100,
		},
		Coordinator: CoordinatorConfig{
			WriteTimeout: Duration(10 * time.Second),
		},
		Retention: RetentionConfig{
			Enabled:       true,
			CheckInterval: Duration(30 * time.Minute),
		},
		ShardPrecreation: ShardPrecreationConfig{
			Enabled:       true,
			CheckInterval: Duration(10 * time.Minute),
			AdvancePeriod: Duration(30 * time.Minute),
		},
		Monitor: MonitorConfig{
			StoreEnabled:  true,
			StoreDatabase: "_internal",
			StoreInterval: Duration(10 * time.Second),
		},
		HTTP: HTTPConfig{
			Enabled:          true,
			BindAddress:      ":8086",
			Realm:            "InfluxDB",
			LogEnabled:       true,
			PprofEnabled:     true,
			HTTPSCertificate: "/etc/ssl/influxdb.pem",
			BindSocket:       "/var/run/influxdb.sock",
			MaxBodySize:      25000000,
			// 1.x's sample file says 0 but its code (the value that runs)
			// says 30s; it only matters when max-concurrent-write-limit > 0.
			EnqueuedWriteTimeout: Duration(30 * time.Second),
		},
		Logging: LoggingConfig{
			Format: "auto",
			Level:  "info",
		},
		ContinuousQueries: ContinuousQueriesConfig{
			Enabled:     true,
			LogEnabled:  true,
			RunInterval: Duration(time.Second),
		},
		Subscriber: SubscriberConfig{
			Enabled:          true,
			HTTPTimeout:      Duration(30 * time.Second),
			WriteConcurrency: 40,
			WriteBufferSize:  1000,
		},
	}
	c.SetDataRoot(root)
	return c
}

// SetDataRoot points the meta, data and WAL directories at root/meta,
// root/data and root/wal (what `stratad run -data-root` does).
func (c *Config) SetDataRoot(root string) {
	c.Meta.Dir = filepath.Join(root, "meta")
	c.Data.Dir = filepath.Join(root, "data")
	c.Data.WALDir = filepath.Join(root, "wal")
}

// Clone returns a deep copy of c.
func (c *Config) Clone() *Config {
	n := *c
	n.HTTP.AccessLogStatusFilters = cloneStrings(c.HTTP.AccessLogStatusFilters)
	n.TLS.Ciphers = cloneStrings(c.TLS.Ciphers)
	return &n
}

func cloneStrings(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s...)
}
