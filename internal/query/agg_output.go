package query

import (
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/models"
)

// output fills, zips and evaluates the buckets into rows, streaming: empty
// buckets are generated as they are emitted, so a long range of filled
// buckets costs no memory.
func (x *aggRun) output(sink func([]any) (bool, error)) error {
	p, ap := x.p, x.ap
	ncalls := len(ap.calls)

	// The points of every call in every bucket that has data.
	data := map[int64][][]aggPoint{}
	slot := func(b int64) [][]aggPoint {
		d := data[b]
		if d == nil {
			d = make([][]aggPoint, ncalls)
			data[b] = d
		}
		return d
	}
	var buf []aggPoint
	for b, rs := range x.buckets {
		bt := x.bucketTime(b)
		for k, r := range rs {
			if r == nil {
				continue
			}
			buf = r.emit(buf[:0])
			if len(buf) == 0 {
				continue
			}
			pts := slices.Clone(buf)
			if !ap.calls[k].keepTime {
				for j := range pts {
					pts[j].t = bt
				}
			}
			slot(b)[k] = pts
		}
	}
	for k, cp := range ap.calls {
		if !cp.windowed || x.whole[k] == nil {
			continue
		}
		for _, pt := range x.whole[k].(windowed).windows(ap.w, cp.arg) {
			b := x.bucketOf(pt.t)
			pt.t = x.bucketTime(b)
			if ap.w == nil {
				// 1.x gives an integral without GROUP BY time the epoch as
				// its time, whatever the range (so with a lower bound it
				// takes a row of its own).
				pt.t = 0
			}
			d := slot(b)
			d[k] = append(d[k], pt)
		}
	}
	if len(data) == 0 {
		return nil
	}
	keys := make([]int64, 0, len(data))
	for b := range data {
		keys = append(keys, b)
	}
	slices.Sort(keys)

	f := newFiller(x, data, keys)
	z := newZipper(x, sink)
	asc := p.c.ascending
	if ap.w == nil || ap.fill == influxql.NoFill {
		for n := range keys {
			b := keys[n]
			if !asc {
				b = keys[len(keys)-1-n]
			}
			if more, err := z.bucket(data[b]); err != nil || !more {
				return err
			}
		}
		return nil
	}
	first := p.c.tmin
	if first == influxql.MinTime {
		first = keys[0]
	}
	first, last := ap.w.start(first), ap.w.start(p.c.tmax)
	b := first
	if !asc {
		b = last
	}
	for n := 1; ; n++ {
		if n&4095 == 0 {
			if err := x.rc.check(); err != nil {
				return err
			}
		}
		if more, err := z.bucket(f.fill(b)); err != nil || !more {
			return err
		}
		if asc {
			nb := ap.w.next(b)
			if b >= last || nb <= b {
				return nil
			}
			b = nb
		} else {
			pb := ap.w.start(b - 1)
			if b <= first || pb >= b {
				return nil
			}
			b = pb
		}
	}
}

// zipper turns the points of the calls of one bucket into rows: each row
// takes, from every call, its next point if that point has the row's time
// (1.x lines up the outputs of its call iterators the same way).
//
// Like 1.x, which fills again while it lines the calls up, a call that has
// no point at a row's time gets fill(<number>) or fill(previous) there; and
// the auxiliary values of a selector that are missing (in real rows too)
// get the number, or the previous row's value.
type zipper struct {
	x        *aggRun
	sink     func([]any) (bool, error)
	heads    []int
	valuer   aggValuer
	eval     influxql.ValuerEval
	emitted  int
	skipped  int
	prev     []any // per call: its value in the previous row
	havePrev []bool
	prevAux  []any
}

func newZipper(x *aggRun, sink func([]any) (bool, error)) *zipper {
	n := len(x.ap.calls)
	z := &zipper{x: x, sink: sink, heads: make([]int, n), prev: make([]any, n), havePrev: make([]bool, n)}
	z.eval = influxql.ValuerEval{Valuer: &z.valuer, IntegerFloatDivision: true}
	return z
}

// missing is the value of call k in a row where it has no point.
func (z *zipper) missing(k int) any {
	ap := z.x.ap
	if ap.calls[k].col < 0 {
		return nil // a call on no field has nothing to line up: 1.x leaves it null
	}
	switch ap.fill {
	case influxql.NumberFill:
		return castFillLoose(ap.fillValue, ap.calls[k].outType())
	case influxql.PreviousFill:
		if z.havePrev[k] {
			return z.prev[k]
		}
	}
	return nil
}

