package config_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadb/strata/internal/config"
)

// debianConf is installed by Debian's influxdb package; CI installs it.
const debianConf = "/etc/influxdb/influxdb.conf"

// TestDefaults pins every default to InfluxDB 1.x's value, typed in from
// 1.x's etc/config.sample.toml and its services' config.go (not from our
// own constants, so a wrong constant cannot hide here). The directories
// are Strata's: $HOME/.strata/{meta,data,wal}.
func TestDefaults(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	c := config.NewConfig()
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"reporting-disabled", c.ReportingDisabled, false},
		{"bind-address", c.BindAddress, "127.0.0.1:8088"},

		{"meta.dir", c.Meta.Dir, filepath.Join(home, ".strata", "meta")},
		{"meta.retention-autocreate", c.Meta.RetentionAutoCreate, true},
		{"meta.logging-enabled", c.Meta.LoggingEnabled, true},

		{"data.dir", c.Data.Dir, filepath.Join(home, ".strata", "data")},
		{"data.wal-dir", c.Data.WALDir, filepath.Join(home, ".strata", "wal")},
		{"data.wal-fsync-delay", c.Data.WALFsyncDelay, config.Duration(0)},
		{"data.index-version", c.Data.IndexVersion, "inmem"},
		{"data.query-log-enabled", c.Data.QueryLogEnabled, true},
		{"data.trace-logging-enabled", c.Data.TraceLoggingEnabled, false},
		{"data.validate-keys", c.Data.ValidateKeys, false},
		{"data.cache-max-memory-size", c.Data.CacheMaxMemorySize, config.Size(1073741824)},
		{"data.cache-snapshot-memory-size", c.Data.CacheSnapshotMemorySize, config.Size(26214400)},
		{"data.cache-snapshot-write-cold-duration", c.Data.CacheSnapshotWriteColdDuration, config.Duration(10 * time.Minute)},
		{"data.compact-full-write-cold-duration", c.Data.CompactFullWriteColdDuration, config.Duration(4 * time.Hour)},
		{"data.compact-throughput", c.Data.CompactThroughput, config.Size(48 * 1024 * 1024)},
		{"data.compact-throughput-burst", c.Data.CompactThroughputBurst, config.Size(48 * 1024 * 1024)},
		{"data.max-concurrent-compactions", c.Data.MaxConcurrentCompactions, 0},
		{"data.max-series-per-database", c.Data.MaxSeriesPerDatabase, 1000000},
		{"data.max-values-per-tag", c.Data.MaxValuesPerTag, 100000},
		{"data.max-index-log-file-size", c.Data.MaxIndexLogFileSize, config.Size(1048576)},
		{"data.series-id-set-cache-size", c.Data.SeriesIDSetCacheSize, 100},

		{"coordinator.write-timeout", c.Coordinator.WriteTimeout, config.Duration(10 * time.Second)},
		{"coordinator.max-concurrent-queries", c.Coordinator.MaxConcurrentQueries, 0},
		{"coordinator.query-timeout", c.Coordinator.QueryTimeout, config.Duration(0)},
		{"coordinator.log-queries-after", c.Coordinator.LogQueriesAfter, config.Duration(0)},
		{"coordinator.max-select-point", c.Coordinator.MaxSelectPoint, 0},
		{"coordinator.max-select-series", c.Coordinator.MaxSelectSeries, 0},
		{"coordinator.max-select-buckets", c.Coordinator.MaxSelectBuckets, 0},

		{"retention.enabled", c.Retention.Enabled, true},
		{"retention.check-interval", c.Retention.CheckInterval, config.Duration(30 * time.Minute)},

		{"shard-precreation.enabled", c.ShardPrecreation.Enabled, true},
		{"shard-precreation.check-interval", c.ShardPrecreation.CheckInterval, config.Duration(10 * time.Minute)},
		{"shard-precreation.advance-period", c.ShardPrecreation.AdvancePeriod, config.Duration(30 * time.Minute)},

		{"monitor.store-enabled", c.Monitor.StoreEnabled, true},
		{"monitor.store-database", c.Monitor.StoreDatabase, "_internal"},
		{"monitor.store-interval", c.Monitor.StoreInterval, config.Duration(10 * time.Second)},

		{"http.enabled", c.HTTP.Enabled, true},
		{"http.bind-address", c.HTTP.BindAddress, ":8086"},
		{"http.auth-enabled", c.HTTP.AuthEnabled, false},
		{"http.realm", c.HTTP.Realm, "InfluxDB"},
		{"http.log-enabled", c.HTTP.LogEnabled, true},
		{"http.suppress-write-log", c.HTTP.SuppressWriteLog, false},
		{"http.access-log-path", c.HTTP.AccessLogPath, ""},
		{"http.access-log-status-filters", c.HTTP.AccessLogStatusFilters, []string(nil)},
		{"http.write-tracing", c.HTTP.WriteTracing, false},
		{"http.flux-enabled", c.HTTP.FluxEnabled, false},
		{"http.pprof-enabled", c.HTTP.PprofEnabled, true},
		{"http.pprof-auth-enabled", c.HTTP.PprofAuthEnabled, false},
		{"http.debug-pprof-enabled", c.HTTP.DebugPprofEnabled, false},
		{"http.ping-auth-enabled", c.HTTP.PingAuthEnabled, false},
		{"http.https-enabled", c.HTTP.HTTPSEnabled, false},
		{"http.https-certificate", c.HTTP.HTTPSCertificate, "/etc/ssl/influxdb.pem"},
		{"http.https-private-key", c.HTTP.HTTPSPrivateKey, ""},
		{"http.shared-secret", c.HTTP.SharedSecret, ""},
		{"http.max-row-limit", c.HTTP.MaxRowLimit, 0},
		{"http.max-connection-limit", c.HTTP.MaxConnectionLimit, 0},
		{"http.unix-socket-enabled", c.HTTP.UnixSocketEnabled, false},
		{"http.bind-socket", c.HTTP.BindSocket, "/var/run/influxdb.sock"},
		{"http.max-body-size", c.HTTP.MaxBodySize, 25000000},
		{"http.max-concurrent-write-limit", c.HTTP.MaxConcurrentWriteLimit, 0},
		{"http.max-enqueued-write-limit", c.HTTP.MaxEnqueuedWriteLimit, 0},
		// services/httpd/config.go's DefaultEnqueuedWriteTimeout; the sample
		// file's "0" is not what 1.x runs with.
		{"http.enqueued-write-timeout", c.HTTP.EnqueuedWriteTimeout, config.Duration(30 * time.Second)},

		{"logging.format", c.Logging.Format, "auto"},
		{"logging.level", c.Logging.Level, "info"},
		{"logging.suppress-logo", c.Logging.SuppressLogo, false},

		{"continuous_queries.enabled", c.ContinuousQueries.Enabled, true},
		{"continuous_queries.log-enabled", c.ContinuousQueries.LogEnabled, true},
		{"continuous_queries.query-stats-enabled", c.ContinuousQueries.QueryStatsEnabled, false},
		{"continuous_queries.run-interval", c.ContinuousQueries.RunInterval, config.Duration(time.Second)},

		{"tls.ciphers", c.TLS.Ciphers, []string(nil)},
		{"tls.min-version", c.TLS.MinVersion, ""},
		{"tls.max-version", c.TLS.MaxVersion, ""},
	} {
		if diff := cmp.Diff(tc.want, tc.got); diff != "" {
			t.Errorf("default %s (-1.x +ours):\n%s", tc.name, diff)
		}
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
}

