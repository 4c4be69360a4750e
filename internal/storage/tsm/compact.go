package tsm

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/block"
)

// CompactResult counts what a compaction did.
type CompactResult struct {
	Keys          int   // keys written
	BlocksCopied  int   // blocks copied unchanged, without decoding
	BlocksDecoded int   // input blocks decoded to be merged, cut or re-chunked
	BlocksDropped int   // input blocks dropped unread: wholly deleted or of a replaced type
	BlocksWritten int   // blocks written, copied ones included
	PointsWritten int64 // points written, copied ones included
}

// Compact merges inputs (ordered oldest → newest) into w; see
// CompactWithResult.
func Compact(ctx context.Context, w *Writer, inputs []*Reader, limit func(n int)) error {
	_, err := CompactWithResult(ctx, w, inputs, limit)
	return err
}

// CompactWithResult merges inputs (ordered oldest → newest) into w, which
// it does not close:
//
//   - every key of every input is written once, keys in order;
//   - a key's points are merged in time order; where several inputs hold a
//     time, the newest input's value wins;
//   - tombstones are applied: a tombstone of input i deletes from input i
//     and from every older input (it was written after them), never from a
//     newer one; a key left without points is not written;
//   - if inputs disagree on a key's type (possible only after a field was
//     deleted and written again with another type), the newest input's type
//     wins and blocks of other types are dropped;
//   - output blocks hold at most MaxPointsPerBlock points: blocks that are
//     not full are decoded and re-chunked with their neighbours, and a full
//     block that overlaps no other input's data and no tombstone is copied
//     without decoding.
//
// It checks ctx between keys and calls limit(n) (when not nil) before
// writing each block of n bytes, to throttle the disk. Tombstones are read
// key by key: one added to an input while Compact runs is applied only if
// its key has not been merged yet, so the engine must re-apply deletes that
// race with a compaction to its output (or discard the output).
func CompactWithResult(ctx context.Context, w *Writer, inputs []*Reader, limit func(n int)) (CompactResult, error) {
	c := compactor{w: w, inputs: inputs, limit: limit}
	its := make([]*Iterator, len(inputs))
	live := make([]bool, len(inputs))
	c.entryBufs = make([][]IndexEntry, len(inputs))
	for i, r := range inputs {
		its[i] = r.Seek(nil)
		if live[i] = its[i].Next(); !live[i] && its[i].Err() != nil {
			return c.res, its[i].Err()
		}
	}
	var key []byte
	for {
		if err := ctx.Err(); err != nil {
			return c.res, err
		}
		least := -1
		for i := range its {
			if live[i] && (least < 0 || bytes.Compare(its[i].Key(), its[least].Key()) < 0) {
				least = i
			}
		}
		if least < 0 {
			return c.res, nil
		}
		key = append(key[:0], its[least].Key()...)
		c.srcs = c.srcs[:0]
		for i, it := range its {
			if !live[i] || !bytes.Equal(it.Key(), key) {
				continue
			}
			es, err := it.Entries(c.entryBufs[i])
			if err != nil {
				return c.res, err
			}
			c.entryBufs[i] = es
			c.srcs = append(c.srcs, source{input: i, typ: it.Type(), entries: es})
			if live[i] = it.Next(); !live[i] && it.Err() != nil {
				return c.res, it.Err()
			}
		}
		if err := c.mergeKey(key); err != nil {
			return c.res, err
		}
	}
}

// source is one input's share of the key being merged.
type source struct {
	input   int
	typ     models.FieldType
	entries []IndexEntry
	tomb    []TimeRange // ranges deleted from this input's data, coalesced
}

type compactor struct {
	w         *Writer
	inputs    []*Reader
	limit     func(int)
	res       CompactResult
	srcs      []source
	entryBufs [][]IndexEntry
	scratch   []byte
	times     []int64
	// Per-type merge buffers, reused across keys.
	f typedBufs[float64]
	i typedBufs[int64]
	u typedBufs[uint64]
	b typedBufs[bool]
	s typedBufs[string]
}

type typedBufs[T block.Value] struct {
	out  block.Array[T]
	curs []cursor[T]
}