// castFillLoose converts fill(<number>) to a numeric type and leaves it as
// it is for the others: 1.x's second fill, where the calls are lined up,
// is untyped (unlike its per-call fill, see castFill).
func castFillLoose(v any, t models.FieldType) any {
	if isNumeric(t) {
		return castFill(v, t)
	}
	return v
}

// fillAux fills the missing auxiliary values of a row.
func (z *zipper) fillAux(aux []any) []any {
	ap := z.x.ap
	if len(ap.aux) == 0 {
		return aux
	}
	if ap.fill != influxql.NumberFill && ap.fill != influxql.PreviousFill {
		return aux
	}
	out := make([]any, len(ap.aux))
	copy(out, aux)
	for i, v := range out {
		if v != nil {
			continue
		}
		if ap.fill == influxql.NumberFill {
			// A numeric field takes the number as its type; the rest take
			// it as is.
			out[i] = ap.fillValue
			if c := ap.aux[i].col; c >= 0 {
				out[i] = castFillLoose(ap.fillValue, z.x.p.cols[c].typ)
			}
		} else if i < len(z.prevAux) {
			out[i] = z.prevAux[i]
		}
	}
	z.prevAux = out
	return out
}

// bucket emits the rows of one bucket; false when no more are wanted.
func (z *zipper) bucket(callPts [][]aggPoint) (bool, error) {
	x := z.x
	p, ap := x.p, x.ap
	// The points of a call stay in ascending time order within a bucket
	// even when descending (only buckets are reversed), as in 1.x.
	asc := p.c.ascending
	clear(z.heads)
	for {
		var t int64
		found := false
		for k := range callPts {
			if z.heads[k] < len(callPts[k]) {
				ct := callPts[k][z.heads[k]].t
				if !found || (asc && ct < t) || (!asc && ct > t) {
					t, found = ct, true
				}
			}
		}
		if !found {
			return true, nil
		}
		vals := make([]any, len(callPts))
		var aux []any
		for k := range callPts {
			if z.heads[k] < len(callPts[k]) && callPts[k][z.heads[k]].t == t {
				pt := callPts[k][z.heads[k]]
				vals[k] = pt.v
				if pt.aux != nil {
					aux = pt.aux
				}
				z.heads[k]++
			} else {
				vals[k] = z.missing(k)
			}
			z.prev[k], z.havePrev[k] = vals[k], true
		}
		aux = z.fillAux(aux)
		if z.skipped < p.offset {
			z.skipped++
			continue
		}
		row := make([]any, 1+len(ap.slots))
		row[0] = x.timeValue(t)
		z.valuer.calls, z.valuer.aux = vals, aux
		for j, sl := range ap.slots {
			switch {
			case sl.call >= 0:
				row[1+j] = vals[sl.call]
			case sl.aux >= 0:
				if sl.aux < len(aux) {
					row[1+j] = aux[sl.aux]
				}
			default:
				row[1+j] = z.eval.Eval(sl.expr)
			}
		}
		more, err := z.sink(row)
		if err != nil || !more {
			return false, err
		}
		z.emitted++
		if p.limit > 0 && z.emitted >= p.limit {
			return false, nil
		}
	}
}

// bucketTime is the time of a bucket's rows: its start, or without GROUP BY
// time the start of the query's range (the epoch when it has none).
func (x *aggRun) bucketTime(b int64) int64 {
	if x.ap.w != nil {
		return b
	}
	if x.p.c.tmin == influxql.MinTime {
		return 0
	}
	return x.p.c.tmin
}

func (x *aggRun) timeValue(t int64) time.Time {
	tt := time.Unix(0, t).UTC()
	if x.p.c.loc != nil {
		tt = tt.In(x.p.c.loc)
	}
	return tt
}

// filler is 1.x's fill iterator, one per call (the zipper fills again, see
// there):
//
//   - a call is filled only when it received points in the output series
//     (a field it never saw, or whose points the condition all dropped, is
//     not), and without a lower time bound only from the bucket of its
//     first point;
//   - integral, distinct, sample, top and bottom are never filled;
//   - fill(null) fills count() with 0.
//
// "Previous" follows the output order.
type filler struct {
	x    *aggRun
	data map[int64][][]aggPoint
	keys []int64 // buckets with data, ascending

	prev     []any
	havePrev []bool
}

