package query

import (
	"context"
	"maps"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/models"
)

// Subqueries (SELECT … FROM (SELECT …)) run first: the inner statement is
// executed with the options 1.x derives from the outer one, and its output
// series become the series of "virtual" measurements that the outer
// statement reads like stored ones. 1.x's rules, all pinned by golden
// tests:
//
//   - The inner statement is ordered like the outer one, its time range is
//     the intersection of both, it inherits the outer GROUP BY interval
//     when it has none, and its fill(null) is fill(none) when it
//     aggregates.
//   - The outer GROUP BY tags are added to the inner statement's, so its
//     output series carry them; but only the inner statement's own GROUP
//     BY tags can be selected as tags outside.
//   - The outer statement sees the inner fields by name (the first field of
//     a name when several share it) with the types the inner statement
//     gives them (1.x types math functions like their argument, so
//     sqrt(<integer>) is read as an integer), and top() and bottom()'s tag
//     columns as strings.
//   - The outer condition filters the inner rows; every inner row is a row
//     (or a point) of the outer statement, even one whose selected values
//     are all null; rows are not filtered by the outer time range.
//   - SLIMIT and SOFFSET of the inner statement, plus the outer ones, count
//     the inner output series grouped by the outer GROUP BY tags.
//
// The inner result is held in memory while the outer statement runs: a
// subquery costs the memory of its result (its reads count against the
// query limits like any statement's), and one of more than 10,000,000 rows
// fails the statement with a *SubqueryTooLargeError.

// virtualSource describes the result of a subquery as a measurement.
type virtualSource struct {
	fields map[string]influxql.DataType // field name → type, as 1.x's FieldDimensions
	tags   []string                     // the inner statement's own GROUP BY tags, sorted
	index  map[string]int               // name → column of the inner rows
}

// columnType is the type a reference to name reads from the subquery's
// rows, Unknown when no column has that name. A column is read before a
// tag of the same name, as 1.x does; a column that holds tag values
// (SELECT h) and top() and bottom()'s tag columns are read as strings.
func (vs *virtualSource) columnType(name string) influxql.DataType {
	if _, ok := vs.index[name]; !ok {
		return influxql.Unknown
	}
	switch t := vs.fields[name]; t {
	case influxql.Unknown, influxql.Tag:
		return influxql.String
	default:
		return t
	}
}

// memSeries is one output series of a subquery.
type memSeries struct {
	times []int64
	rows  [][]any // values by inner column (time excluded)
}

// maxSubqueryRows bounds the rows of a subquery's result, which is held in
// memory (a filled GROUP BY time over years would otherwise take all of
// it).
const maxSubqueryRows = 10_000_000

// subqueryOptions are what an outer statement passes to its subquery.
type subqueryOptions struct {
	dims            []string // outer GROUP BY tags
	slimit, soffset int
	min, max        int64        // the range the outer statement reads
	explain         *explainInfo // the outer statement's, under EXPLAIN
}

// runSubquery executes one subquery and returns its result as sources, one
// per measurement name of its output.
func (e *Engine) runSubquery(ctx context.Context, sub *compiled, so subqueryOptions, opts ExecutionOptions) ([]*source, error) {
	sub.extraDims = so.dims
	sub.slimitAdd, sub.soffsetAdd = so.slimit, so.soffset
	sub.slimitDims = append([]string{}, so.dims...) // never nil: SLIMIT counts groups of series
	sub.mapMin, sub.mapMax = so.min, so.max
	var info *explainInfo
	if so.explain != nil {
		info = &explainInfo{planOnly: so.explain.planOnly}
		so.explain.subs = append(so.explain.subs, info)
		sub.explain = info
	}
	t0 := time.Now()
	p, sets, err := e.prepareCompiled(ctx, sub, opts)
	if err != nil {
		return nil, err
	}
	var res *Result
	em := newEmitter(p.columns, 0, maxSubqueryRows+1, func(r *Result) error {
		res = r
		return nil
	})
	if info != nil {
		info.planning, info.p, info.sets = time.Since(t0), p, sets
		if info.planOnly {
			// EXPLAIN: the subquery is planned, not run.
			return nil, nil
		}
		info.stats = newReadStats()
		p.stats = info.stats
		if p.agg != nil {
			p.outPoints = make([]atomic.Int64, len(p.agg.outs))
		}
		em.count = &info.rows
	}
	t1 := time.Now()
	err = em.finish(e.execute(ctx, p, sets, em))
	if info != nil {
		info.running = time.Since(t1)
		if p.agg != nil {
			info.points = p.outPointsSnapshot()
		}
	}
	if err != nil {
		return nil, err
	}
	if res == nil {
		return nil, nil
	}
	if res.Err != nil {
		return nil, res.Err
	}
	if em.rows > maxSubqueryRows {
		return nil, &SubqueryTooLargeError{Limit: maxSubqueryRows}
	}
	vs := virtualSchema(p)
	byName := map[string]*source{}
	var out []*source
	for i, row := range res.Series {
		src := byName[row.Name]
		if src == nil {
			src = &source{name: row.Name, virtual: vs}
			byName[row.Name] = src
			out = append(out, src)
		}
		tags := make([]models.Tag, 0, len(row.Tags))
		for _, k := range slices.Sorted(maps.Keys(row.Tags)) {
			tags = append(tags, models.Tag{Key: []byte(k), Value: []byte(row.Tags[k])})
		}
		ms := &memSeries{times: make([]int64, len(row.Values)), rows: make([][]any, len(row.Values))}
		for j, vals := range row.Values {
			if t, ok := vals[0].(time.Time); ok {
				ms.times[j] = t.UnixNano()
			}
			ms.rows[j] = vals[1:]
		}
		src.mem = append(src.mem, &seriesRef{
			src:  src,
			id:   uint64(i),
			key:  models.AppendSeriesKey(nil, []byte(row.Name), tags),
			rows: ms,
		})
	}
	return out, nil
}

