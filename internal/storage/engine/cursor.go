package engine

import (
	"math"
	"slices"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/block"
	"github.com/stratadb/strata/internal/storage/index"
	"github.com/stratadb/strata/internal/storage/tsm"
)

// Batch is what a cursor returns: either values (Array) or, when the caller
// asked for statistics and a whole block lies inside the range untouched
// by any other data, that block's statistics without decoding it.
type Batch[T block.Value] struct {
	block.Array[T]
	// Stats is set instead of Array for a block answered from statistics;
	// MinTime and MaxTime are then the block's first and last timestamps.
	Stats            *block.Stats
	MinTime, MaxTime int64
}

// chunk is one source of values for a cursor: a data-file block or a slice
// of cached values.
type chunk[T block.Value] struct {
	min, max int64
	prio     int // higher is newer: wins for equal timestamps
	file     *dataFile
	entry    tsmEntry
	tombs    []tsm.TimeRange
	cached   block.Array[T]
	isCache  bool
}

// Cursor iterates the values of one field of one series over a time range,
// in time order, merging the data files, pending snapshots and the cache;
// the newest write wins for equal timestamps and tombstoned ranges are
// skipped. It holds references to the data files it reads until Close.
type Cursor[T block.Value] struct {
	key       []byte
	min, max  int64
	ascending bool
	files     []*dataFile
	chunks    []chunk[T] // ordered by min (ascending) or max (descending)
	next      int
	err       error
	// buf holds the batch of a group of one chunk (the common case),
	// reused from call to call: Next's result is valid until the next call.
	// It comes from the shard's pool at the first use and goes back at
	// Close.
	buf  *block.Array[T]
	pool *sync.Pool
	// chunkPool takes chunks back at Close.
	chunkPool *sync.Pool
	// newestOnly: the next group may be answered by its newest value
	// alone, from the index entry (WantNewestOnly); skipNewest: that value
	// was returned, and the group's decode must drop it.
	newestOnly, skipNewest bool
	newestTime             int64 // of the value returned alone
}

// WantNewestOnly tells a descending cursor that its caller probably needs
// only the newest value (ORDER BY time DESC LIMIT 1, as in lastpoint). If
// the newest block is a data-file block untouched by other data or
// tombstones whose index entry records its last value, the first Next
// returns that one value without decoding the block; the next Next returns
// the rest of the block, so a caller that wants more still reads it all.
func (c *Cursor[T]) WantNewestOnly() {
	c.newestOnly = !c.ascending
}

// cachedChunkSize splits cached values into chunks of block size, so that
// one wide cache range does not merge every file block at once.
const cachedChunkSize = tsm.MaxPointsPerBlock

