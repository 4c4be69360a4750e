package query

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/block"
)

// aggPoint is one output point of an aggregate or selector.
type aggPoint struct {
	t   int64 // the selected point's time (selectors); replaced by the bucket time otherwise
	v   any   // nil is null
	aux []any // auxiliary values of the selected point
}

// reducer computes one function over the points of one bucket of one
// output series. Points come series by series, each series in time order
// (either direction); across series they interleave in time, so reducers
// whose result depends on order sort what they keep.
type reducer interface {
	// add adds one point; aux (nil when the query has no auxiliary
	// fields) is only valid during the call.
	add(t int64, v any, aux []any)
	// emit appends the result points.
	emit(out []aggPoint) []aggPoint
}

// arrayReducer is the vectorised path: a run of points of one series, all in
// the bucket, in time order, without auxiliary values.
type arrayReducer[T block.Value] interface {
	addArray(times []int64, vals []T)
}

// statsReducer takes a whole block as its statistics (aggregate pushdown).
type statsReducer interface {
	addStats(st *block.Stats, minT, maxT int64)
}

type number interface{ float64 | int64 | uint64 }

// cmpVal orders values of one type; false < true for booleans.
func cmpVal[T block.Value](a, b T) int {
	switch x := any(a).(type) {
	case float64:
		return cmp.Compare(x, any(b).(float64))
	case int64:
		return cmp.Compare(x, any(b).(int64))
	case uint64:
		return cmp.Compare(x, any(b).(uint64))
	case string:
		return strings.Compare(x, any(b).(string))
	case bool:
		y := any(b).(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	}
	return 0
}

// statValues returns a numeric block's min, max and sum as T.
func statValues[T number](st *block.Stats) (lo, hi, sum T) {
	var z T
	switch any(z).(type) {
	case float64:
		a, b, c := st.Float()
		return any(a).(T), any(b).(T), any(c).(T)
	case int64:
		a, b, c := st.Integer()
		return any(a).(T), any(b).(T), any(c).(T)
	}
	return any(st.Min).(T), any(st.Max).(T), any(st.Sum).(T)
}

// supports reports whether a function accepts a field type; 1.x fails the
// others with "unsupported <fn> iterator type".
func supports(fn string, t models.FieldType) bool {
	switch fn {
	case "count", "first", "last", "mode", "distinct", "count_distinct", "sample":
		return true
	case "min", "max":
		return isNumeric(t) || t == models.Boolean
	}
	return isNumeric(t)
}

// ---- count ----

type countR[T block.Value] struct{ n int64 }

func (r *countR[T]) add(int64, any, []any)         { r.n++ }
func (r *countR[T]) addArray(times []int64, _ []T) { r.n += int64(len(times)) }
func (r *countR[T]) addStats(st *block.Stats, _, _ int64) {
	r.n += int64(st.Count)
}
func (r *countR[T]) emit(out []aggPoint) []aggPoint { return append(out, aggPoint{v: r.n}) }

// ---- sum ----

// sumR adds runs first and then adds their sums, so that a block answered
// from statistics (whose sum is the sum of its values in time order) gives
// exactly what decoding it gives.
type sumR[T number] struct{ s T }

func (r *sumR[T]) add(_ int64, v any, _ []any) { r.s += v.(T) }
func (r *sumR[T]) addArray(_ []int64, vals []T) {
	var s T
	for _, v := range vals {
		s += v
	}
	r.s += s
}
func (r *sumR[T]) addStats(st *block.Stats, _, _ int64) {
	_, _, s := statValues[T](st)
	r.s += s
}
func (r *sumR[T]) emit(out []aggPoint) []aggPoint { return append(out, aggPoint{v: r.s}) }

// ---- mean ----

// meanR sums in the input type (integers wrap, as in 1.x) and divides at
// the end.
type meanR[T number] struct {
	sum T
	n   int64
}

func (r *meanR[T]) add(_ int64, v any, _ []any) { r.sum += v.(T); r.n++ }
func (r *meanR[T]) addArray(_ []int64, vals []T) {
	var s T
	for _, v := range vals {
		s += v
	}
	r.sum += s
	r.n += int64(len(vals))
}
func (r *meanR[T]) addStats(st *block.Stats, _, _ int64) {
	_, _, s := statValues[T](st)
	r.sum += s
	r.n += int64(st.Count)
}
func (r *meanR[T]) emit(out []aggPoint) []aggPoint {
	return append(out, aggPoint{v: float64(r.sum) / float64(r.n)})
}

// ---- min / max ----

// minMaxR keeps the smallest (largest) value; on equal values the earlier
// point wins, as in 1.x.
type minMaxR[T number] struct {
	isMax bool
	set   bool
	v     T
	t     int64
	aux   []any
}

func (r *minMaxR[T]) better(v T, t int64) bool {
	if !r.set {
		return true
	}
	if v == r.v {
		return t < r.t
	}
	return (v > r.v) == r.isMax
}

func (r *minMaxR[T]) add(t int64, v any, aux []any) {
	if x := v.(T); r.better(x, t) {
		r.set, r.v, r.t, r.aux = true, x, t, cloneAux(aux)
	}
}

func (r *minMaxR[T]) addArray(times []int64, vals []T) {
	best := 0
	for i := 1; i < len(vals); i++ {
		v, b := vals[i], vals[best]
		if v == b {
			if times[i] < times[best] {
				best = i
			}
		} else if (v > b) == r.isMax {
			best = i
		}
	}
	if r.better(vals[best], times[best]) {
		r.set, r.v, r.t, r.aux = true, vals[best], times[best], nil
	}
}

// addStats is only used when neither the time nor auxiliary values of the
// selected point are needed.
func (r *minMaxR[T]) addStats(st *block.Stats, minT, _ int64) {
	lo, hi, _ := statValues[T](st)
	v := lo
	if r.isMax {
		v = hi
	}
	if r.better(v, minT) {
		r.set, r.v, r.t, r.aux = true, v, minT, nil
	}
}

func (r *minMaxR[T]) emit(out []aggPoint) []aggPoint {
	return append(out, aggPoint{t: r.t, v: r.v, aux: r.aux})
}

// minMaxBoolR is min and max of booleans (false < true).
type minMaxBoolR struct {
	isMax bool
	set   bool
	v     bool
	t     int64
	aux   []any
}

func (r *minMaxBoolR) better(v bool, t int64) bool {
	return !r.set || (v == r.v && t < r.t) || (v != r.v && v == r.isMax)
}

func (r *minMaxBoolR) add(t int64, v any, aux []any) {
	if x := v.(bool); r.better(x, t) {
		r.set, r.v, r.t, r.aux = true, x, t, cloneAux(aux)
	}
}

func (r *minMaxBoolR) addArray(times []int64, vals []bool) {
	for i, v := range vals {
		r.add(times[i], v, nil)
	}
}

func (r *minMaxBoolR) emit(out []aggPoint) []aggPoint {
	return append(out, aggPoint{t: r.t, v: r.v, aux: r.aux})
}

// ---- first / last ----

// firstLastR keeps the earliest (latest) point; on equal times the greater
// value wins, as in 1.x.
type firstLastR[T block.Value] struct {
	isLast bool
	set    bool
	v      T
	t      int64
	aux    []any
}

func (r *firstLastR[T]) better(v T, t int64) bool {
	if !r.set {
		return true
	}
	if t == r.t {
		return cmpVal(v, r.v) > 0
	}
	return (t > r.t) == r.isLast
}

func (r *firstLastR[T]) add(t int64, v any, aux []any) {
	if x := v.(T); r.better(x, t) {
		r.set, r.v, r.t, r.aux = true, x, t, cloneAux(aux)
	}
}

func (r *firstLastR[T]) addArray(times []int64, vals []T) {
	// A run is sorted (either way): the candidate is at one end.
	i := 0
	n := len(times) - 1
	if (times[n] < times[0]) != r.isLast {
		i = n
	}
	if r.better(vals[i], times[i]) {
		r.set, r.v, r.t, r.aux = true, vals[i], times[i], nil
	}
}

func (r *firstLastR[T]) emit(out []aggPoint) []aggPoint {
	return append(out, aggPoint{t: r.t, v: r.v, aux: r.aux})
}

// ---- spread ----

type spreadR[T number] struct {
	set    bool
	lo, hi T
}

func (r *spreadR[T]) take(lo, hi T) {
	if !r.set {
		r.set, r.lo, r.hi = true, lo, hi
		return
	}
	r.lo, r.hi = min(r.lo, lo), max(r.hi, hi)
}

func (r *spreadR[T]) add(_ int64, v any, _ []any) { x := v.(T); r.take(x, x) }
func (r *spreadR[T]) addArray(_ []int64, vals []T) {
	lo, hi := vals[0], vals[0]
	for _, v := range vals[1:] {
		lo, hi = min(lo, v), max(hi, v)
	}
	r.take(lo, hi)
}
func (r *spreadR[T]) addStats(st *block.Stats, _, _ int64) {
	lo, hi, _ := statValues[T](st)
	r.take(lo, hi)
}
func (r *spreadR[T]) emit(out []aggPoint) []aggPoint { return append(out, aggPoint{v: r.hi - r.lo}) }

// ---- stddev ----

// stddevR is the sample standard deviation; null for fewer than two
// points. The values are summed in time order, as 1.x's merge delivers
// them, so that the last bits agree.
type stddevR[T number] struct{ collector[float64] }

func (r *stddevR[T]) add(t int64, v any, _ []any) {
	r.pts = append(r.pts, tv[float64]{t: t, v: float64(v.(T))})
}
func (r *stddevR[T]) addArray(times []int64, vals []T) {
	for i, v := range vals {
		r.pts = append(r.pts, tv[float64]{t: times[i], v: float64(v)})
	}
}
func (r *stddevR[T]) emit(out []aggPoint) []aggPoint {
	n := len(r.pts)
	if n < 2 {
		return append(out, aggPoint{})
	}
	r.byTime()
	var mean float64
	for _, p := range r.pts {
		mean += p.v
	}
	mean /= float64(n)
	var variance float64
	for _, p := range r.pts {
		variance += (p.v - mean) * (p.v - mean)
	}
	return append(out, aggPoint{v: math.Sqrt(variance / float64(n-1))})
}

// ---- median ----

type medianR[T number] struct{ vals []T }

func (r *medianR[T]) add(_ int64, v any, _ []any) { r.vals = append(r.vals, v.(T)) }
func (r *medianR[T]) addArray(_ []int64, vals []T) {
	r.vals = append(r.vals, vals...)
}
func (r *medianR[T]) emit(out []aggPoint) []aggPoint {
	n := len(r.vals)
	slices.Sort(r.vals)
	if n%2 == 1 {
		return append(out, aggPoint{v: float64(r.vals[n/2])})
	}
	lo, hi := r.vals[n/2-1], r.vals[n/2]
	return append(out, aggPoint{v: float64(lo) + float64(hi-lo)/2})
}

// ---- collected points ----

// tv is a collected point.
type tv[T block.Value] struct {
	t   int64
	v   T
	aux []any
}

// collector keeps every point, for the functions that need them all.
type collector[T block.Value] struct{ pts []tv[T] }

func (c *collector[T]) add(t int64, v any, aux []any) {
	c.pts = append(c.pts, tv[T]{t: t, v: v.(T), aux: cloneAux(aux)})
}

func (c *collector[T]) addArray(times []int64, vals []T) {
	for i, t := range times {
		c.pts = append(c.pts, tv[T]{t: t, v: vals[i]})
	}
}

// byTime sorts the points by time; points of equal time keep their arrival
// (series) order.
func (c *collector[T]) byTime() {
	slices.SortStableFunc(c.pts, func(a, b tv[T]) int { return cmp.Compare(a.t, b.t) })
}

// byValue sorts by value, stably.
func (c *collector[T]) byValue() {
	slices.SortStableFunc(c.pts, func(a, b tv[T]) int { return cmpVal(a.v, b.v) })
}

// ---- mode ----

// modeR is the most frequent value. Among equally frequent values 1.x's
// rule applies: in value order, a later run wins unless its first point is
// later than the last point counted for the current winner; a value seen
// once only wins when every value is seen once (then the smallest wins).
type modeR[T block.Value] struct{ collector[T] }

func (r *modeR[T]) emit(out []aggPoint) []aggPoint {
	pts := r.pts
	if len(pts) == 1 {
		return append(out, aggPoint{v: pts[0].v})
	}
	if bs, ok := any(pts).([]tv[bool]); ok {
		trues := 0
		for _, p := range bs {
			if p.v {
				trues++
			}
		}
		return append(out, aggPoint{v: trues >= len(bs)-trues})
	}
	r.byTime()
	r.byValue()
	pts = r.pts
	mostFreq, currFreq := 0, 0
	currMode, mostMode := pts[0].v, pts[0].v
	currTime, mostTime := pts[0].t, pts[0].t
	for _, p := range pts {
		if cmpVal(p.v, currMode) != 0 {
			currFreq, currMode, currTime = 1, p.v, p.t
			continue
		}
		currFreq++
		if mostFreq > currFreq || (mostFreq == currFreq && currTime > mostTime) {
			continue
		}
		mostFreq, mostMode, mostTime = currFreq, p.v, p.t
	}
	return append(out, aggPoint{v: mostMode})
}

// ---- percentile ----

// percentileR selects the point of nearest rank: index
// floor(n·p/100 + 0.5) − 1 of the points sorted by value.
type percentileR[T number] struct {
	collector[T]
	p float64
}

func (r *percentileR[T]) emit(out []aggPoint) []aggPoint {
	r.byTime()
	r.byValue()
	i := int(math.Floor(float64(len(r.pts))*r.p/100+0.5)) - 1
	if i < 0 || i >= len(r.pts) {
		return out
	}
	p := r.pts[i]
	return append(out, aggPoint{t: p.t, v: p.v, aux: p.aux})
}

// ---- distinct ----

// distinctR emits each value once, ordered by the time it was first seen
// in the query's direction (its earliest time, or its latest one when
// descending), then by value.
type distinctR[T block.Value] struct {
	first map[T]int64
	desc  bool
}

func (r *distinctR[T]) put(t int64, v T) {
	if r.first == nil {
		r.first = make(map[T]int64)
	}
	if ft, ok := r.first[v]; !ok || (t < ft) != r.desc {
		r.first[v] = t
	}
}

func (r *distinctR[T]) add(t int64, v any, _ []any) { r.put(t, v.(T)) }
func (r *distinctR[T]) addArray(times []int64, vals []T) {
	for i, v := range vals {
		r.put(times[i], v)
	}
}
func (r *distinctR[T]) emit(out []aggPoint) []aggPoint {
	pts := make([]tv[T], 0, len(r.first))
	for v, t := range r.first {
		pts = append(pts, tv[T]{t: t, v: v})
	}
	slices.SortFunc(pts, func(a, b tv[T]) int {
		if c := cmp.Compare(a.t, b.t); c != 0 {
			return c
		}
		return cmpVal(a.v, b.v)
	})
	for _, p := range pts {
		out = append(out, aggPoint{v: p.v})
	}
	return out
}

// countDistinctR is count(distinct(f)).
type countDistinctR[T block.Value] struct{ seen map[T]struct{} }

func (r *countDistinctR[T]) put(v T) {
	if r.seen == nil {
		r.seen = make(map[T]struct{})
	}
	r.seen[v] = struct{}{}
}

func (r *countDistinctR[T]) add(_ int64, v any, _ []any) { r.put(v.(T)) }
func (r *countDistinctR[T]) addArray(_ []int64, vals []T) {
	for _, v := range vals {
		r.put(v)
	}
}
func (r *countDistinctR[T]) emit(out []aggPoint) []aggPoint {
	return append(out, aggPoint{v: int64(len(r.seen))})
}

func cloneAux(aux []any) []any {
	if aux == nil {
		return nil
	}
	return slices.Clone(aux)
}