// virtualSchema returns the fields and tags a subquery's result offers, as
// 1.x maps them (see the package comment above).
func virtualSchema(p *plan) *virtualSource {
	vs := &virtualSource{fields: map[string]influxql.DataType{}, index: map[string]int{}}
	mapper := newFieldMapper(p.sources)
	offset := 0
	for i, f := range p.stmt.Fields {
		name := f.Name()
		typ := influxql.EvalType(f.Expr, p.stmt.Sources, mapper)
		if have, ok := vs.fields[name]; !ok || have.LessThan(typ) {
			vs.fields[name] = typ
		}
		if _, ok := vs.index[name]; !ok {
			vs.index[name] = i + offset
		}
		if call, ok := f.Expr.(*influxql.Call); ok && (call.Name == "top" || call.Name == "bottom") && len(call.Args) > 2 {
			for j, arg := range call.Args[1 : len(call.Args)-1] {
				if ref, ok := arg.(*influxql.VarRef); ok {
					if _, ok := vs.index[ref.Val]; !ok {
						vs.index[ref.Val] = i + j + 1
					}
				}
			}
			offset += len(call.Args) - 2
		}
	}
	for _, d := range p.c.stmt.Dimensions {
		if ref, ok := d.Expr.(*influxql.VarRef); ok {
			vs.tags = append(vs.tags, ref.Val)
		}
	}
	for _, d := range p.stmt.Dimensions {
		if ref, ok := d.Expr.(*influxql.VarRef); ok && !slices.Contains(vs.tags, ref.Val) {
			vs.tags = append(vs.tags, ref.Val) // GROUP BY * expanded
		}
	}
	sort.Strings(vs.tags)
	return vs
}

// isTag reports whether name is one of the subquery's own GROUP BY tags.
func (vs *virtualSource) isTag(name string) bool {
	_, ok := slices.BinarySearch(vs.tags, name)
	return ok
}

// memRows reads the rows of a subquery's output series: every row, with
// the values of the requested columns cast to their query types.
type memRows struct {
	ms   *memSeries
	idx  []int // per column: the inner column, -1 for none
	cols []column
	vals []any
	i    int
	none bool // no column is selected: no rows, as 1.x
}

func newMemRows(rc *readCtx, s *seriesRef, cols []column, selected []bool, asc bool) seriesRows {
	r := &memRows{ms: s.rows, idx: make([]int, len(cols)), cols: cols, vals: make([]any, len(cols)), none: true}
	vs := s.src.virtual
	for i, c := range cols {
		r.idx[i] = -1
		if j, ok := vs.index[c.name]; ok {
			r.idx[i] = j
		}
		if selected[i] {
			r.none = false
		}
	}
	return r
}

func (r *memRows) next() (int64, bool, error) {
	if r.none || r.i >= len(r.ms.times) {
		return 0, false, nil
	}
	row := r.ms.rows[r.i]
	for c, j := range r.idx {
		r.vals[c] = nil
		if j >= 0 && j < len(row) {
			r.vals[c] = castValue(row[j], r.cols[c].typ)
		}
	}
	t := r.ms.times[r.i]
	r.i++
	return t, true, nil
}

func (r *memRows) values() []any { return r.vals }
func (r *memRows) close()        {}

// castValue converts a value to a query type as 1.x does when it reads a
// subquery's result: numbers convert (floats truncate towards zero), other
// mismatches give null.
func castValue(v any, t models.FieldType) any {
	switch t {
	case models.Float:
		if f, ok := toFloatOK(v); ok {
			return f
		}
	case models.Integer:
		switch x := v.(type) {
		case int64:
			return x
		case float64:
			return int64(x)
		case uint64:
			return int64(x)
		}
	case models.Unsigned:
		switch x := v.(type) {
		case uint64:
			return x
		case float64:
			return uint64(x)
		case int64:
			return uint64(x)
		}
	case models.String:
		if s, ok := v.(string); ok {
			return s
		}
	case models.Boolean:
		if b, ok := v.(bool); ok {
			return b
		}
	}
	return nil
}

// outerDims returns the tags of an outer statement's GROUP BY that a
// subquery must group by too.
func outerDims(stmt *influxql.SelectStatement) []string {
	var dims []string
	for _, d := range stmt.Dimensions {
		if ref, ok := d.Expr.(*influxql.VarRef); ok {
			dims = append(dims, ref.Val)
		}
	}
	sort.Strings(dims)
	return slices.Compact(dims)
}
