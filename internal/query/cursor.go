package query

import (
	"context"
	"sync/atomic"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/block"
	"github.com/stratadb/strata/internal/storage/engine"
)

// readCtx is what every reader of one query shares: cancellation, the
// point budget and the time range.
type readCtx struct {
	ctx        context.Context
	points     atomic.Int64
	maxPoints  int
	tmin, tmax int64
	stats      *readStats // EXPLAIN ANALYZE's counters; nil otherwise
}

// count charges n points read against max-select-point and checks for
// cancellation. It is called once per batch, so a kill or a timeout stops a
// query within one batch of work.
func (rc *readCtx) count(n int) error {
	if n > 0 {
		total := rc.points.Add(int64(n))
		if rc.maxPoints > 0 && total > int64(rc.maxPoints) {
			return &LimitError{Kind: ErrMaxSelectPointLimit, N: int(total), Limit: rc.maxPoints}
		}
	}
	return rc.check()
}

// check returns the query's cancellation cause, if any.
func (rc *readCtx) check() error {
	select {
	case <-rc.ctx.Done():
		return context.Cause(rc.ctx)
	default:
		return nil
	}
}

// colCursor reads one column of one series across the shards of its
// source, in query order, as type T. Shards are opened one at a time, when
// the previous one is exhausted, so a LIMIT that is met early never touches
// later shards.
type colCursor[T block.Value] struct {
	rc       *readCtx
	s        *seriesRef
	col      column
	asc      bool
	min, max int64
	next     int // shards opened so far
	cur      BatchCursor[T]
	cast     bool // cur converts from another type: never ask it for stats
	// newestOnly passes the hint that one value will do to the storage
	// cursors (engine.Cursor.WantNewestOnly).
	newestOnly bool
}

func newColCursor[T block.Value](rc *readCtx, s *seriesRef, col column, min, max int64, asc bool) *colCursor[T] {
	return &colCursor[T]{rc: rc, s: s, col: col, asc: asc, min: min, max: max}
}

// open opens the cursor of the next shard that holds the series and a
// readable field; false when none is left.
func (c *colCursor[T]) open() bool {
	shards := c.s.src.shards
	for c.next < len(shards) {
		i := c.next
		if !c.asc {
			i = len(shards) - 1 - c.next
		}
		c.next++
		sd := shards[i]
		if sd.series == nil || !sd.series.Contains(uint32(c.s.id)) {
			continue
		}
		stored, ok := sd.fields[c.col.name]
		if !ok || !castable(stored, c.col.typ) {
			continue
		}
		cur, cast := openTyped[T](sd.sh, c.s.key, c.s.id, c.col.name, stored, c.min, c.max, c.asc)
		if cur == nil {
			continue
		}
		c.cur, c.cast = cur, cast
		if h, ok := cur.(interface{ WantNewestOnly() }); ok && c.newestOnly && !cast {
			h.WantNewestOnly()
		}
		c.rc.stats.cursor(c.s.src.name, sd.sh.ID(), c.s.id)
		return true
	}
	return false
}

// nextBatch returns the next batch; an empty one means the end. Statistics
// come back only when wantStats is set and the shard's field needs no cast.
func (c *colCursor[T]) nextBatch(wantStats bool) (engine.Batch[T], error) {
	for {
		if c.cur == nil && !c.open() {
			return engine.Batch[T]{}, nil
		}
		b, err := c.cur.Next(wantStats && !c.cast)
		if err != nil {
			return b, err
		}
		if b.Stats == nil && b.Len() == 0 {
			c.cur.Close()
			c.cur = nil
			continue
		}
		n := b.Len()
		if b.Stats != nil {
			n = int(b.Stats.Count)
		}
		if c.rc.stats != nil {
			c.rc.stats.batch(c.s.src.name, c.shard().sh.ID(), c.col.typ, b.Stats != nil, n)
		}
		return b, c.rc.count(n)
	}
}

// shard returns the shard the last batch came from.
func (c *colCursor[T]) shard() *shardData {
	i := c.next - 1
	if !c.asc {
		i = len(c.s.src.shards) - c.next
	}
	return c.s.src.shards[i]
}

