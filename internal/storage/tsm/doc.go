// Package tsm reads and writes the immutable data files of a shard.
//
// A data file holds, for each key (the engine uses
// models.AppendFieldKey(seriesKey, field)), blocks of up to
// MaxPointsPerBlock points sorted by time, each block preceded by its
// CRC32C; then an index mapping every key, in ascending byte order, to its
// blocks' time ranges, locations and statistics (block.Stats); then a
// fixed footer that locates the index and holds its checksum. The exact
// bytes are in docs/format/tsm.md.
//
// Concepts and invariants:
//
//   - Files are written once by a Writer (flush of the cache, or Compact)
//     and never modified; deletes after the fact go to a tombstone file
//     beside the data file (AddTombstones), which readers expose but do not
//     apply: the engine filters, and compaction removes the data for good.
//   - A Reader maps the file and decodes nothing up front beyond the
//     footer: the index is checked by one CRC32C pass at Open, and lookups
//     binary-search a table of restart points (every 16th key is stored
//     whole, the keys between hold only their differing suffix). Open is
//     therefore fast and costs no heap per key.
//   - All of a key's blocks have one type. Within a key, blocks ascend in
//     time and do not overlap. Blocks are stored in index order and tile
//     the data region exactly, which Verify checks.
//   - Reading never trusts the file: every length, offset and count is
//     checked before use, and damage is reported as a *CorruptionError with
//     the file's path and the byte offset, never as a panic or an
//     out-of-range read.
//
// Caveats: the Writer keeps the index in memory until Close (a few bytes per
// block plus the compressed keys). A Reader's slices point into the
// mapping, so the engine must not Close a Reader while queries still use
// its blocks.
package tsm
