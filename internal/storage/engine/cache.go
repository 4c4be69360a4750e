package engine

import (
	"math"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/block"
)

// cacheStripes is the number of independently locked parts of a cache; a
// write locks only the stripes of the series it touches.
const cacheStripes = 64

// column holds the recent values of one field of one series. Numeric and
// boolean values are kept as their 64-bit patterns in bits, strings in strs,
// so one layout serves every type without boxing.
type column struct {
	field  string
	typ    models.FieldType
	times  []int64
	bits   []uint64
	strs   []string
	sorted bool // times ascending and unique
}

func (c *column) len() int { return len(c.times) }

func (c *column) bytes() int64 {
	n := int64(len(c.times)) * 16
	for _, s := range c.strs {
		n += int64(len(s))
	}
	return n
}

// seriesEntry is everything the cache holds for one series.
type seriesEntry struct {
	cols []*column
}

func (e *seriesEntry) column(field []byte) *column {
	for _, c := range e.cols {
		if c.field == string(field) {
			return c
		}
	}
	return nil
}

type cacheStripe struct {
	mu     sync.Mutex // guards series and names
	series map[uint64]*seriesEntry
	// names interns field names, so that a million series with the same
	// ten fields hold ten strings, not ten million.
	names map[string]string
}

// Fixed memory of the cache's structures, counted in its size so that
// cache-snapshot-memory-size and cache-max-memory-size bound real memory
// also at high cardinality (one value per column): a column (struct, its
// pointer in the series entry, slice headers) and a series entry (struct,
// map slot).
const (
	columnOverhead = 128
	seriesOverhead = 96
)

// Cache holds values written since the last snapshot, by series id and
// field. It is safe for concurrent use.
type Cache struct {
	stripes [cacheStripes]cacheStripe
	size    atomic.Int64 // bytes of values held
	points  atomic.Int64 // values held
}

func newCache() *Cache {
	c := &Cache{}
	for i := range c.stripes {
		c.stripes[i].series = make(map[uint64]*seriesEntry)
		c.stripes[i].names = make(map[string]string)
	}
	return c
}

// Size returns the bytes of values held.
func (c *Cache) Size() int64 { return c.size.Load() }

// Values returns the number of values held.
func (c *Cache) Values() int64 { return c.points.Load() }

// writeFieldLocked appends one value and returns the bytes it added; the
// caller holds the stripe lock.
func (c *Cache) writeFieldLocked(st *cacheStripe, e *seriesEntry, f *models.Field, t int64) int64 {
	col := e.column(f.Key)
	var added int64
	if col != nil && col.typ != f.Type {
		// The shard's field types forbid this; it can only follow a drop
		// of the measurement. Mixing types would corrupt the column, so
		// the old values (dropped) go.
		added -= col.bytes() + columnOverhead
		c.points.Add(-int64(col.len()))
		e.cols = slices.DeleteFunc(e.cols, func(x *column) bool { return x == col })
		col = nil
	}
	if col == nil {
		name, ok := st.names[string(f.Key)]
		if !ok {
			name = string(f.Key)
			st.names[name] = name
		}
		col = &column{field: name, typ: f.Type, sorted: true}
		e.cols = append(e.cols, col)
		added += columnOverhead
	}
	if n := len(col.times); n > 0 && t <= col.times[n-1] {
		col.sorted = false
	}
	col.times = append(col.times, t)
	added += 16
	if f.Type == models.String {
		s := string(f.Str)
		col.strs = append(col.strs, s)
		added += int64(len(s))
	} else {
		col.bits = append(col.bits, f.Bits)
	}
	return added
}

// WritePoint adds the fields of one point of series id.
func (c *Cache) WritePoint(id uint64, fields []models.Field, t int64) {
	st := &c.stripes[id%cacheStripes]
	st.mu.Lock()
	e := st.series[id]
	var added int64
	if e == nil {
		e = &seriesEntry{}
		st.series[id] = e
		added += seriesOverhead
	}
	for i := range fields {
		added += c.writeFieldLocked(st, e, &fields[i], t)
	}
	st.mu.Unlock()
	c.size.Add(added)
	c.points.Add(int64(len(fields)))
}

