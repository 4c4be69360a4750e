// Package monitor is Strata's self-monitoring ([monitor] store-enabled,
// store-database, store-interval): it gathers every component's
// statistics, stores them in the _internal database, and renders them for
// SHOW STATS, SHOW DIAGNOSTICS and the Prometheus /metrics endpoint.
//
// # Statistics
//
// A statistic (stats.Statistic) is a name, tags and values, under 1.x's
// lowerCamelCase names: "httpd", "write", "shard", "tsm1_*", "database"
// (numSeries, numMeasurements per database, from the series index),
// "subscriber", and "runtime", which this package adds: Go's memstats under
// 1.x's names (Alloc, Frees, HeapAlloc, HeapIdle, HeapInUse, HeapObjects,
// HeapReleased, HeapSys, Lookups, Mallocs, NumGC, NumGoroutine,
// PauseTotalNs, Sys, TotalAlloc). Components report through
// stats.Reporter; Monitor.AddReporter registers them.
//
// # The _internal database
//
// With store-enabled, every store-interval (the first tick on a multiple
// of the interval, as 1.x waits for an even interval) the monitor writes
// one point per statistic: measurement = statistic name, tags = its tags
// plus "hostname", fields = its values, time = the tick truncated to the
// interval. The points go through the ordinary points writer into
// store-database, retention policy "monitor". When the database does not
// exist it is created first with that policy as its default: 7 days,
// replication 1, 1-day shard groups (1.x's MonitorRetentionPolicy*
// constants; the shard duration is the default for a 7-day policy). A
// database that exists is used as it is, as in 1.x: if it lacks a
// "monitor" policy the writes fail and are logged.
//
// Values become fields by type: signed and unsigned integers up to
// MaxInt64 become integer fields (so that a counter's field type never
// changes when it grows), larger unsigned ones unsigned fields, floats
// float fields (NaN and ±Inf are left out: line protocol cannot hold
// them), booleans and strings as they are, durations integer
// nanoseconds. Other types are left out.
//
// # SHOW STATS and SHOW DIAGNOSTICS
//
// StatsRows turns statistics into SHOW STATS rows, as 1.x's statement
// executor does: one row per statistic, named after it, with its tags, the
// value names sorted as columns and one row of values; FOR 'module' keeps
// the statistics of that name. Monitor.Diagnostics returns SHOW
// DIAGNOSTICS' sections, one row each, columns sorted: build (Branch,
// Build Time, Commit, Version), runtime (GOARCH, GOMAXPROCS, GOOS,
// version), network (hostname), system (PID, currentTime, started,
// uptime), and the configuration sections 1.x shows (config,
// config-coordinator, config-cqs, config-data, config-httpd, config-meta,
// config-monitor, config-precreator, config-retention, plus any the server
// adds, such as config-subscriber). Times are RFC 3339 strings, as 1.x's
// JSON renders them.
//
// # Prometheus exposition
//
// Collector exposes the statistics as Prometheus metrics, and
// MetricsHandler serves them at GET /metrics through client_golang's
// registry, next to the standard go_* and process_* metrics (as 1.x's
// /metrics does). The mapping:
//
//   - Metric name: "strata_" + statistic name + "_" + value name, each
//     converted from camelCase to snake_case ("pointsWrittenOK" →
//     "points_written_ok", "HeapInUse" → "heap_in_use") with every byte
//     outside [a-zA-Z0-9_] replaced by '_'. httpd's req becomes
//     strata_httpd_req_total.
//   - Type: gauge for values that go up and down — names starting with
//     "num" (numSeries, numFiles; but not runtime's NumGC), ending in
//     "Active", the byte sizes of what exists now (diskBytes, memBytes,
//     cachedBytes, …) and runtime's Alloc, HeapAlloc, HeapIdle, HeapInUse,
//     HeapObjects, HeapReleased, HeapSys, NumGoroutine, Sys. Everything
//     else is a counter, and its name gets the conventional "_total"
//     suffix.
//   - Labels: the statistic's tags, names converted like metric names.
//     Values are made valid UTF-8 and escaped as the format requires.
//   - Values: numbers as they are, booleans as 1 and 0; strings are left
//     out. A statistic repeated with the same tags keeps its first value
//     (the format forbids duplicate series).
//
// HELP names the statistic and value a metric came from. Two statistics or
// values whose names convert to the same metric name: the first seen wins.
package monitor
