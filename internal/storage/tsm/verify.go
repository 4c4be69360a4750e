package tsm

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/block"
	"github.com/stratadb/strata/internal/vfs"
)

// maxVerifyErrors bounds how many damaged blocks Verify lists.
const maxVerifyErrors = 100

// Verify checks a data file from end to end, for `strata inspect verify`:
// header, footer and index checksum (as Open does), then every index record
// (keys ascending, restart table, key count, entries in order), the blocks
// tiling the data region exactly, and every block (CRC, type, decoding,
// point count, first and last time, stats), and the tombstone file. Index
// damage stops the walk; damaged blocks are listed, up to 100, joined into
// one error. Every error is a *CorruptionError naming the file and offset.
func Verify(fsys vfs.FS, path string) error {
	r, err := Open(fsys, path)
	if err != nil {
		return err
	}
	defer r.Close()
	var errs []error
	next := uint64(headerSize) // where the next block must start
	minT, maxT := int64(math.MaxInt64), int64(math.MinInt64)
	var v verifier
	walkErr := r.Iterate(func(key []byte, typ models.FieldType, es []IndexEntry) error {
		for _, e := range es {
			if e.Offset != next {
				return r.corrupt(int64(e.Offset), errAt("block of key %q starts at %d, the previous one ended at %d", key, e.Offset, next))
			}
			next = e.Offset + uint64(e.Size)
			minT, maxT = min(minT, e.MinTime), max(maxT, e.MaxTime)
			if err := v.block(r, key, typ, e); err != nil {
				if errs = append(errs, err); len(errs) >= maxVerifyErrors {
					return errors.Join(errs...)
				}
			}
		}
		return nil
	})
	if walkErr != nil {
		return errors.Join(append(errs, walkErr)...)
	}
	if next != uint64(r.indexOff) {
		errs = append(errs, r.corrupt(int64(next), errAt("%d bytes between the last block and the index", uint64(r.indexOff)-next)))
	}
	if r.keyCount > 0 && (minT != r.minTime || maxT != r.maxTime) {
		errs = append(errs, r.corrupt(r.Size()-footerSize+24, errAt("footer says %d..%d, blocks span %d..%d", r.minTime, r.maxTime, minT, maxT)))
	}
	return errors.Join(errs...)
}

// verifier holds decode buffers reused across blocks.
type verifier struct {
	f block.Array[float64]
	i block.Array[int64]
	u block.Array[uint64]
	b block.Array[bool]
	s block.Array[string]
}

func (v *verifier) block(r *Reader, key []byte, typ models.FieldType, e IndexEntry) error {
	blk, err := r.ReadBlock(e)
	if err != nil {
		return err
	}
	var got block.Stats
	var first, last int64
	switch typ {
	case models.Float:
		got, first, last, err = check(blk, &v.f)
	case models.Integer:
		got, first, last, err = check(blk, &v.i)
	case models.Unsigned:
		got, first, last, err = check(blk, &v.u)
	case models.Boolean:
		got, first, last, err = check(blk, &v.b)
	case models.String:
		got, first, last, err = check(blk, &v.s)
	}
	at := int64(e.Offset) + crcSize
	if err != nil {
		return r.corrupt(at, fmt.Errorf("block of key %q: %w", key, err))
	}
	if first != e.MinTime || last != e.MaxTime {
		return r.corrupt(at, errAt("block of key %q spans %d..%d, index says %d..%d", key, first, last, e.MinTime, e.MaxTime))
	}
	if !sameStats(got, e.Stats, typ) {
		return r.corrupt(at, errAt("block of key %q has stats %+v, index says %+v", key, got, e.Stats))
	}
	return nil
}

func check[T block.Value](blk []byte, a *block.Array[T]) (block.Stats, int64, int64, error) {
	if err := block.Decode(blk, a); err != nil {
		return block.Stats{}, 0, 0, err
	}
	if a.Len() == 0 {
		return block.Stats{}, 0, 0, errAt("empty block")
	}
	return block.ComputeStats(*a), a.MinTime(), a.MaxTime(), nil
}

