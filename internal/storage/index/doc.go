// Package index is the series index of one database: the series file,
// which maps series keys to 32-bit ids durably, and the inverted tag index
// (measurement → tag key → tag value → series ids) that SELECT planning and
// SHOW MEASUREMENTS / SERIES / TAG KEYS / TAG VALUES read, without ever
// touching data files.
//
// # Write path
//
// The engine calls SeriesID for every point's key: one xxhash, one stripe
// read lock, a probe of an open-addressing table, and a comparison of the
// key with the stored series part by part — no allocation. Only new series
// take CreateSeries: under a short lock they are validated, checked
// against max-series-per-database and max-values-per-tag, given the next
// id and appended to the open batch; then whoever first takes the commit
// lock writes the whole batch with one write and one fsync (group commit),
// applies it to memory, and wakes everyone waiting on it. Concurrent
// creators of one key find it pending and get the same id. If the write or
// the fsync fails, the file is truncated back to its last durable size, so
// nothing of the batch becomes visible, now or after a restart.
//
// # Memory
//
// Memory per series is a design target (≤ 300 bytes at a million series),
// so the index keeps no key per series and no Go string or map entry per
// tag:
//   - A tag value is stored once per measurement and key, length-prefixed,
//     in an append-only byte arena addressed by 32-bit offsets.
//   - A series is a record in a second arena: its measurement's index and,
//     per tag, the tag key's index and the value's index (uvarints, ~25
//     bytes for ten tags). SeriesKey rebuilds the key from it.
//   - id → record offset is a []uint32; key hash → id is a striped table of
//     8-byte slots; value → index is a per-key table of 4-byte slots.
//   - A value with one series keeps that id inline (high-cardinality tags
//     such as hostnames cost 4 bytes, not a bitmap); others keep a roaring
//     bitmap.
//
// # Concurrency
//
// Every change happens under one commit lock. SeriesID reads the arenas and
// append-only vectors without locks: each element is written before its
// index is published through a stripe lock or an atomic, and never changes
// afterwards (dropping a series zeroes its id → record entry, atomically).
// Readers of the inverted index take a measurement's read lock; writers
// take it briefly to add postings. Lock order: commit → create → directory
// → measurement → sort cache; a stripe lock is always taken alone.
//
// # Files
//
// The series file (series.log) is append-only: series records (id,
// measurement, tags) and tombstones, each framed with a length and a
// CRC-32C. The snapshot (index.snap) holds the whole in-memory index; Open
// loads it and replays only the series file after the offset it covers,
// or replays the whole series file when there is no usable snapshot. A
// snapshot is written in the background when the series file has grown by
// max(Options.SnapshotBytes, half the last snapshot) and at Close. A torn
// last record of the series file is truncated at Open and logged; damage
// elsewhere is a *CorruptionError naming the file and offset. The byte
// layouts are in docs/format/index.md.
//
// # Differences from InfluxDB 1.x
//
// The limit errors have 1.x's wording and are checked per database (1.x's
// default tsi1 index checks max-values-per-tag per shard). Dropped series leave their records
// and tag values in memory (hidden; a value is revived if a series uses it
// again) until an Open finds them to outnumber the live series and
// rebuilds the index from the series file without them. The series file
// keeps their records until the database is dropped. Ids are never
// reused, and are limited to 32 bits.
package index