func (c *colCursor[T]) close() {
	if c.cur != nil {
		c.cur.Close()
		c.cur = nil
	}
	c.next = len(c.s.src.shards)
}

// openTyped opens a storage cursor of the stored type and, when T differs,
// wraps it in a numeric cast.
func openTyped[T block.Value](sh Shard, key []byte, id uint64, field string, stored models.FieldType, min, max int64, asc bool) (BatchCursor[T], bool) {
	raw := sh.Cursor(key, id, field, stored, min, max, asc)
	if c, ok := raw.(BatchCursor[T]); ok {
		return c, false
	}
	switch rc := raw.(type) {
	case BatchCursor[float64]:
		if f := convFunc[T, float64](); f != nil {
			return &castCursor[T, float64]{src: rc, conv: f}, true
		}
		rc.Close()
	case BatchCursor[int64]:
		if f := convFunc[T, int64](); f != nil {
			return &castCursor[T, int64]{src: rc, conv: f}, true
		}
		rc.Close()
	case BatchCursor[uint64]:
		if f := convFunc[T, uint64](); f != nil {
			return &castCursor[T, uint64]{src: rc, conv: f}, true
		}
		rc.Close()
	case interface{ Close() }:
		rc.Close()
	}
	return nil, false
}

// convFunc returns the numeric conversion From → To, or nil. Floats become
// integers by truncation toward zero, as Go (and 1.x) converts them.
func convFunc[To, From block.Value]() func(From) To {
	var fn any
	var to To
	var from From
	switch any(to).(type) {
	case float64:
		switch any(from).(type) {
		case int64:
			fn = func(v int64) float64 { return float64(v) }
		case uint64:
			fn = func(v uint64) float64 { return float64(v) }
		}
	case int64:
		switch any(from).(type) {
		case float64:
			fn = func(v float64) int64 { return int64(v) }
		case uint64:
			fn = func(v uint64) int64 { return int64(v) }
		}
	case uint64:
		switch any(from).(type) {
		case float64:
			fn = func(v float64) uint64 { return uint64(v) }
		case int64:
			fn = func(v int64) uint64 { return uint64(v) }
		}
	}
	f, _ := fn.(func(From) To)
	return f
}

// castCursor converts the values of a cursor to another numeric type.
type castCursor[To, From block.Value] struct {
	src  BatchCursor[From]
	conv func(From) To
	buf  []To
}

// Next implements BatchCursor; it never returns statistics.
func (c *castCursor[To, From]) Next(bool) (engine.Batch[To], error) {
	b, err := c.src.Next(false)
	if err != nil || b.Len() == 0 {
		return engine.Batch[To]{}, err
	}
	c.buf = c.buf[:0]
	for _, v := range b.Values {
		c.buf = append(c.buf, c.conv(v))
	}
	return engine.Batch[To]{Array: block.Array[To]{Times: b.Times, Values: c.buf}}, nil
}

// Close implements BatchCursor.
func (c *castCursor[To, From]) Close() { c.src.Close() }

// rowCol is a column of one series read value by value, boxed, for the row
// path (conditions and auxiliary fields).
type rowCol interface {
	// peek returns the time of the current value; false at the end.
	peek() (int64, bool, error)
	// take returns the current value and moves past it.
	take() any
	// skipTo moves past the values before t (after t when descending).
	skipTo(t int64) error
	// wantNewestOnly hints that one value will do (DESC LIMIT 1).
	wantNewestOnly()
	close()
}

type rowColOf[T block.Value] struct {
	cc   *colCursor[T]
	arr  block.Array[T]
	i    int
	done bool
	pred func(T) bool // set on the driver column (driver.go)
}

func (c *rowColOf[T]) peek() (int64, bool, error) {
	for !c.done && c.i >= len(c.arr.Times) {
		b, err := c.cc.nextBatch(false)
		if err != nil {
			return 0, false, err
		}
		if b.Len() == 0 {
			c.done = true
			c.cc.close()
			break
		}
		c.arr, c.i = b.Array, 0
	}
	if c.done {
		return 0, false, nil
	}
	return c.arr.Times[c.i], true, nil
}

func (c *rowColOf[T]) take() any {
	v := c.arr.Values[c.i]
	c.i++
	return v
}

func (c *rowColOf[T]) close() { c.cc.close() }