// sameStats compares stats; for floats any two NaNs are equal, since which
// NaN a sum yields depends on the hardware that computed it.
func sameStats(a, b block.Stats, typ models.FieldType) bool {
	if !b.HasLast {
		a.Last, a.HasLast = 0, false // a version 1 entry: nothing to compare
	}
	if typ != models.Float {
		return a == b
	}
	eq := func(x, y uint64) bool {
		return x == y || (math.IsNaN(math.Float64frombits(x)) && math.IsNaN(math.Float64frombits(y)))
	}
	return a.Count == b.Count && eq(a.Min, b.Min) && eq(a.Max, b.Max) && eq(a.Sum, b.Sum) &&
		a.HasLast == b.HasLast && a.Last == b.Last
}

// blockLast decodes a block and returns its last value's stats bits.
func blockLast(blk []byte, typ models.FieldType) (uint64, error) {
	var st block.Stats
	var err error
	switch typ {
	case models.Float:
		st, _, _, err = check(blk, &block.Array[float64]{})
	case models.Integer:
		st, _, _, err = check(blk, &block.Array[int64]{})
	case models.Unsigned:
		st, _, _, err = check(blk, &block.Array[uint64]{})
	case models.Boolean:
		st, _, _, err = check(blk, &block.Array[bool]{})
	default:
		return 0, fmt.Errorf("type %v has no last value statistic", typ)
	}
	return st.Last, err
}

// Dump prints a summary of the file, its tombstones and, per key, each
// block's location, time range and stats, for `strata inspect dump`. It
// reads the index only; Verify checks the blocks.
func Dump(w io.Writer, r *Reader) error {
	var err error
	printf := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, args...)
		}
	}
	printf("File: %s\n", r.Path())
	printf("Size: %d bytes (index %d bytes)\n", r.Size(), r.IndexSize())
	printf("Keys: %d\n", r.KeyCount())
	if r.KeyCount() > 0 {
		printf("Time range: %s .. %s\n", fmtTime(r.MinTime()), fmtTime(r.MaxTime()))
	}
	ts := r.Tombstones()
	printf("Tombstones: %d\n", len(ts))
	for _, t := range ts {
		kind := "key"
		if t.Prefix {
			kind = "prefix"
		}
		printf("  %s %s: %s .. %s\n", kind, fmtKey(t.Key), fmtTime(t.Min), fmtTime(t.Max))
	}
	if err != nil {
		return err
	}
	blocks, points := 0, int64(0)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	if err := r.Iterate(func(key []byte, typ models.FieldType, es []IndexEntry) error {
		printf("\nKey %s: %s, %d blocks\n", fmtKey(key), typ, len(es))
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "  Block\tOffset\tSize\tPoints\tMin time\tMax time\tMin\tMax\tSum\n")
		for i, e := range es {
			lo, hi, sum := fmtStats(typ, e.Stats)
			fmt.Fprintf(tw, "  %d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", i, e.Offset, e.Size, e.Stats.Count,
				fmtTime(e.MinTime), fmtTime(e.MaxTime), lo, hi, sum)
			blocks++
			points += int64(e.Stats.Count)
		}
		return tw.Flush()
	}); err != nil {
		return err
	}
	printf("\nTotal: %d keys, %d blocks, %d points\n", r.KeyCount(), blocks, points)
	return err
}

// fmtKey shows a key made by models.AppendFieldKey as series and field,
// and any other key quoted.
func fmtKey(key []byte) string {
	series, field, err := models.SplitFieldKey(key)
	if err != nil || !utf8.Valid(series) || !utf8.Valid(field) || strings.ContainsAny(string(key[2:]), "\x00\n\t") {
		return fmt.Sprintf("%q", key)
	}
	if len(field) == 0 {
		return string(series) // a series prefix (prefix tombstones)
	}
	return fmt.Sprintf("%s field %s", series, field)
}

func fmtTime(t int64) string {
	return fmt.Sprintf("%d (%s)", t, time.Unix(0, t).UTC().Format(time.RFC3339Nano))
}

func fmtStats(typ models.FieldType, st block.Stats) (lo, hi, sum string) {
	switch typ {
	case models.Float:
		l, h, s := st.Float()
		return fmt.Sprint(l), fmt.Sprint(h), fmt.Sprint(s)
	case models.Integer:
		l, h, s := st.Integer()
		return fmt.Sprint(l), fmt.Sprint(h), fmt.Sprint(s)
	case models.Unsigned:
		return fmt.Sprint(st.Min), fmt.Sprint(st.Max), fmt.Sprint(st.Sum)
	}
	return "-", "-", "-"
}