// NewCursor opens a cursor over series id (whose key is seriesKey) and
// field, for times in [min, max].
func NewCursor[T block.Value](s *Shard, seriesKey []byte, id uint64, field string, min, max int64, ascending bool) *Cursor[T] {
	c := &Cursor[T]{
		key: models.AppendFieldKey(nil, seriesKey, []byte(field)),
		min: min, max: max, ascending: ascending,
		pool:      &s.arrays[block.TypeOf[T]()],
		chunkPool: &s.chunkLists[block.TypeOf[T]()],
	}
	if l, ok := c.chunkPool.Get().(*[]chunk[T]); ok {
		c.chunks = (*l)[:0]
	}
	s.mu.RLock()
	c.files = slices.Clone(s.mu.files)
	for _, f := range c.files {
		f.acquire()
	}
	caches := make([]*Cache, 0, len(s.mu.snapshots)+1)
	for _, p := range s.mu.snapshots {
		caches = append(caches, p.cache)
	}
	caches = append(caches, s.mu.cache)
	s.mu.RUnlock()

	want := block.TypeOf[T]()
	var entries []tsmEntry
	if l, ok := s.entryLists.Get().(*[]tsmEntry); ok {
		entries = *l
	}
	defer func() { s.entryLists.Put(&entries) }()
	// The chunks are appended in the cursor's order: for a descending
	// cursor the newest source first and each source's chunks from the
	// last. Sources rarely interleave in time, so the list is usually
	// ordered already and needs neither a reversal nor a sort.
	addFile := func(i int, f *dataFile) error {
		typ, es, err := f.r.Lookup(c.key, entries)
		entries = es
		if err != nil || typ != want || len(es) == 0 {
			return err
		}
		var tombs []tsm.TimeRange
		if f.r.HasTombstones() {
			tombs = f.r.TombstonesFor(c.key)
		}
		if cap(c.chunks) == 0 {
			c.chunks = make([]chunk[T], 0, len(es)+1)
		}
		for j := range es {
			e := &es[j]
			if !ascending {
				e = &es[len(es)-1-j]
			}
			if e.MaxTime < min || e.MinTime > max {
				continue
			}
			c.chunks = append(c.chunks, chunk[T]{min: e.MinTime, max: e.MaxTime, prio: i, file: f, entry: *e, tombs: tombs})
		}
		return nil
	}
	addCache := func(i int, cache *Cache) {
		arr, ok := readArray[T](cache, id, field, want, min, max)
		if !ok {
			return
		}
		n := (arr.Len() + cachedChunkSize - 1) / cachedChunkSize
		for k := range n {
			if !ascending {
				k = n - 1 - k
			}
			lo := k * cachedChunkSize
			hi := min64(lo+cachedChunkSize, arr.Len())
			part := block.Array[T]{Times: arr.Times[lo:hi], Values: arr.Values[lo:hi]}
			c.chunks = append(c.chunks, chunk[T]{
				min: part.Times[0], max: part.Times[part.Len()-1], prio: len(c.files) + i, cached: part, isCache: true,
			})
		}
	}
	if ascending {
		for i, f := range c.files {
			if c.err = addFile(i, f); c.err != nil {
				return c
			}
		}
		for i, cache := range caches {
			addCache(i, cache)
		}
	} else {
		for i := len(caches) - 1; i >= 0; i-- {
			addCache(i, caches[i])
		}
		for i := len(c.files) - 1; i >= 0; i-- {
			if c.err = addFile(i, c.files[i]); c.err != nil {
				return c
			}
		}
	}
	// A damaged index record (addFile's error) fails the query, naming the
	// file and offset, rather than silently missing the key's data.
	// Sorting the wide chunks is costly, so it is done only when sources
	// interleave. Ties need no particular order: overlapping chunks are
	// merged by priority.
	if ascending {
		if !slices.IsSortedFunc(c.chunks, func(a, b chunk[T]) int { return cmpInt(a.min, b.min) }) {
			slices.SortStableFunc(c.chunks, func(a, b chunk[T]) int { return cmpInt(a.min, b.min) })
		}
	} else if !slices.IsSortedFunc(c.chunks, func(a, b chunk[T]) int { return cmpInt(b.max, a.max) }) {
		slices.SortStableFunc(c.chunks, func(a, b chunk[T]) int { return cmpInt(b.max, a.max) })
	}
	return c
}

func min64(a, b int) int { return min(a, b) }

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Next returns the next batch; an empty batch (Len 0, Stats nil) means the
// end. With wantStats, a block that lies wholly in the range, overlaps no
// other source and has no tombstone is returned as statistics only. The
// returned arrays are valid until the next call.
func (c *Cursor[T]) Next(wantStats bool) (Batch[T], error) {
	for c.err == nil && c.next < len(c.chunks) {
		// A group: this chunk and every chunk overlapping it, transitively.
		g0 := c.next
		lo, hi := c.chunks[g0].min, c.chunks[g0].max
		c.next++
		for c.next < len(c.chunks) {
			ch := &c.chunks[c.next]
			if c.ascending && ch.min > hi || !c.ascending && ch.max < lo {
				break
			}
			lo, hi = min(lo, ch.min), max(hi, ch.max)
			c.next++
		}
		group := c.chunks[g0:c.next]
		if c.newestOnly {
			c.newestOnly = false
			if ch := &group[0]; len(group) == 1 && !wantStats && !ch.isCache && len(ch.tombs) == 0 &&
				ch.entry.Stats.HasLast && ch.max >= c.min && ch.max <= c.max {
				c.next, c.skipNewest, c.newestTime = g0, true, ch.max // the group again, at the next call
				buf := c.buffer()
				buf.Times = append(buf.Times[:0], ch.max)
				clear(buf.Values)
				buf.Values = append(buf.Values[:0], fromStatsBits[T](ch.entry.Stats.Last))
				return Batch[T]{Array: *buf}, nil
			}
		}
		if wantStats && len(group) == 1 && !group[0].isCache && len(group[0].tombs) == 0 &&
			group[0].min >= c.min && group[0].max <= c.max {
			st := group[0].entry.Stats
			return Batch[T]{Stats: &st, MinTime: group[0].min, MaxTime: group[0].max}, nil
		}
		arr, err := c.mergeGroup(group)
		if err != nil {
			c.err = err
			break
		}
		if arr.Len() == 0 {
			continue
		}
		if !c.ascending {
			slices.Reverse(arr.Times)
			slices.Reverse(arr.Values)
		}
		if c.skipNewest {
			// The group's newest value went out alone before.
			c.skipNewest = false
			if arr.Times[0] != c.newestTime {
				panic("BUG: the block's newest value is not the one its index entry gave")
			}
			arr.Times, arr.Values = arr.Times[1:], arr.Values[1:]
			if arr.Len() == 0 {
				continue
			}
		}
		return Batch[T]{Array: arr}, nil
	}
	return Batch[T]{}, c.err
}