// seriesCount returns the number of series held.
func (c *Cache) seriesCount() int {
	n := 0
	for i := range c.stripes {
		st := &c.stripes[i]
		st.mu.Lock()
		n += len(st.series)
		st.mu.Unlock()
	}
	return n
}

// DeleteRange removes values of series id in [min, max]; fields nil means
// every field.
func (c *Cache) DeleteRange(id uint64, min, max int64) {
	st := &c.stripes[id%cacheStripes]
	st.mu.Lock()
	defer st.mu.Unlock()
	e := st.series[id]
	if e == nil {
		return
	}
	var removedBytes, removedVals int64
	kept := e.cols[:0]
	for _, col := range e.cols {
		c.sortColumnLocked(col)
		before, beforeN := col.bytes(), int64(col.len())
		col.deleteRange(min, max)
		removedBytes += before - col.bytes()
		removedVals += beforeN - int64(col.len())
		if col.len() > 0 {
			kept = append(kept, col)
		} else {
			removedBytes += columnOverhead
		}
	}
	e.cols = kept
	if len(kept) == 0 {
		delete(st.series, id)
		removedBytes += seriesOverhead
	}
	c.size.Add(-removedBytes)
	c.points.Add(-removedVals)
}

// deleteRange removes the values in [min, max]. It builds new slices rather
// than editing in place: a snapshot writer may still be reading the old
// ones (a pending snapshot's deletes reach its file as tombstones).
func (col *column) deleteRange(min, max int64) {
	times := make([]int64, 0, len(col.times))
	var bits []uint64
	var strs []string
	for i, t := range col.times {
		if t >= min && t <= max {
			continue
		}
		times = append(times, t)
		if col.typ == models.String {
			strs = append(strs, col.strs[i])
		} else {
			bits = append(bits, col.bits[i])
		}
	}
	col.times, col.bits, col.strs = times, bits, strs
}

// sortColumnLocked sorts a column and takes the overwritten values it
// dropped off the cache's counters. The caller holds the stripe lock.
func (c *Cache) sortColumnLocked(col *column) {
	beforeBytes, beforeN := col.bytes(), col.len()
	col.sortLocked()
	c.size.Add(col.bytes() - beforeBytes)
	c.points.Add(int64(col.len() - beforeN))
}

// sortLocked sorts a column by time, keeping the last written value of
// equal timestamps (the newest write wins). It sorts in place: concurrent
// writers interleave their batches, so at snapshot time most columns are
// out of order, and a sorted copy of each (24 bytes per value with the
// permutation) was a fifth of the heap during ingest. In place is safe
// because nothing outside the stripe lock holds an unsorted column's
// arrays: Read returns copies, and columns() hands the snapshot writer
// arrays only after sorting them, when no writer can reach that cache any
// more and deleteRange replaces rather than edits them.
func (col *column) sortLocked() {
	if col.sorted {
		return
	}
	sort.Stable(columnOrder{col})
	// Of a run of equal times, keep the last one in write order: the
	// stable sort leaves them in write order.
	w := 0
	for r := range col.times {
		if r+1 < len(col.times) && col.times[r+1] == col.times[r] {
			continue
		}
		col.times[w] = col.times[r]
		if col.typ == models.String {
			col.strs[w] = col.strs[r]
		} else {
			col.bits[w] = col.bits[r]
		}
		w++
	}
	col.times = col.times[:w]
	if col.typ == models.String {
		clear(col.strs[w:]) // no dropped string stays reachable
		col.strs = col.strs[:w]
	} else {
		col.bits = col.bits[:w]
	}
	col.sorted = true
}

// columnOrder sorts a column's times and values together.
type columnOrder struct{ *column }

