package config

// field is one key of the configuration file: where it lives, the Config
// field it sets, and the comment WriteTOML prints above it.
type field struct {
	section string // "" for top-level keys
	key     string
	// ptr returns a pointer into c: *bool, *int, *string, *Duration, *Size
	// or *[]string. The pointer's type decides how the value is decoded
	// from TOML and from the environment.
	ptr func(c *Config) any
	// nanos: a bare TOML integer is a number of nanoseconds. 1.x declared
	// these fields time.Duration, which its TOML library decodes that way;
	// its own Duration type rejects integers other than 0.
	nanos bool
	doc   string
}

// sectionInfo describes a section Strata implements, in file order.
type sectionInfo struct {
	name string
	doc  string
}

// sectionList returns the sections Strata implements, in the order
// WriteTOML writes them. (Tables are built by functions, not held in
// package variables, so that no package state can be changed.)
func sectionList() []sectionInfo {
	return []sectionInfo{
		{"meta", "The meta store: databases, retention policies, users and continuous queries."},
		{"data", "The storage engine: where shard data and the write-ahead log live, and when the\ncache is written to data files."},
		{"coordinator", "Write timeouts and the limits that stop runaway queries."},
		{"retention", "The service that drops shard groups older than their retention policy."},
		{"shard-precreation", "The service that creates shard groups before data for them arrives, so the\nfirst write of a new period does not wait for one."},
		{"monitor", "Self-monitoring: statistics recorded into the _internal database (whose\n\"monitor\" retention policy keeps 7 days)."},
		{"http", "The HTTP API: /write, /query, /ping and the debug endpoints."},
		{"logging", "How the server logs."},
		{"continuous_queries", "The service that runs continuous queries."},
		{"subscriber", "Subscriptions: every accepted write is forwarded to the destinations of the\nsubscriptions on its database and retention policy."},
		{"tls", "Settings every TLS listener shares. Empty values keep Go's crypto/tls defaults."},
	}
}

// unsupportedSection reports whether name is a 1.x section that Strata
// accepts and ignores (with one warning) until it implements it.
func unsupportedSection(name string) bool {
	switch name {
	case "graphite", "collectd", "opentsdb", "udp", "ifql",
		// Sections of older 1.x releases that later ones removed.
		"admin", "cluster", "hinted-handoff":
		return true
	}
	return false
}

// ignoredKey reports whether key is a setting of 1.x (current or older
// releases) that Strata has no use for: it is accepted with a warning that
// says so, rather than the "unknown key" warning a typo gets.
func ignoredKey(section, key string) bool {
	switch section {
	case "data":
		switch key {
		case "engine", "tsm-use-madv-willneed", "max-concurrent-deletes",
			"aggressive-points-per-block", "tar-stream-buffer-size",
			"ingress-metric-by-measurement-enabled", "ingress-metric-by-login-enabled",
			"strict-error-handling", "series-file-max-concurrent-snapshot-compactions",
			"wal-max-concurrent-writes", "wal-max-write-delay",
			"compact-min-file-count", "max-points-per-block",
			"wal-logging-enabled", "data-logging-enabled":
			return true
		}
	case "coordinator":
		switch key {
		case "log-timedout-queries", "termination-query-log",
			"shard-writer-timeout", "shard-mapper-timeout", "max-remote-write-connections":
			return true
		}
	case "http":
		switch key {
		case "flux-log-enabled", "prom-read-auth-enabled", "https-insecure-certificate",
			"unix-socket-group", "unix-socket-permissions", "headers":
			return true
		}
	}
	return false
}

// schema is the table of every key, in the order WriteTOML writes them:
// top-level keys first, then the sections in sectionList's order.
type schema []field