// With no file, Load gives the defaults (plus the environment).
func TestLoadWithoutFile(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	c, warns, err := config.Load("")
	if err != nil || len(warns) != 0 {
		t.Fatalf("Load(\"\") = %v, %v", warns, err)
	}
	if diff := cmp.Diff(config.NewConfig(), c); diff != "" {
		t.Fatalf("Load(\"\") differs from NewConfig (-want +got):\n%s", diff)
	}
	if want := filepath.Join(home, ".strata", "wal"); c.Data.WALDir != want {
		t.Fatalf("wal-dir = %q, want %q", c.Data.WALDir, want)
	}
}

func TestSetDataRootAndClone(t *testing.T) {
	c := config.NewConfig()
	c.SetDataRoot("/x")
	if c.Meta.Dir != "/x/meta" || c.Data.Dir != "/x/data" || c.Data.WALDir != "/x/wal" {
		t.Fatalf("SetDataRoot: %q %q %q", c.Meta.Dir, c.Data.Dir, c.Data.WALDir)
	}
	c.TLS.Ciphers = []string{"a"}
	c.HTTP.AccessLogStatusFilters = []string{"5xx"}
	d := c.Clone()
	if diff := cmp.Diff(c, d); diff != "" {
		t.Fatalf("Clone differs:\n%s", diff)
	}
	d.TLS.Ciphers[0] = "b"
	d.HTTP.AccessLogStatusFilters[0] = "4xx"
	if c.TLS.Ciphers[0] != "a" || c.HTTP.AccessLogStatusFilters[0] != "5xx" {
		t.Fatal("Clone shares slices with the original")
	}
}
