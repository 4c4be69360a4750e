// Package continuousquery runs the continuous queries of every database,
// as InfluxDB 1.x's continuous query service does ([continuous_queries]
// enabled, run-interval, log-enabled, query-stats-enabled).
//
// # When a query runs, and over what
//
// Every run-interval the service looks at each query (in meta's order) and
// runs those that are due, one after the other. A query is due when its
// last run plus RESAMPLE EVERY (default: its GROUP BY interval) has
// passed, or at once the first time the service sees it. Its window is
// computed as in 1.x (see schedule.go): for GROUP BY time(1h) the run at
// 8:00 covers [7:00, 8:00); an offset shifts both (time(1h, 15m) runs at
// 8:15 over [7:15, 8:15)); RESAMPLE EVERY re-runs the current interval
// more often; RESAMPLE FOR widens the window to recompute older
// intervals. A window starts where the previous run's ended, so runs
// missed while the service was busy are covered by the next one.
//
// The query's SELECT ... INTO is run through the statement executor (the
// same path as a client's query, shown by SHOW QUERIES) with its time
// range replaced by the window, as influxql's SetTimeRange does, and with
// the privileges of the server itself. The executor's result for INTO
// says how many points were written.
//
// # Beyond 1.x: catching up after downtime
//
// 1.x keeps the last runs in memory, so a restart forgets them and the
// windows that passed while the server was down are never computed. This
// service saves them (Options.StatePath: a small JSON file, replaced
// atomically after each pass that ran something) and, after a restart,
// the next run of each query covers everything since its last run, like
// any missed run. That is bounded: a run covers at most Config.MaxCatchUp
// GROUP BY intervals (default 1000; older windows are skipped and logged),
// and is executed as queries of at most 100 intervals each, oldest first.
// A query dropped and created again under the same name, with another
// text, starts afresh. The target retention policy's own duration still
// applies: points older than it are dropped by the write path.
//
// # Statistics and logs
//
// The "cq" statistic counts queryOk and queryFail (1.x's names): runs that
// executed without, and with, an error. With log-enabled each run logs its
// window, the points written and its duration. With query-stats-enabled
// each run is handed to Options.OnQueryStats (the server writes it as a
// "cq_query" point into the monitor's database, as 1.x does).
//
// A query without an aggregate is accepted by CREATE (as in 1.x) but
// fails every time it is due, with 1.x's error.
package continuousquery