// newSchema builds the table. Callers build it once per operation.
func newSchema() schema {
	return schema{
		{section: "", key: "reporting-disabled", ptr: func(c *Config) any { return &c.ReportingDisabled },
			doc: "Accepted for compatibility with InfluxDB 1.x. Strata never reports usage data\nanywhere, whatever this says."},
		{section: "", key: "bind-address", ptr: func(c *Config) any { return &c.BindAddress },
			doc: "Address (host:port) of the RPC service for backup and restore."},

		// [meta]
		{section: "meta", key: "dir", ptr: func(c *Config) any { return &c.Meta.Dir },
			doc: "Directory of the meta store. Default: $HOME/.strata/meta."},
		{section: "meta", key: "retention-autocreate", ptr: func(c *Config) any { return &c.Meta.RetentionAutoCreate },
			doc: "Create the \"autogen\" retention policy, as the default, with every new database."},
		{section: "meta", key: "logging-enabled", ptr: func(c *Config) any { return &c.Meta.LoggingEnabled },
			doc: "Log changes to the meta store."},

		// [data]
		{section: "data", key: "dir", ptr: func(c *Config) any { return &c.Data.Dir },
			doc: "Directory of the shards' data files. Default: $HOME/.strata/data."},
		{section: "data", key: "wal-dir", ptr: func(c *Config) any { return &c.Data.WALDir },
			doc: "Directory of the write-ahead log. Default: $HOME/.strata/wal. A separate disk\nfor the WAL lowers write latency."},
		{section: "data", key: "wal-fsync-delay", ptr: func(c *Config) any { return &c.Data.WALFsyncDelay },
			doc: "How long a write waits before the WAL is fsynced, so that one fsync serves\nmore writes. 0s syncs as soon as possible; 0-100ms suits spinning disks. A\nwrite is acknowledged only after its fsync either way."},
		{section: "data", key: "index-version", ptr: func(c *Config) any { return &c.Data.IndexVersion },
			doc: "\"inmem\" or \"tsi1\". Strata has a single series index (on disk, loaded fast),\nso both values select it."},
		{section: "data", key: "query-log-enabled", ptr: func(c *Config) any { return &c.Data.QueryLogEnabled },
			doc: "Log every query before it runs. Useful when troubleshooting, but the log then\nholds whatever the queries contain."},
		{section: "data", key: "trace-logging-enabled", ptr: func(c *Config) any { return &c.Data.TraceLoggingEnabled },
			doc: "Log the storage engine's internals (snapshots, compactions) in detail."},
		{section: "data", key: "validate-keys", ptr: func(c *Config) any { return &c.Data.ValidateKeys },
			doc: "Reject writes whose measurement, tag or field names are not valid UTF-8.\nCosts a check of every key written."},
		{section: "data", key: "cache-max-memory-size", ptr: func(c *Config) any { return &c.Data.CacheMaxMemorySize },
			doc: "Size a shard's in-memory cache may reach before writes to it are slowed and\nthen rejected. Sizes are bytes, or a number with a k, m or g suffix (1k =\n1024 bytes). 0 means no limit."},
		{section: "data", key: "cache-snapshot-memory-size", ptr: func(c *Config) any { return &c.Data.CacheSnapshotMemorySize },
			doc: "Size at which a shard's cache is written to a data file, freeing the memory."},
		{section: "data", key: "cache-snapshot-write-cold-duration", ptr: func(c *Config) any { return &c.Data.CacheSnapshotWriteColdDuration },
			doc: "Write a shard's cache to a data file once the shard has had no writes or\ndeletes for this long."},
		{section: "data", key: "compact-full-write-cold-duration", ptr: func(c *Config) any { return &c.Data.CompactFullWriteColdDuration },
			doc: "Compact all of a shard's data files into one once the shard has had no writes\nor deletes for this long."},
		{section: "data", key: "compact-throughput", ptr: func(c *Config) any { return &c.Data.CompactThroughput },
			doc: "Rate, in bytes per second, at which compactions may write to disk. 0 means\nno limit."},
		{section: "data", key: "compact-throughput-burst", ptr: func(c *Config) any { return &c.Data.CompactThroughputBurst },
			doc: "Rate, in bytes per second, that compactions may reach in short bursts."},
		{section: "data", key: "max-concurrent-compactions", ptr: func(c *Config) any { return &c.Data.MaxConcurrentCompactions },
			doc: "Compactions that may run at once across all shards (snapshots of the cache\nare not counted). 0 means half of GOMAXPROCS."},
		{section: "data", key: "max-series-per-database", ptr: func(c *Config) any { return &c.Data.MaxSeriesPerDatabase },
			doc: "Series a database may hold; writes that would create more are dropped.\n0 means no limit."},
		{section: "data", key: "max-values-per-tag", ptr: func(c *Config) any { return &c.Data.MaxValuesPerTag },
			doc: "Values one tag key may have within a measurement; writes that would add more\nare dropped. 0 means no limit."},
		{section: "data", key: "max-index-log-file-size", ptr: func(c *Config) any { return &c.Data.MaxIndexLogFileSize },
			doc: "Size at which the series index's log is compacted into an index file. Smaller\nmeans less memory, larger means faster writes of new series."},
		{section: "data", key: "series-id-set-cache-size", ptr: func(c *Config) any { return &c.Data.SeriesIDSetCacheSize },
			doc: "Tag predicates (key = value) whose matching series the index keeps cached.\n0 turns the cache off."},

		// [coordinator]
		{section: "coordinator", key: "write-timeout", ptr: func(c *Config) any { return &c.Coordinator.WriteTimeout },
			doc: "Time a write may take before the client gets a \"timeout\" error."},
		{section: "coordinator", key: "max-concurrent-queries", ptr: func(c *Config) any { return &c.Coordinator.MaxConcurrentQueries },
			doc: "Queries that may run at once; further queries get an error. 0 means no limit."},
		{section: "coordinator", key: "query-timeout", ptr: func(c *Config) any { return &c.Coordinator.QueryTimeout },
			doc: "Time a query may run before it is killed. 0s means no limit."},
		{section: "coordinator", key: "log-queries-after", ptr: func(c *Config) any { return &c.Coordinator.LogQueriesAfter },
			doc: "Log a query as slow once it has run this long. 0s turns slow-query logging off."},
		{section: "coordinator", key: "max-select-point", ptr: func(c *Config) any { return &c.Coordinator.MaxSelectPoint },
			doc: "Points a SELECT may process before it is stopped. 0 means no limit."},
		{section: "coordinator", key: "max-select-series", ptr: func(c *Config) any { return &c.Coordinator.MaxSelectSeries },
			doc: "Series a SELECT may read. 0 means no limit."},
		{section: "coordinator", key: "max-select-buckets", ptr: func(c *Config) any { return &c.Coordinator.MaxSelectBuckets },
			doc: "GROUP BY time() buckets a SELECT may create. 0 means no limit."},

		// [retention]
		{section: "retention", key: "enabled", ptr: func(c *Config) any { return &c.Retention.Enabled },
			doc: "Enforce retention policies (drop expired shard groups)."},
		{section: "retention", key: "check-interval", ptr: func(c *Config) any { return &c.Retention.CheckInterval },
			doc: "How often to look for expired shard groups."},

		// [shard-precreation]
		{section: "shard-precreation", key: "enabled", ptr: func(c *Config) any { return &c.ShardPrecreation.Enabled },
			doc: "Create shard groups ahead of time."},
		{section: "shard-precreation", key: "check-interval", ptr: func(c *Config) any { return &c.ShardPrecreation.CheckInterval },
			doc: "How often to look for shard groups that need a successor."},
		{section: "shard-precreation", key: "advance-period", ptr: func(c *Config) any { return &c.ShardPrecreation.AdvancePeriod },
			doc: "How long before a shard group ends its successor is created. Only groups that\nlie wholly in the future are created."},

		// [monitor]
		{section: "monitor", key: "store-enabled", ptr: func(c *Config) any { return &c.Monitor.StoreEnabled },
			doc: "Record the server's own statistics."},
		{section: "monitor", key: "store-database", ptr: func(c *Config) any { return &c.Monitor.StoreDatabase },
			doc: "Database the statistics are written to; it is created if missing."},
		{section: "monitor", key: "store-interval", ptr: func(c *Config) any { return &c.Monitor.StoreInterval },
			doc: "How often statistics are recorded."},

		// [http]
		{section: "http", key: "enabled", ptr: func(c *Config) any { return &c.HTTP.Enabled },
			doc: "Serve the HTTP API."},
		{section: "http", key: "bind-address", ptr: func(c *Config) any { return &c.HTTP.BindAddress },
			doc: "Address (host:port) the HTTP API listens on. An empty host means every\ninterface."},
		{section: "http", key: "auth-enabled", ptr: func(c *Config) any { return &c.HTTP.AuthEnabled },
			doc: "Require a user and password (or a JWT) on every request. Create an admin user\nfirst: while no user exists, the first CREATE USER ... WITH ALL PRIVILEGES is\nallowed."},
		{section: "http", key: "realm", ptr: func(c *Config) any { return &c.HTTP.Realm },
			doc: "Realm named in the WWW-Authenticate header of basic-auth challenges."},
		{section: "http", key: "log-enabled", ptr: func(c *Config) any { return &c.HTTP.LogEnabled },
			doc: "Log every HTTP request (the access log)."},
		{section: "http", key: "suppress-write-log", ptr: func(c *Config) any { return &c.HTTP.SuppressWriteLog },
			doc: "Leave /write requests out of the access log."},
		{section: "http", key: "access-log-path", ptr: func(c *Config) any { return &c.HTTP.AccessLogPath },
			doc: "File the access log is appended to. Empty means the server's log (stderr). If\nthe file cannot be opened the server logs why and uses stderr."},
		{section: "http", key: "access-log-status-filters", ptr: func(c *Config) any { return &c.HTTP.AccessLogStatusFilters },
			doc: "Log only responses whose status matches one of these patterns: three\ncharacters, a digit 1-5 then digits or x as wildcards (\"5xx\", \"40x\", \"404\").\nEmpty logs every request."},
		{section: "http", key: "write-tracing", ptr: func(c *Config) any { return &c.HTTP.WriteTracing },
			doc: "Log the body of every write in detail. Very verbose; for debugging only."},
		{section: "http", key: "flux-enabled", ptr: func(c *Config) any { return &c.HTTP.FluxEnabled },
			doc: "Accepted for compatibility with InfluxDB 1.x configurations. Strata does not\nimplement Flux."},
		{section: "http", key: "pprof-enabled", ptr: func(c *Config) any { return &c.HTTP.PprofEnabled },
			doc: "Serve Go's profiling endpoints under /debug/pprof."},
		{section: "http", key: "pprof-auth-enabled", ptr: func(c *Config) any { return &c.HTTP.PprofAuthEnabled },
			doc: "Require an admin user for /debug/pprof (only when auth-enabled is true)."},
		{section: "http", key: "debug-pprof-enabled", ptr: func(c *Config) any { return &c.HTTP.DebugPprofEnabled },
			doc: "Serve /debug/pprof on localhost:6060 from the start of the process, to profile\nstart-up."},
		{section: "http", key: "ping-auth-enabled", ptr: func(c *Config) any { return &c.HTTP.PingAuthEnabled },
			doc: "Require authentication for /ping and /status too (only when auth-enabled is\ntrue)."},
		{section: "http", key: "https-enabled", ptr: func(c *Config) any { return &c.HTTP.HTTPSEnabled },
			doc: "Serve HTTPS instead of HTTP."},
		{section: "http", key: "https-certificate", ptr: func(c *Config) any { return &c.HTTP.HTTPSCertificate },
			doc: "PEM file of the certificate (and, if https-private-key is empty, its key)."},
		{section: "http", key: "https-private-key", ptr: func(c *Config) any { return &c.HTTP.HTTPSPrivateKey },
			doc: "PEM file of the private key, when it is not in https-certificate."},
		{section: "http", key: "shared-secret", ptr: func(c *Config) any { return &c.HTTP.SharedSecret },
			doc: "Secret that signs JSON web tokens (HMAC); empty turns JWT authentication off."},
		{section: "http", key: "max-row-limit", ptr: func(c *Config) any { return &c.HTTP.MaxRowLimit },
			doc: "Rows a non-chunked query response may hold; the rest are cut and the result\nsays \"partial\". 0 means no limit."},
		{section: "http", key: "max-connection-limit", ptr: func(c *Config) any { return &c.HTTP.MaxConnectionLimit },
			doc: "Open HTTP connections allowed at once; further connections are closed.\n0 means no limit."},
		{section: "http", key: "unix-socket-enabled", ptr: func(c *Config) any { return &c.HTTP.UnixSocketEnabled },
			doc: "Also serve the HTTP API on a unix socket."},
		{section: "http", key: "bind-socket", ptr: func(c *Config) any { return &c.HTTP.BindSocket },
			doc: "Path of the unix socket."},
		{section: "http", key: "max-body-size", ptr: func(c *Config) any { return &c.HTTP.MaxBodySize },
			doc: "Largest request body, in bytes, after gzip decompression; larger requests get\n413. 0 means no limit."},
		{section: "http", key: "max-concurrent-write-limit", ptr: func(c *Config) any { return &c.HTTP.MaxConcurrentWriteLimit },
			doc: "Writes processed at once; further writes wait in a queue. 0 means no limit."},
		{section: "http", key: "max-enqueued-write-limit", ptr: func(c *Config) any { return &c.HTTP.MaxEnqueuedWriteLimit },
			doc: "Writes that may wait in that queue; further writes get 503. 0 means no limit."},
		{section: "http", key: "enqueued-write-timeout", ptr: func(c *Config) any { return &c.HTTP.EnqueuedWriteTimeout }, nanos: true,
			doc: "Time a write may wait in the queue before it gets 503. Applies only when\nmax-concurrent-write-limit is above 0; 0s means no limit."},

		// [logging]
		{section: "logging", key: "format", ptr: func(c *Config) any { return &c.Logging.Format },
			doc: "\"auto\", \"logfmt\" or \"json\". auto is a readable form on a terminal and logfmt\notherwise."},
		{section: "logging", key: "level", ptr: func(c *Config) any { return &c.Logging.Level },
			doc: "Least severe level logged: \"debug\", \"info\", \"warn\" or \"error\"."},
		{section: "logging", key: "suppress-logo", ptr: func(c *Config) any { return &c.Logging.SuppressLogo },
			doc: "Do not print the logo at start-up (it is never printed when stdout is not a\nterminal)."},

		// [continuous_queries]
		{section: "continuous_queries", key: "enabled", ptr: func(c *Config) any { return &c.ContinuousQueries.Enabled },
			doc: "Run continuous queries."},
		{section: "continuous_queries", key: "log-enabled", ptr: func(c *Config) any { return &c.ContinuousQueries.LogEnabled },
			doc: "Log every run of a continuous query."},
		{section: "continuous_queries", key: "query-stats-enabled", ptr: func(c *Config) any { return &c.ContinuousQueries.QueryStatsEnabled },
			doc: "Record statistics about each run in the monitor database."},
		{section: "continuous_queries", key: "run-interval", ptr: func(c *Config) any { return &c.ContinuousQueries.RunInterval },
			doc: "How often to check whether a continuous query is due."},

		// [subscriber]
		{section: "subscriber", key: "enabled", ptr: func(c *Config) any { return &c.Subscriber.Enabled },
			doc: "Forward writes to the destinations of subscriptions."},
		{section: "subscriber", key: "http-timeout", ptr: func(c *Config) any { return &c.Subscriber.HTTPTimeout },
			doc: "How long one write to an http:// or https:// destination may take."},
		{section: "subscriber", key: "insecure-skip-verify", ptr: func(c *Config) any { return &c.Subscriber.InsecureSkipVerify },
			doc: "Accept any certificate from https:// destinations (for testing with\nself-signed certificates)."},
		{section: "subscriber", key: "ca-certs", ptr: func(c *Config) any { return &c.Subscriber.CACerts },
			doc: "PEM file of the certificate authorities https:// destinations must chain to.\nEmpty means the system's."},
		{section: "subscriber", key: "write-concurrency", ptr: func(c *Config) any { return &c.Subscriber.WriteConcurrency },
			doc: "Concurrent writes to each destination."},
		{section: "subscriber", key: "write-buffer-size", ptr: func(c *Config) any { return &c.Subscriber.WriteBufferSize },
			doc: "Writes queued for each destination; beyond it writes are dropped and counted\n(subscriber statistics writesDropped, pointsDropped)."},

		// [tls]
		{section: "tls", key: "ciphers", ptr: func(c *Config) any { return &c.TLS.Ciphers },
			doc: "Cipher suites to offer, by their Go names (crypto/tls), e.g.\n\"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\". Empty means Go's defaults. TLS 1.3\nsuites are not configurable."},
		{section: "tls", key: "min-version", ptr: func(c *Config) any { return &c.TLS.MinVersion },
			doc: "Oldest TLS version to accept: \"tls1.0\", \"tls1.1\", \"tls1.2\" or \"tls1.3\".\nEmpty means Go's default."},
		{section: "tls", key: "max-version", ptr: func(c *Config) any { return &c.TLS.MaxVersion },
			doc: "Newest TLS version to accept; same values as min-version."},
	}
}

// index finds a key's entry: exact spelling first, then ignoring case,
// because 1.x (through BurntSushi/toml's struct decoding) matched keys
// without regard to case. It returns -1 when the key is unknown.
func (s schema) index(section, key string) int {
	folded := -1
	for i := range s {
		f := &s[i]
		if f.section == section && f.key == key {
			return i
		}
		if folded < 0 && f.section == section && equalFold(f.key, key) {
			folded = i
		}
	}
	return folded
}

// knownSection returns the canonical name of a section Strata implements,
// matched as fieldIndex matches keys, and whether there is one.
func knownSection(name string) (string, bool) {
	folded := ""
	for _, s := range sectionList() {
		if s.name == name {
			return s.name, true
		}
		if folded == "" && equalFold(s.name, name) {
			folded = s.name
		}
	}
	return folded, folded != ""
}

// equalFold is strings.EqualFold restricted to ASCII, the only letters keys
// have; Unicode folding would let "K" (Kelvin sign) match "k".
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