// mergeKey writes one key from c.srcs (ascending input order).
func (c *compactor) mergeKey(key []byte) error {
	anyTombs := false
	for _, r := range c.inputs {
		anyTombs = anyTombs || r.HasTombstones()
	}
	if anyTombs {
		// A tombstone of input j applies to inputs 0..j: accumulate from
		// the newest input down.
		var acc []TimeRange
		k := len(c.srcs) - 1
		for j := len(c.inputs) - 1; j >= 0 && k >= 0; j-- {
			if ts := c.inputs[j].TombstonesFor(key); len(ts) > 0 {
				acc = coalesce(append(acc, ts...))
			}
			if c.srcs[k].input == j {
				c.srcs[k].tomb = slices.Clone(acc)
				k--
			}
		}
	}
	// Drop blocks that are wholly deleted, then settle the key's type.
	mixed := false
	for k := range c.srcs {
		s := &c.srcs[k]
		if len(s.tomb) > 0 {
			kept := s.entries[:0]
			for _, e := range s.entries {
				if covered(s.tomb, e.MinTime, e.MaxTime) {
					c.res.BlocksDropped++
					continue
				}
				kept = append(kept, e)
			}
			s.entries = kept
		}
		mixed = mixed || s.typ != c.srcs[0].typ
	}
	typ := models.Unknown
	for k := len(c.srcs) - 1; k >= 0; k-- {
		s := &c.srcs[k]
		if len(s.entries) == 0 {
			continue
		}
		if typ == models.Unknown {
			// The newest input with points left decides. Only when the
			// inputs disagree is it worth decoding to make sure the points
			// left are not all deleted by scattered tombstones.
			if mixed {
				live, err := c.hasPoints(s)
				if err != nil {
					return err
				}
				if !live {
					c.res.BlocksDropped += len(s.entries)
					s.entries = nil
					continue
				}
			}
			typ = s.typ
		} else if s.typ != typ {
			c.res.BlocksDropped += len(s.entries)
			s.entries = nil
		}
	}
	var err error
	switch typ {
	case models.Unknown:
		return nil
	case models.Float:
		err = mergeTyped(c, &c.f, key, typ)
	case models.Integer:
		err = mergeTyped(c, &c.i, key, typ)
	case models.Unsigned:
		err = mergeTyped(c, &c.u, key, typ)
	case models.Boolean:
		err = mergeTyped(c, &c.b, key, typ)
	case models.String:
		err = mergeTyped(c, &c.s, key, typ)
	}
	return err
}

// hasPoints reports whether any point of s survives its tombstones.
func (c *compactor) hasPoints(s *source) (bool, error) {
	r := c.inputs[s.input]
	for _, e := range s.entries {
		if !overlaps(s.tomb, e.MinTime, e.MaxTime) {
			return true, nil
		}
		blk, err := r.ReadBlock(e)
		if err != nil {
			return false, err
		}
		if c.times, err = block.DecodeTimes(blk, c.times); err != nil {
			return false, r.corrupt(int64(e.Offset)+crcSize, err)
		}
		for _, t := range c.times {
			if !overlaps(s.tomb, t, t) {
				return true, nil
			}
		}
	}
	return false, nil
}

// cursor walks one source's blocks, decoding them only when needed.
type cursor[T block.Value] struct {
	src *source
	r   *Reader
	pos int            // next entry not yet decoded or copied
	arr block.Array[T] // the decoded block, tombstones applied
	i   int            // next point of arr
}

// head returns the cursor's next time: its next decoded point, or else the
// first time of its next block (isBlock).
func (cu *cursor[T]) head() (t int64, ok, isBlock bool) {
	if cu.i < len(cu.arr.Times) {
		return cu.arr.Times[cu.i], true, false
	}
	if cu.pos < len(cu.src.entries) {
		return cu.src.entries[cu.pos].MinTime, true, true
	}
	return 0, false, false
}

func mergeTyped[T block.Value](c *compactor, bufs *typedBufs[T], key []byte, typ models.FieldType) error {
	curs := bufs.curs[:0]
	for k := range c.srcs {
		s := &c.srcs[k]
		if len(s.entries) == 0 {
			continue
		}
		// Reuse the decode buffers of an earlier key where there is one.
		var cu cursor[T]
		if len(curs) < cap(curs) {
			cu = curs[:len(curs)+1][len(curs)]
		}
		cu.src, cu.r, cu.pos, cu.i = s, c.inputs[s.input], 0, 0
		cu.arr.Reset()
		curs = append(curs, cu)
	}
	bufs.curs = curs
	out := &bufs.out
	out.Reset()
	blocksBefore := c.res.BlocksWritten

	for {
		// One pass finds the cursor with the earliest head and the earliest
		// head of the others. On a tie an undecoded block goes first, so
		// that every point at that time is decoded before one is chosen.
		best, bestT, bestBlock := -1, int64(0), false
		other := int64(math.MaxInt64)
		for k := range curs {
			t, ok, isBlock := curs[k].head()
			if !ok {
				continue
			}
			if best < 0 || t < bestT || (t == bestT && isBlock && !bestBlock) {
				if best >= 0 {
					other = min(other, bestT)
				}
				best, bestT, bestBlock = k, t, isBlock
			} else {
				other = min(other, t)
			}
		}
		if best < 0 {
			break
		}
		cu := &curs[best]
		if bestBlock {
			e := cu.src.entries[cu.pos]
			cu.pos++
			if e.Stats.Count >= MaxPointsPerBlock && e.MaxTime < other && !overlaps(cu.src.tomb, e.MinTime, e.MaxTime) {
				if out.Len() > 0 {
					if err := writeOut(c, key, out); err != nil {
						return err
					}
				}
				if err := c.copyBlock(cu.r, key, typ, e); err != nil {
					return err
				}
				continue
			}
			if err := decodeBlock(c, cu.r, e, &cu.arr); err != nil {
				return err
			}
			for _, tr := range cu.src.tomb {
				if tr.Max >= e.MinTime && tr.Min <= e.MaxTime {
					cu.arr.Exclude(tr.Min, tr.Max)
				}
			}
			cu.i = 0
			continue
		}
		if bestT < other {
			// A run of this cursor precedes everything else: emit it whole.
			n := 1
			if cu.i+1 < len(cu.arr.Times) && cu.arr.Times[cu.i+1] < other {
				n = runBelow(cu.arr.Times[cu.i:], other)
			}
			if err := emit(c, key, out, cu.arr.Times[cu.i:cu.i+n], cu.arr.Values[cu.i:cu.i+n]); err != nil {
				return err
			}
			cu.i += n
			continue
		}
		// Several cursors hold bestT, all decoded: the newest input wins and
		// every one of them moves past it.
		win := best
		for k := range curs {
			if t, ok, _ := curs[k].head(); ok && t == bestT {
				if curs[k].src.input > curs[win].src.input {
					win = k
				}
				curs[k].i++
			}
		}
		w := &curs[win]
		if err := emit(c, key, out, w.arr.Times[w.i-1:w.i], w.arr.Values[w.i-1:w.i]); err != nil {
			return err
		}
	}
	if out.Len() > 0 {
		if err := writeOut(c, key, out); err != nil {
			return err
		}
	}
	if c.res.BlocksWritten > blocksBefore {
		c.res.Keys++
	}
	return nil
}

