package query

import (
	"time"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/models"
)

// rawSlot computes one output column of a raw query from a row.
type rawSlot struct {
	col  int           // >= 0: a column's value
	tag  string        // col == -1 and expr == nil: a tag of the series
	expr influxql.Expr // an expression over column references and tags
	null bool          // a reference to nothing readable: always null
}

// rawPlan is the raw (non-aggregate) part of a plan.
type rawPlan struct {
	slots    []rawSlot
	selected []bool // columns whose values make rows
}

// buildRaw plans the output columns of a raw query.
func (p *plan) buildRaw() {
	rp := &rawPlan{}
	p.raw = rp
	var selectedCols []int
	for _, f := range p.stmt.Fields {
		switch e := f.Expr.(type) {
		case *influxql.VarRef:
			switch {
			case e.Type == influxql.AnyField:
				rp.slots = append(rp.slots, rawSlot{col: -1, null: true})
			case isFieldRef(e):
				c := p.colIndex(e)
				selectedCols = append(selectedCols, c)
				rp.slots = append(rp.slots, rawSlot{col: c})
			case e.Type == influxql.Tag:
				rp.slots = append(rp.slots, rawSlot{col: -1, tag: e.Val})
			default:
				rp.slots = append(rp.slots, rawSlot{col: -1, null: true})
			}
		default:
			influxql.WalkFunc(e, func(n influxql.Node) {
				if ref, ok := n.(*influxql.VarRef); ok && isFieldRef(ref) && ref.Type != influxql.AnyField {
					selectedCols = append(selectedCols, p.colIndex(ref))
				}
			})
			rp.slots = append(rp.slots, rawSlot{col: -1, expr: p.rewriteRefs(e)})
		}
	}
	rp.selected = make([]bool, len(p.cols))
	for _, c := range selectedCols {
		rp.selected[c] = true
	}
}

// rawSeries is one series being merged into its tag set's output.
type rawSeries struct {
	idx  int
	rr   seriesRows
	cond influxql.Expr
	tags []models.Tag
	t    int64 // time of the current row
	ce   *condEval
}

// runRaw merges the rows of the series of ts in time order and sends them,
// with OFFSET and LIMIT applied, to sink until it returns false.
func (e *Engine) runRaw(rc *readCtx, p *plan, ts *tagSet, sink func([]any) (bool, error)) error {
	rp := p.raw
	asc := p.c.ascending
	h := &rawHeap{asc: asc, tiesAsc: p.virtual()}
	defer func() {
		for _, s := range h.items {
			s.rr.close()
		}
	}()
	// Open every series and read its first row.
	for i, s := range ts.series {
		tags := s.tags(nil)
		cond, ok := p.cond.seriesCondition(func(k string) string { v, _ := tagValue(tags, k); return v })
		if !ok {
			continue
		}
		rs := &rawSeries{idx: i, rr: newSeriesRows(rc, s, p.cols, rp.selected, asc), cond: cond, tags: tags}
		if rr, ok := rs.rr.(*rowReader); ok && !p.noPushdown {
			switch {
			case cond != nil:
				rr.setDriver(cond)
			case !asc && p.limit == 1 && p.offset == 0:
				// ORDER BY time DESC LIMIT 1 (lastpoint): one row per
				// tag set, so each column's newest value will usually do.
				rr.wantNewestOnly()
			}
		}
		rs.ce = newCondEval()
		ok, err := rs.advance()
		if err != nil {
			rs.rr.close()
			return err
		}
		if !ok {
			rs.rr.close()
			continue
		}
		h.push(rs)
	}
	var rs *rawSeries
	valuer := &rowValuer{tag: func(k string) (string, bool) { return tagValue(rs.tags, k) }}
	eval := influxql.ValuerEval{Valuer: valuer, IntegerFloatDivision: true}
	emitted, skipped := 0, 0
	var slab []any // rows are cut from blocks of many rows: one allocation per block
	width := 1 + len(rp.slots)
	for len(h.items) > 0 {
		rs = h.items[0]
		if skipped < p.offset {
			skipped++
		} else {
			if len(slab) < width {
				rows := 256
				if p.limit > 0 {
					// LIMIT 1 per series (lastpoint) needs one row, not 256.
					rows = min(rows, p.limit-emitted)
				}
				slab = make([]any, rows*width)
			}
			row := slab[:width:width]
			slab = slab[width:]
			tt := time.Unix(0, rs.t).UTC()
			if p.c.loc != nil {
				tt = tt.In(p.c.loc)
			}
			row[0] = tt
			valuer.vals = rs.rr.values()
			for i, sl := range rp.slots {
				switch {
				case sl.null:
				case sl.col >= 0:
					row[1+i] = valuer.vals[sl.col]
				case sl.expr != nil:
					row[1+i] = nanToNull(eval.Eval(sl.expr))
				default:
					if v, ok := tagValue(rs.tags, sl.tag); ok {
						row[1+i] = v
					}
				}
			}
			more, err := sink(row)
			if err != nil || !more {
				return err
			}
			emitted++
			if p.limit > 0 && emitted >= p.limit {
				return nil
			}
		}
		ok, err := rs.advance()
		if err != nil {
			return err
		}
		if ok {
			h.fix()
		} else {
			rs.rr.close()
			h.pop()
		}
	}
	return nil
}

// advance reads the series' next row that passes its condition.
func (rs *rawSeries) advance() (bool, error) {
	for {
		t, ok, err := rs.rr.next()
		if err != nil || !ok {
			return false, err
		}
		if rs.cond != nil && !rs.ce.match(rs.cond, rs.rr.values()) {
			continue
		}
		rs.t = t
		return true, nil
	}
}

// rawHeap orders series by their current time, then by series order (the
// reverse of it when descending, as 1.x reverses a tag set's series, unless
// tiesAsc: 1.x keeps the series order for a subquery's rows).
type rawHeap struct {
	asc     bool
	tiesAsc bool
	items   []*rawSeries
}

func (h *rawHeap) less(a, b *rawSeries) bool {
	if a.t != b.t {
		return (a.t < b.t) == h.asc
	}
	return (a.idx < b.idx) == (h.asc || h.tiesAsc)
}

func (h *rawHeap) push(s *rawSeries) {
	h.items = append(h.items, s)
	i := len(h.items) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !h.less(h.items[i], h.items[parent]) {
			break
		}
		h.items[i], h.items[parent] = h.items[parent], h.items[i]
		i = parent
	}
}

// fix restores the order after the root's time changed.
func (h *rawHeap) fix() {
	i, n := 0, len(h.items)
	for {
		best := i
		for _, c := range []int{2*i + 1, 2*i + 2} {
			if c < n && h.less(h.items[c], h.items[best]) {
				best = c
			}
		}
		if best == i {
			return
		}
		h.items[i], h.items[best] = h.items[best], h.items[i]
		i = best
	}
}

func (h *rawHeap) pop() {
	n := len(h.items) - 1
	h.items[0] = h.items[n]
	h.items[n] = nil
	h.items = h.items[:n]
	if n > 0 {
		h.fix()
	}
}
