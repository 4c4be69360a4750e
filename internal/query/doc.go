// Package query runs InfluxQL SELECT statements (with transformations,
// subqueries and INTO) and EXPLAIN [ANALYZE] against storage, with
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
//     (reduce.go, reduce_select.go), one per call per GROUP BY time bucket.
//     Each top-level function call of the fields is then an output stream
//     (1.x's call iterator): an aggregate's points bucket by bucket, filled
//     (agg_output.go), optionally passed through transformations
//     (transform*.go, holtwinters.go), or a transformation of a field's
//     raw points merged across the tag set's series (stream_raw.go). OFFSET
//     and LIMIT apply to each stream, as in 1.x. The zipper (zip.go) lines
//     the streams up by time into rows, fills again where a stream has no
//     point, and evaluates the expressions, math functions (mathfn.go)
//     included.
//  6. The emitter (emit.go) makes Results: one, or chunks of at most
//     ChunkSize rows with 1.x's partial flags.
//
// Transformations over an aggregate read one GROUP BY interval before the
// range (after it when descending) for each transformation in the chain
// that needs a predecessor (all but cumulative_sum and holt_winters), as
// 1.x does; a call read over such a longer range is a call of its own,
// since its first bucket holds other points. Holt-winters collects its
// input and fits the model when the input ends (16 Nelder-Mead searches,
// which take seconds for thousands of buckets, and stop when the query is
// cancelled).
//
// A subquery (subquery.go) runs before the statement around it, with the
// options 1.x derives (same direction, intersected time range, inherited
// interval, outer GROUP BY tags added); its output series become the
// series of virtual measurements, read in memory. SELECT … INTO (into.go)
// turns the rows into points and writes them through the PointsWriter in
// batches of 10,000 as they come. EXPLAIN and EXPLAIN ANALYZE (explain.go)
// print 1.x's shapes with Strata's stages and counters.
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
//   - Math functions in conditions are evaluated whatever their arguments;
//     1.6 matches nothing for abs(v - 3) < 2 and everything for
//     abs(-3) < v. (log() still takes one argument in a condition, as in
//     every 1.x.)
//   - A subquery's series are merged by time, series by series at equal
//     times, also when descending; 1.6's order there is a heap artefact.
//     Rows of an aggregating subquery grouped by tags the outer statement
//     does not group by come merged and in time order (1.6 returns them
//     unmerged and out of order; fixed in 1.7.8, influxdb#13441).
//   - Holt-winters refuses a season longer than the data it can place on
//     the grid (1.x indexes past its data there).
//   - EXPLAIN shows no storage estimates (CACHED VALUES, NUMBER OF FILES,
//     NUMBER OF BLOCKS, SIZE OF BLOCKS); EXPLAIN ANALYZE counts what was
//     read per shard (cursors, blocks decoded, blocks answered from
//     statistics, points) instead of 1.x's per-iterator byte sizes.
//   - A subquery's result is held in memory while the outer statement
//     runs; 1.x streams it. Its reads count against max-select-point
//     separately from the outer statement's.
//
// Quirks of 1.x that Strata keeps on purpose: abs(), floor(), ceil() and
// round() return integers unchanged (abs(-5i) is -5); math functions are
// typed like their argument in a subquery (sqrt(<integer>) is read as an
// integer outside); without a lower time bound a transformation of an
// aggregate returns nothing when ascending (1.x's range start wraps
// around); an aggregate without GROUP BY time over a subquery returns
// nothing when the first inner row lies before the query's start; LIMIT
// counts the points of each call, not rows; holt-winters with a string
// input says "unsupported elapsed iterator type".
package query