// buffer returns the cursor's reused batch buffer, taking it from the
// shard's pool at the first use.
func (c *Cursor[T]) buffer() *block.Array[T] {
	if c.buf == nil {
		c.buf, _ = c.pool.Get().(*block.Array[T])
		if c.buf == nil {
			c.buf = new(block.Array[T])
		}
	}
	return c.buf
}

// fromStatsBits converts a statistics value (block.Stats) to T.
func fromStatsBits[T block.Value](b uint64) T {
	var v T
	switch p := any(&v).(type) {
	case *float64:
		*p = math.Float64frombits(b)
	case *int64:
		*p = int64(b)
	case *uint64:
		*p = b
	case *bool:
		*p = b != 0
	}
	return v
}

// mergeGroup decodes and merges overlapping chunks, oldest first.
func (c *Cursor[T]) mergeGroup(group []chunk[T]) (block.Array[T], error) {
	if len(group) == 1 {
		// No merge: decode (or copy the cached values) into the reused
		// buffer rather than new arrays, which the garbage collector
		// would then have to chase, one pair per block read.
		ch := &group[0]
		c.buffer()
		if ch.isCache {
			c.buf.Times = append(c.buf.Times[:0], ch.cached.Times...)
			clear(c.buf.Values)
			c.buf.Values = append(c.buf.Values[:0], ch.cached.Values...)
		} else if err := c.decode(ch, c.buf); err != nil {
			return block.Array[T]{}, err
		}
		c.buf.Include(c.min, c.max)
		return *c.buf, nil
	}
	byPrio := slices.Clone(group)
	slices.SortStableFunc(byPrio, func(a, b chunk[T]) int { return a.prio - b.prio })
	var out block.Array[T]
	for i := range byPrio {
		ch := &byPrio[i]
		var arr block.Array[T]
		if ch.isCache {
			arr = block.Array[T]{Times: slices.Clone(ch.cached.Times), Values: slices.Clone(ch.cached.Values)}
		} else {
			if err := c.decode(ch, &arr); err != nil {
				return out, err
			}
		}
		if i == 0 {
			out = arr
		} else {
			out = block.Merge(out, arr)
		}
	}
	out.Include(c.min, c.max)
	return out, nil
}

// decode reads a file chunk's block into dst, tombstoned values removed.
func (c *Cursor[T]) decode(ch *chunk[T], dst *block.Array[T]) error {
	raw, err := ch.file.r.ReadBlock(ch.entry)
	if err != nil {
		return err
	}
	if err := block.Decode(raw, dst); err != nil {
		return &tsm.CorruptionError{Path: ch.file.r.Path(), Offset: int64(ch.entry.Offset), Err: err}
	}
	for _, t := range ch.tombs {
		dst.Exclude(t.Min, t.Max)
	}
	return nil
}

// Close releases the data files.
func (c *Cursor[T]) Close() {
	releaseFiles(c.files)
	c.files = nil
	if cap(c.chunks) > 0 {
		// Chunks point at files and cached arrays: cleared, so that the
		// pool does not keep them reachable.
		clear(c.chunks)
		l := c.chunks[:0]
		c.chunkPool.Put(&l)
	}
	c.chunks = nil
	if c.buf != nil {
		if strs, ok := any(c.buf.Values).([]string); ok {
			// Strings would otherwise stay reachable from the pool;
			// numbers hold nothing and need no clearing.
			clear(strs[:cap(strs)])
		}
		c.buf.Times, c.buf.Values = c.buf.Times[:0], c.buf.Values[:0]
		c.pool.Put(c.buf)
		c.buf = nil
	}
}

// MatchSeries returns the ids of the series of measurement that match expr
// (nil: all) and have data in this shard.
func (s *Shard) MatchSeries(measurement []byte, expr *index.Expr) (*roaring.Bitmap, error) {
	ids, err := s.index.Match(measurement, expr)
	if err != nil {
		return nil, err
	}
	s.series.mu.RLock()
	ids.And(s.series.ids)
	s.series.mu.RUnlock()
	return ids, nil
}

// SeriesIDs returns the ids of every series with data in this shard.
func (s *Shard) SeriesIDs() *roaring.Bitmap { return s.series.clone() }

// Index returns the database's series index.
func (s *Shard) Index() *index.Index { return s.index }