func newFiller(x *aggRun, data map[int64][][]aggPoint, keys []int64) *filler {
	n := len(x.ap.calls)
	return &filler{x: x, data: data, keys: keys, prev: make([]any, n), havePrev: make([]bool, n)}
}

// fill returns the points of bucket b with the missing calls filled.
func (f *filler) fill(b int64) [][]aggPoint {
	x := f.x
	ap := x.ap
	src := f.data[b]
	out := make([][]aggPoint, len(ap.calls))
	noLowerBound := x.p.c.tmin == influxql.MinTime
	for k, cp := range ap.calls {
		if src != nil && len(src[k]) > 0 {
			out[k] = src[k]
			// A bucket's points go out in time order whatever the
			// direction: its last point is the one emitted last.
			f.prev[k], f.havePrev[k] = src[k][len(src[k])-1].v, true
			continue
		}
		if !cp.fillable() || !x.fed[k] || (noLowerBound && b < x.fedFirst[k]) {
			continue
		}
		pt := aggPoint{t: b}
		switch ap.fill {
		case influxql.NullFill:
			if cp.fn == "count" || cp.fn == "count_distinct" {
				pt.v = int64(0)
			}
		case influxql.NumberFill:
			pt.v = castFill(ap.fillValue, cp.outType())
		case influxql.PreviousFill:
			if f.havePrev[k] {
				pt.v = f.prev[k]
			}
		case influxql.LinearFill:
			pt.v = f.linear(b, k, cp.outType())
		}
		out[k] = []aggPoint{pt}
	}
	return out
}

// linear interpolates call k at bucket b between the nearest buckets before
// and after it that have a value of their own.
func (f *filler) linear(b int64, k int, t models.FieldType) any {
	if !isNumeric(t) {
		return nil
	}
	i, _ := slices.BinarySearch(f.keys, b)
	var pb, nb int64
	var pv, nv any
	for j := i - 1; j >= 0; j-- {
		if d := f.data[f.keys[j]][k]; len(d) > 0 && d[0].v != nil {
			pb, pv = f.keys[j], d[0].v
			break
		}
	}
	for j := i; j < len(f.keys); j++ {
		if d := f.data[f.keys[j]][k]; len(d) > 0 && d[0].v != nil {
			nb, nv = f.keys[j], d[0].v
			break
		}
	}
	if pv == nil || nv == nil {
		return nil
	}
	// 1.x interpolates over bucket numbers (times divided by the
	// interval), which rounds differently from nanoseconds.
	// Descending, 1.x interpolates from the later bucket (the previous one
	// in output order).
	iv := f.x.ap.w.interval
	b, pb, nb = b/iv, pb/iv, nb/iv
	p, n := toFloat(pv), toFloat(nv)
	if !f.x.p.c.ascending {
		p, n, pb, nb = n, p, nb, pb
	}
	v := (n-p)/float64(nb-pb)*float64(b-pb) + p
	switch t {
	case models.Integer:
		return int64(v)
	case models.Unsigned:
		return uint64(v)
	}
	return v
}

// castFill converts fill(<number>) to a call's result type.
func castFill(v any, t models.FieldType) any {
	var f float64
	var isInt bool
	var i int64
	switch v := v.(type) {
	case float64:
		f = v
	case int64:
		i, isInt, f = v, true, float64(v)
	default:
		return nil
	}
	switch t {
	case models.Float:
		return f
	case models.Integer:
		if isInt {
			return i
		}
		return int64(f)
	case models.Unsigned:
		if isInt {
			return uint64(i)
		}
		return uint64(f)
	case models.String:
		return "" // 1.x fills with the type's zero value
	case models.Boolean:
		return false
	}
	return nil
}

func toFloat(v any) float64 {
	switch v := v.(type) {
	case float64:
		return v
	case int64:
		return float64(v)
	case uint64:
		return float64(v)
	}
	return math.NaN()
}

// aggValuer gives call results and auxiliary values to the evaluator.
type aggValuer struct {
	calls []any
	aux   []any
}

// Value implements influxql.Valuer.
func (v *aggValuer) Value(key string) (any, bool) {
	if len(key) < 2 {
		return nil, false
	}
	n, err := strconv.Atoi(key[1:])
	if err != nil {
		return nil, false
	}
	switch key[0] {
	case 0:
		if n < len(v.calls) {
			return v.calls[n], true
		}
	case 1:
		if n < len(v.aux) {
			return v.aux[n], true
		}
		return nil, true
	}
	return nil, false
}
