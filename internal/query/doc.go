// Package query runs InfluxQL SELECT statements against storage, with
// InfluxDB 1.x's results: the same columns, series, ordering, value types,
// nulls, fills and error texts, so that a response encodes to the bytes
// 1.x sends. It also keeps the registry of running queries (SHOW QUERIES,
// KILL QUERY) and enforces the [coordinator] query limits.
//
// # Pipeline
//
// Engine.Select parses nothing (the caller hands it a parsed statement) and
// goes through these steps:
//
//  1. compile (compile.go) validates the statement with 1.x's rules and in
//     1.x's order, so an invalid statement fails with 1.x's message; it
//     extracts the time range (influxql.ConditionExpr), the GROUP BY time
//     interval and offset, and the calls.
//  2. plan (plan.go, condition.go) resolves databases and retention
//     policies, asks the ShardMapper for the shards of the time range,
//     expands regex sources and wildcards (influxql's RewriteFields over
//     the shards' field types and the index's tag keys), and splits the
//     WHERE clause into what the tag index answers (an index.Expr), field
//     conditions evaluated per row, and mixed conditions folded per series.
//  3. series (series.go) lists the matching series of every shard, groups
//     them by the GROUP BY tags into output series ("tag sets") and sorts
//     them: measurements by name, tag sets by their tag values (both
//     reversed by ORDER BY time DESC, as 1.x does), series by key.
//  4. execute (engine.go) runs the tag sets on a bounded pool of workers,
//     in order: a worker's rows travel to the emitter in batches over a
//     small channel, and the emitter always drains the earliest tag set, so
//     output order is kept and a worker that runs ahead waits.
//  5. A raw tag set (raw.go) is a k-way merge of its series' rows by time;
//     an aggregate tag set (agg.go) feeds each series' points to reducers
//     (reduce.go, reduce_select.go), one per call per GROUP BY time bucket,
//     then fills, zips the calls into rows and evaluates the expressions.
//  6. The emitter (emit.go) makes Results: one, or chunks of at most
//     ChunkSize rows with 1.x's partial flags.
//
// Reading goes through typed cursors (cursor.go): a column of one series
// is read shard after shard, opening the next shard only when the previous
// one is exhausted, and numeric values are cast when a shard stores the
// field with another type. Aggregates without a field condition read each
// input column once, run by run, vectorised; COUNT, SUM, MEAN, MIN, MAX
// and SPREAD take a block that lies wholly inside one bucket from its
// statistics without decoding it (aggregate pushdown). A lone FIRST (LAST)
// without GROUP BY time reads one batch per series, forwards (backwards).
// Conditions and auxiliary fields use the row path, which merges a series'
// columns by time.
//
// # Memory
//
// A query never holds its points. What it holds is:
//
//   - the keys of its series (bounded by max-select-series), in a shared
//     arena;
//   - for a raw tag set being merged, one decoded block (at most ~1000
//     points per field) per series of that tag set;
//   - for an aggregate tag set, one reducer per call per bucket with data:
//     a few words for COUNT, SUM, MEAN, MIN, MAX, FIRST, LAST, SPREAD and
//     COUNT of DISTINCT values; the bucket's points for MEDIAN, MODE,
//     PERCENTILE, STDDEV and INTEGRAL (integral keeps the whole tag set's
//     points, since a bucket's area depends on its neighbours); N points
//     for SAMPLE, TOP and BOTTOM (top and bottom with tag arguments keep one
//     point per tag combination); the distinct values for DISTINCT;
//   - rows in flight: at most 4 batches of 256 rows per worker, plus what
//     the emitter holds. Without chunking the emitter holds the whole
//     result (the caller asked for one Result); with chunking, one chunk.
//
// Empty buckets of a filled GROUP BY time range are generated while rows
// are emitted and cost nothing.
//
// # Cancellation and limits
//
// Every batch read from storage, and every series listed, checks the
// query's context, so KILL QUERY, query-timeout and a client that goes
// away stop a query within one batch of work, in planning as well as in
// execution. max-select-point counts points as they are read (a batch at a
// time), max-select-series counts series when they are listed, and
// max-select-buckets is checked before reading.
//
// # Differences from InfluxDB 1.x
//
// The expected outputs of the golden tests (testdata/*.test) were produced
// by a real InfluxDB 1.6 and are pinned byte for byte, fill rules and
// quirks included; TestRandomOracle compares random queries with a live
// 1.x. Strata differs where 1.x's answer is arbitrary or plainly wrong:
//
//   - Points of different series with the same timestamp in one output
//     series come in series-key order; 1.x's order there is an artefact of
//     its heap merge. Likewise, ties among equal values in MODE and
//     PERCENTILE (which point, hence which time) follow time order; 1.x
//     sorts them unstably.
//   - SLIMIT and SOFFSET apply to a measurement's tag sets across all
//     shards (in 1.x's index order); 1.x applies them per shard, which
//     gives inconsistent results when series differ between shards.
//   - TOP and BOTTOM with LIMIT choose among all points; 1.x applies the
//     LIMIT to the points it reads first and chooses among those.
//   - INTEGRAL keeps the tag order of every other function, is positive
//     when descending, and keeps its last bucket when other calls share the
//     row; 1.x reorders its series, negates descending areas, sometimes
//     drops that bucket, and returns nothing for PERCENTILE with a GROUP
//     BY time offset. Strata does none of that.
//   - A GROUP BY time offset combined with tz() keeps every bucket at the
//     same local wall-clock time across a DST change; 1.x shifts the
//     bucket after the change by the zone difference.
//   - Without a lower time bound and with max-select-buckets, the buckets
//     beyond the limit are not read at all; 1.x only leaves out the shards
//     that lie wholly beyond them.
//   - Float sums and means add each run of a series first (so that block
//     statistics give identical results), and STDDEV sums in time order;
//     1.x adds in its merge order. Results can differ in the last bits.
//   - SAMPLE draws from a generator seeded by the statement and the clock.
//   - A field condition never matches a point that lacks the field, even
//     "f = false"; influxql's evaluator would treat the missing value as
//     false there. This is what 1.6 does; later 1.x releases may differ.
//
// Transformations (DERIVATIVE, MOVING_AVERAGE, math functions, …),
// subqueries, SELECT INTO and EXPLAIN are not run yet; they fail with
// "... is not supported yet".
package query
