package monitor

import (
	"os"
	"runtime"
	"time"

	"github.com/stratadb/strata/internal/config"
)

// Diagnostics returns SHOW DIAGNOSTICS [FOR module]'s rows: one per
// section, sorted by name, each with its keys sorted as columns and one
// row of values (see the package comment for the sections).
func (m *Monitor) Diagnostics(module string) []*Row {
	sections := m.diagnosticSections()
	names := sortedKeys(sections)
	rows := make([]*Row, 0, len(names))
	for _, name := range names {
		if module != "" && name != module {
			continue
		}
		rows = append(rows, rowFromMap(name, sections[name]))
	}
	return rows
}

func rowFromMap(name string, m map[string]any) *Row {
	cols := sortedKeys(m)
	vals := make([]any, len(cols))
	for i, c := range cols {
		vals[i] = m[c]
	}
	return &Row{Name: name, Columns: cols, Values: [][]any{vals}}
}

func (m *Monitor) diagnosticSections() map[string]map[string]any {
	now := m.now().UTC()
	s := map[string]map[string]any{
		"build": {
			"Branch":     m.build.Branch,
			"Build Time": m.build.Time,
			"Commit":     m.build.Commit,
			"Version":    m.build.Version,
		},
		"runtime": {
			"GOARCH":     runtime.GOARCH,
			"GOMAXPROCS": int64(runtime.GOMAXPROCS(0)),
			"GOOS":       runtime.GOOS,
			"version":    runtime.Version(),
		},
		"network": {
			"hostname": m.hostname,
		},
		"system": {
			"PID":         int64(os.Getpid()),
			"currentTime": now.Format(time.RFC3339Nano),
			"started":     m.started.Format(time.RFC3339Nano),
			"uptime":      now.Sub(m.started).String(),
		},
	}
	if m.conf != nil {
		for name, sec := range ConfigDiagnostics(m.conf) {
			s[name] = sec
		}
	}
	for name, sec := range m.extra {
		s[name] = sec
	}
	return s
}

// ConfigDiagnostics returns the configuration sections of SHOW
// DIAGNOSTICS, with 1.x's section and key names. Durations print as Go
// durations ("10s"), sizes as bytes. A disabled service shows only
// enabled = false, as in 1.x.
func ConfigDiagnostics(c *config.Config) map[string]map[string]any {
	d := func(v config.Duration) string { return time.Duration(v).String() }
	out := map[string]map[string]any{
		"config": {
			"bind-address":       c.BindAddress,
			"reporting-disabled": c.ReportingDisabled,
		},
		"config-coordinator": {
			"write-timeout":          d(c.Coordinator.WriteTimeout),
			"max-concurrent-queries": int64(c.Coordinator.MaxConcurrentQueries),
			"query-timeout":          d(c.Coordinator.QueryTimeout),
			"log-queries-after":      d(c.Coordinator.LogQueriesAfter),
			"max-select-point":       int64(c.Coordinator.MaxSelectPoint),
			"max-select-series":      int64(c.Coordinator.MaxSelectSeries),
			"max-select-buckets":     int64(c.Coordinator.MaxSelectBuckets),
		},
		"config-data": {
			"dir":                                c.Data.Dir,
			"wal-dir":                            c.Data.WALDir,
			"wal-fsync-delay":                    d(c.Data.WALFsyncDelay),
			"cache-max-memory-size":              int64(c.Data.CacheMaxMemorySize),
			"cache-snapshot-memory-size":         int64(c.Data.CacheSnapshotMemorySize),
			"cache-snapshot-write-cold-duration": d(c.Data.CacheSnapshotWriteColdDuration),
			"compact-full-write-cold-duration":   d(c.Data.CompactFullWriteColdDuration),
			"max-concurrent-compactions":         int64(c.Data.MaxConcurrentCompactions),
			"max-series-per-database":            int64(c.Data.MaxSeriesPerDatabase),
			"max-values-per-tag":                 int64(c.Data.MaxValuesPerTag),
		},
		"config-meta": {
			"dir": c.Meta.Dir,
		},
		"config-monitor": {
			"store-enabled":  c.Monitor.StoreEnabled,
			"store-database": c.Monitor.StoreDatabase,
			"store-interval": d(c.Monitor.StoreInterval),
		},
	}
	out["config-cqs"] = enabledSection(c.ContinuousQueries.Enabled, map[string]any{
		"query-stats-enabled": c.ContinuousQueries.QueryStatsEnabled,
		"run-interval":        d(c.ContinuousQueries.RunInterval),
	})
	out["config-httpd"] = enabledSection(c.HTTP.Enabled, map[string]any{
		"bind-address":         c.HTTP.BindAddress,
		"https-enabled":        c.HTTP.HTTPSEnabled,
		"max-row-limit":        int64(c.HTTP.MaxRowLimit),
		"max-connection-limit": int64(c.HTTP.MaxConnectionLimit),
		"access-log-path":      c.HTTP.AccessLogPath,
	})
	out["config-precreator"] = enabledSection(c.ShardPrecreation.Enabled, map[string]any{
		"check-interval": d(c.ShardPrecreation.CheckInterval),
		"advance-period": d(c.ShardPrecreation.AdvancePeriod),
	})
	out["config-retention"] = enabledSection(c.Retention.Enabled, map[string]any{
		"check-interval": d(c.Retention.CheckInterval),
	})
	return out
}

// enabledSection is rest plus enabled = true, or only enabled = false.
func enabledSection(enabled bool, rest map[string]any) map[string]any {
	if !enabled {
		return map[string]any{"enabled": false}
	}
	rest["enabled"] = true
	return rest
}
