package engine

import (
	"slices"

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
	for i, f := range c.files {
		if typ, ok := f.r.Type(c.key); !ok || typ != want {
			continue
		}
		var tombs []tsm.TimeRange
		if f.r.HasTombstones() {
			tombs = f.r.TombstonesFor(c.key)
		}
		entries = f.r.Entries(c.key, entries[:0])
		for _, e := range entries {
			if e.MaxTime < min || e.MinTime > max {
				continue
			}
			c.chunks = append(c.chunks, chunk[T]{min: e.MinTime, max: e.MaxTime, prio: i, file: f, entry: e, tombs: tombs})
		}
	}
	for i, cache := range caches {
		col, ok := cache.Read(id, field)
		if !ok || col.typ != want {
			continue
		}
		arr := toArray[T](col)
		arr.Include(min, max)
		for lo := 0; lo < arr.Len(); lo += cachedChunkSize {
			hi := min64(lo+cachedChunkSize, arr.Len())
			part := block.Array[T]{Times: arr.Times[lo:hi], Values: arr.Values[lo:hi]}
			c.chunks = append(c.chunks, chunk[T]{
				min: part.Times[0], max: part.Times[part.Len()-1], prio: len(c.files) + i, cached: part, isCache: true,
			})
		}
	}
	if ascending {
		slices.SortStableFunc(c.chunks, func(a, b chunk[T]) int { return cmpInt(a.min, b.min) })
	} else {
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
		return Batch[T]{Array: arr}, nil
	}
	return Batch[T]{}, c.err
}

// mergeGroup decodes and merges overlapping chunks, oldest first.
func (c *Cursor[T]) mergeGroup(group []chunk[T]) (block.Array[T], error) {
	byPrio := slices.Clone(group)
	slices.SortStableFunc(byPrio, func(a, b chunk[T]) int { return a.prio - b.prio })
	var out block.Array[T]
	for i := range byPrio {
		ch := &byPrio[i]
		var arr block.Array[T]
		if ch.isCache {
			arr = block.Array[T]{Times: slices.Clone(ch.cached.Times), Values: slices.Clone(ch.cached.Values)}
		} else {
			raw, err := ch.file.r.ReadBlock(ch.entry)
			if err != nil {
				return out, err
			}
			if err := block.Decode(raw, &arr); err != nil {
				return out, &tsm.CorruptionError{Path: ch.file.r.Path(), Offset: int64(ch.entry.Offset), Err: err}
			}
			for _, t := range ch.tombs {
				arr.Exclude(t.Min, t.Max)
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

// Close releases the data files.
func (c *Cursor[T]) Close() {
	releaseFiles(c.files)
	c.files = nil
	c.chunks = nil
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