// runBelow returns how many leading times are below t.
func runBelow(times []int64, t int64) int {
	n, _ := slices.BinarySearch(times, t)
	return n
}

// emit appends points to out, writing a block each time out fills up.
func emit[T block.Value](c *compactor, key []byte, out *block.Array[T], ts []int64, vs []T) error {
	if len(ts) == 1 && out.Len() < MaxPointsPerBlock-1 {
		out.Times, out.Values = append(out.Times, ts[0]), append(out.Values, vs[0]) // the common case, inlined
		return nil
	}
	for len(ts) > 0 {
		n := min(len(ts), MaxPointsPerBlock-out.Len())
		out.Times = append(out.Times, ts[:n]...)
		out.Values = append(out.Values, vs[:n]...)
		ts, vs = ts[n:], vs[n:]
		if out.Len() == MaxPointsPerBlock {
			if err := writeOut(c, key, out); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeOut encodes out as one block, writes it and empties out.
func writeOut[T block.Value](c *compactor, key []byte, out *block.Array[T]) error {
	var err error
	if c.scratch, err = block.Encode(c.scratch[:0], *out); err != nil {
		return fmt.Errorf("BUG: compaction produced an invalid block for key %q: %w", key, err)
	}
	if c.limit != nil {
		c.limit(crcSize + len(c.scratch))
	}
	if err := c.w.WriteBlock(key, out.MinTime(), out.MaxTime(), block.TypeOf[T](), block.ComputeStats(*out), c.scratch); err != nil {
		return err
	}
	c.res.BlocksWritten++
	c.res.PointsWritten += int64(out.Len())
	out.Reset()
	return nil
}

// copyBlock writes an input block unchanged.
func (c *compactor) copyBlock(r *Reader, key []byte, typ models.FieldType, e IndexEntry) error {
	blk, err := r.ReadBlock(e)
	if err != nil {
		return err
	}
	if bt, err := block.BlockType(blk); err != nil || bt != typ {
		return r.corrupt(int64(e.Offset)+crcSize, errAt("block of key %q holds type %v (%v), index says %v", key, bt, err, typ))
	}
	if c.limit != nil {
		c.limit(int(e.Size))
	}
	if err := c.w.WriteBlock(key, e.MinTime, e.MaxTime, typ, e.Stats, blk); err != nil {
		return err
	}
	c.res.BlocksCopied++
	c.res.BlocksWritten++
	c.res.PointsWritten += int64(e.Stats.Count)
	return nil
}

// decodeBlock reads and decodes an input block into dst, checking it
// against its index entry: the merge relies on the entry's times.
func decodeBlock[T block.Value](c *compactor, r *Reader, e IndexEntry, dst *block.Array[T]) error {
	blk, err := r.ReadBlock(e)
	if err != nil {
		return err
	}
	if err := block.Decode(blk, dst); err != nil {
		return r.corrupt(int64(e.Offset)+crcSize, err)
	}
	if dst.Len() == 0 || dst.MinTime() != e.MinTime || dst.MaxTime() != e.MaxTime {
		n := dst.Len()
		dst.Reset()
		return r.corrupt(int64(e.Offset)+crcSize, errAt("block of %d points does not span %d..%d as its index entry says", n, e.MinTime, e.MaxTime))
	}
	c.res.BlocksDecoded++
	return nil
}