func (c *rowColOf[T]) wantNewestOnly() { c.cc.newestOnly = true }

// newRowCol returns a boxed reader of one column of s, or nil when the
// column's type cannot be read.
func newRowCol(rc *readCtx, s *seriesRef, col column, asc bool) rowCol {
	switch col.typ {
	case models.Float:
		return &rowColOf[float64]{cc: newColCursor[float64](rc, s, col, rc.tmin, rc.tmax, asc)}
	case models.Integer:
		return &rowColOf[int64]{cc: newColCursor[int64](rc, s, col, rc.tmin, rc.tmax, asc)}
	case models.Unsigned:
		return &rowColOf[uint64]{cc: newColCursor[uint64](rc, s, col, rc.tmin, rc.tmax, asc)}
	case models.String:
		return &rowColOf[string]{cc: newColCursor[string](rc, s, col, rc.tmin, rc.tmax, asc)}
	case models.Boolean:
		return &rowColOf[bool]{cc: newColCursor[bool](rc, s, col, rc.tmin, rc.tmax, asc)}
	}
	return nil
}

// seriesRows reads the rows of one series in query order: the times at
// which a selected column has a value, with the values every column has at
// that time (nil where none).
type seriesRows interface {
	// next reads the next row; false at the end.
	next() (int64, bool, error)
	// values returns the current row by column; valid until next.
	values() []any
	close()
}

// newSeriesRows returns the row reader of a series: a merge of its stored
// columns, or the rows of a subquery's result.
func newSeriesRows(rc *readCtx, s *seriesRef, cols []column, selected []bool, asc bool) seriesRows {
	if s.rows != nil {
		return newMemRows(rc, s, cols, selected, asc)
	}
	return newRowReader(rc, s, cols, selected, asc)
}

// rowReader merges the columns of one series into rows by time. A row is
// produced at each time at which at least one selected column has a value;
// the other columns contribute their value at that time, if any.
type rowReader struct {
	cols     []rowCol // nil for columns this series cannot have
	selected []bool
	vals     []any // the current row, by column
	asc      bool
	// driver, when set, is the column whose comparison every row must
	// pass (driver.go); driverCol is its index.
	driver    rowDriver
	driverCol int
}

func newRowReader(rc *readCtx, s *seriesRef, cols []column, selected []bool, asc bool) *rowReader {
	r := &rowReader{cols: make([]rowCol, len(cols)), selected: selected, vals: make([]any, len(cols)), asc: asc}
	for i, c := range cols {
		r.cols[i] = newRowCol(rc, s, c, asc)
	}
	return r
}

// wantNewestOnly hints every column that the caller needs one row of a
// descending read: each may then answer its newest value from the index.
func (r *rowReader) wantNewestOnly() {
	for _, c := range r.cols {
		if c != nil {
			c.wantNewestOnly()
		}
	}
}

// next reads the next row into r.vals; false at the end.
func (r *rowReader) next() (int64, bool, error) {
	for {
		if r.driver != nil {
			t, ok, err := r.driver.seek()
			if err != nil || !ok {
				return 0, false, err
			}
			for i, c := range r.cols {
				if c != nil && i != r.driverCol {
					if err := c.skipTo(t); err != nil {
						return 0, false, err
					}
				}
			}
		}
		var best int64
		found, sel := false, false
		for i, c := range r.cols {
			if c == nil {
				continue
			}
			t, ok, err := c.peek()
			if err != nil {
				return 0, false, err
			}
			if !ok {
				continue
			}
			switch {
			case !found || (r.asc && t < best) || (!r.asc && t > best):
				best, found, sel = t, true, r.selected[i]
			case t == best && r.selected[i]:
				sel = true
			}
		}
		if !found {
			return 0, false, nil
		}
		for i, c := range r.cols {
			r.vals[i] = nil
			if c == nil {
				continue
			}
			if t, ok, _ := c.peek(); ok && t == best {
				v := c.take()
				if sel {
					r.vals[i] = v
				}
			}
		}
		if sel {
			return best, true, nil
		}
	}
}

func (r *rowReader) values() []any { return r.vals }

func (r *rowReader) close() {
	for _, c := range r.cols {
		if c != nil {
			c.close()
		}
	}
}