func (o columnOrder) Len() int           { return len(o.times) }
func (o columnOrder) Less(i, j int) bool { return o.times[i] < o.times[j] }
func (o columnOrder) Swap(i, j int) {
	o.times[i], o.times[j] = o.times[j], o.times[i]
	if o.typ == models.String {
		o.strs[i], o.strs[j] = o.strs[j], o.strs[i]
	} else {
		o.bits[i], o.bits[j] = o.bits[j], o.bits[i]
	}
}

// cacheColumn is a sorted copy of one column, as readers and the snapshot
// writer see it.
type cacheColumn struct {
	id    uint64
	field string
	typ   models.FieldType
	times []int64
	bits  []uint64
	strs  []string
}

// readArray returns a sorted copy of the values of series id and field
// in [min, max] as a typed array, or ok false when the cache holds none
// there of type want. Only the range is copied, and converted straight
// from the column: a query of the last minute of a large cache column
// copies a minute of values, not the whole column three times.
func readArray[T block.Value](c *Cache, id uint64, field string, want models.FieldType, min, max int64) (block.Array[T], bool) {
	st := &c.stripes[id%cacheStripes]
	st.mu.Lock()
	defer st.mu.Unlock()
	e := st.series[id]
	if e == nil {
		return block.Array[T]{}, false
	}
	col := e.column([]byte(field))
	if col == nil || col.len() == 0 || col.typ != want {
		return block.Array[T]{}, false
	}
	c.sortColumnLocked(col)
	lo, _ := slices.BinarySearch(col.times, min)
	hi, found := slices.BinarySearch(col.times, max)
	if found {
		hi++
	}
	if lo >= hi {
		return block.Array[T]{}, false
	}
	view := cacheColumn{typ: col.typ, times: col.times[lo:hi]}
	if col.typ == models.String {
		view.strs = col.strs[lo:hi]
	} else {
		view.bits = col.bits[lo:hi]
	}
	arr := toArray[T](view)
	arr.Times = slices.Clone(arr.Times)
	return arr, true
}

// Fields returns the fields the cache holds for series id.
func (c *Cache) Fields(id uint64) []string {
	st := &c.stripes[id%cacheStripes]
	st.mu.Lock()
	defer st.mu.Unlock()
	e := st.series[id]
	if e == nil {
		return nil
	}
	out := make([]string, 0, len(e.cols))
	for _, col := range e.cols {
		out = append(out, col.field)
	}
	return out
}

// SeriesIDs returns the ids of every series in the cache.
func (c *Cache) SeriesIDs() []uint64 {
	var ids []uint64
	for i := range c.stripes {
		st := &c.stripes[i]
		st.mu.Lock()
		for id := range st.series {
			ids = append(ids, id)
		}
		st.mu.Unlock()
	}
	return ids
}

// columns returns every column, sorted, for the snapshot writer. The cache
// must no longer receive writes (it has been swapped out).
func (c *Cache) columns() []cacheColumn {
	var out []cacheColumn
	for i := range c.stripes {
		st := &c.stripes[i]
		st.mu.Lock()
		for id, e := range st.series {
			for _, col := range e.cols {
				if col.len() == 0 {
					continue
				}
				c.sortColumnLocked(col)
				out = append(out, cacheColumn{id: id, field: col.field, typ: col.typ, times: col.times, bits: col.bits, strs: col.strs})
			}
		}
		st.mu.Unlock()
	}
	return out
}

// toArray converts a cache column into the typed array the data files and
// cursors use.
func toArray[T block.Value](c cacheColumn) block.Array[T] {
	var a block.Array[T]
	a.Times = c.times
	a.Values = make([]T, len(c.times))
	switch vs := any(a.Values).(type) {
	case []float64:
		for i, b := range c.bits {
			vs[i] = math.Float64frombits(b)
		}
	case []int64:
		for i, b := range c.bits {
			vs[i] = int64(b)
		}
	case []uint64:
		copy(vs, c.bits)
	case []bool:
		for i, b := range c.bits {
			vs[i] = b != 0
		}
	case []string:
		copy(vs, c.strs)
	}
	return a
}
