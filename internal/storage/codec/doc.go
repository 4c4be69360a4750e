// Package codec encodes and decodes the columns of a data block: timestamps,
// floats, integers, unsigned integers, booleans and strings.
//
// Every function is pure: no I/O, no package state, safe for concurrent use.
// Encoders append to dst and return it; decoders append to dst (pass dst[:0]
// to reuse it) and return an error wrapping [ErrCorrupt], never a panic, on
// input that is short, corrupt or hostile. A decoder must be given exactly
// one encoded column: trailing bytes are corruption too.
//
// # Column layout
//
// Every column starts with a header byte and the value count:
//
//	header byte   high nibble: encoding; low nibble: encoding parameters
//	uvarint       number of values, at most MaxValues
//	payload       depends on the encoding
//
// The encoder tries the encodings that can represent the column and keeps
// the smallest, so decoders dispatch on the high nibble. The byte layout of
// every encoding is drawn in docs/format/codec.md.
//
// # The 64-bit machinery
//
// Timestamps, integers, unsigned integers and the mantissas of decimal
// floats are all columns of 64-bit words and share one encoder. It first
// transforms the column into small non-negative numbers, then packs them:
//
//   - transforms: run-length (first value and a constant step), delta
//     (successive differences minus a base, optionally zig-zagged, divided by
//     their greatest common divisor), frame of reference (offsets above a
//     constant or above a line, divided by their greatest common divisor), or
//     raw words;
//   - packings: simple8b (Anh & Moffat's word-aligned packing, with two
//     zero-run selectors), fixed-width bit packing, or a length-limited
//     canonical Huffman code, either over the numbers themselves (small
//     ones, with an escape for the rest) or over their bit widths followed
//     by their low bits.
//
// The encoder sizes each candidate transform by the width of its numbers,
// packs the few narrowest, and keeps the smallest result. All arithmetic is
// modulo 2^64, so MinInt64, MaxInt64 and any overflowing difference
// round-trip exactly.
//
// # Floats
//
// Floats are stored bit-exactly: NaN payloads, ±Inf, -0 and subnormals
// round-trip, because nothing is a sentinel (InfluxDB's float codec used NaN
// as its end marker, so a stored NaN once corrupted blocks). Columns whose
// values are all short decimals (v == m / 10^e for integers m and a shared
// e ≤ 15) are stored as the integer column of m; the rest use the 64-bit
// machinery on their bit patterns or Gorilla XOR (Pelkonen et al., VLDB
// 2015), whichever is smaller.
//
// # Safety
//
// A decoder never allocates more than the input can describe: counts above
// MaxValues are rejected, and so are counts the payload cannot hold, except
// for run-length encodings where a few bytes legitimately describe many
// values. Compressed strings may expand at most a fixed ratio of their
// compressed size.
package codec
