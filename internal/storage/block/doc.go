// Package block holds the typed value arrays of the storage engine and the
// encoding of one data block.
//
// An Array is a time-sorted column of one field of one series: parallel
// slices of timestamps and values. The cache, the data files, compaction
// and the query cursors all move data as Arrays, so the merge, dedup and
// range-cutting operations live here once, generic over the five value
// types, instead of being generated per type.
//
// A block is the unit of a data file: a type byte, then the timestamps and
// the values, each encoded by package codec. A block is self-describing
// (its type and its point count can be read without the index), so that a
// damaged index can still be diagnosed and a block copied between files
// unchanged. Decoders check what they read and return an error wrapping
// ErrCorrupt on any short, inconsistent or hostile input; they never panic.
//
// Stats summarise a block so that COUNT, SUM, MIN, MAX, MEAN, FIRST and
// LAST over whole blocks can be answered from the index without decoding.
package block
