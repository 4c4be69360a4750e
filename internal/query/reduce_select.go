package query

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/block"
)

// ---- sample ----

// sampleR keeps a uniform random sample of n points (reservoir sampling)
// and emits them in time order with their times.
type sampleR[T block.Value] struct {
	n    int
	rng  *rand.Rand
	seen int
	pts  []tv[T]
}

func (r *sampleR[T]) put(p tv[T]) {
	r.seen++
	if len(r.pts) < r.n {
		r.pts = append(r.pts, p)
		return
	}
	if j := r.rng.IntN(r.seen); j < r.n {
		r.pts[j] = p
	}
}

func (r *sampleR[T]) add(t int64, v any, aux []any) {
	r.put(tv[T]{t: t, v: v.(T), aux: cloneAux(aux)})
}

func (r *sampleR[T]) addArray(times []int64, vals []T) {
	for i, t := range times {
		r.put(tv[T]{t: t, v: vals[i]})
	}
}

func (r *sampleR[T]) emit(out []aggPoint) []aggPoint {
	slices.SortStableFunc(r.pts, func(a, b tv[T]) int { return cmp.Compare(a.t, b.t) })
	for _, p := range r.pts {
		out = append(out, aggPoint{t: p.t, v: p.v, aux: p.aux})
	}
	return out
}

// ---- top / bottom ----

// topR keeps the n greatest (isTop) or smallest values; on equal values the
// earlier point ranks first. With tag (or field) arguments, the first ntags
// auxiliary values group the points: each group contributes only its best
// point. The result is in time order, points of equal time by rank.
type topR[T number] struct {
	isTop  bool
	n      int
	ntags  int
	heap   []tv[T]          // without groups: the best n, worst at the root
	groups map[string]tv[T] // with groups: the best point of each
	key    []byte
}

// outranks reports whether a ranks before b.
func (r *topR[T]) outranks(a, b tv[T]) bool {
	if a.v != b.v {
		return (a.v > b.v) == r.isTop
	}
	return a.t < b.t
}

func (r *topR[T]) put(p tv[T]) {
	if r.ntags > 0 {
		r.key = groupKeyOf(r.key[:0], p.aux[:r.ntags])
		if cur, ok := r.groups[string(r.key)]; !ok || r.outranks(p, cur) {
			if r.groups == nil {
				r.groups = map[string]tv[T]{}
			}
			p.aux = cloneAux(p.aux)
			r.groups[string(r.key)] = p
		}
		return
	}
	if len(r.heap) < r.n {
		p.aux = cloneAux(p.aux)
		r.heap = append(r.heap, p)
		r.up(len(r.heap) - 1)
		return
	}
	if r.outranks(p, r.heap[0]) {
		p.aux = cloneAux(p.aux)
		r.heap[0] = p
		r.down(0)
	}
}

// The heap keeps the worst-ranked point at the root.
func (r *topR[T]) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !r.outranks(r.heap[parent], r.heap[i]) {
			break
		}
		r.heap[parent], r.heap[i] = r.heap[i], r.heap[parent]
		i = parent
	}
}

func (r *topR[T]) down(i int) {
	n := len(r.heap)
	for {
		worst := i
		for _, c := range []int{2*i + 1, 2*i + 2} {
			if c < n && r.outranks(r.heap[worst], r.heap[c]) {
				worst = c
			}
		}
		if worst == i {
			return
		}
		r.heap[worst], r.heap[i] = r.heap[i], r.heap[worst]
		i = worst
	}
}

func (r *topR[T]) add(t int64, v any, aux []any) { r.put(tv[T]{t: t, v: v.(T), aux: aux}) }

func (r *topR[T]) addArray(times []int64, vals []T) {
	for i, t := range times {
		r.put(tv[T]{t: t, v: vals[i]})
	}
}

func (r *topR[T]) emit(out []aggPoint) []aggPoint {
	pts := r.heap
	if r.ntags > 0 {
		pts = make([]tv[T], 0, len(r.groups))
		for _, p := range r.groups {
			pts = append(pts, p)
		}
		slices.SortFunc(pts, func(a, b tv[T]) int {
			switch {
			case r.outranks(a, b):
				return -1
			case r.outranks(b, a):
				return 1
			}
			return 0
		})
		if len(pts) > r.n {
			pts = pts[:r.n]
		}
	}
	slices.SortFunc(pts, func(a, b tv[T]) int {
		if c := cmp.Compare(a.t, b.t); c != 0 {
			return c
		}
		switch {
		case r.outranks(a, b):
			return -1
		case r.outranks(b, a):
			return 1
		}
		return 0
	})
	for _, p := range pts {
		out = append(out, aggPoint{t: p.t, v: p.v, aux: p.aux})
	}
	return out
}

// groupKeyOf appends an unambiguous encoding of values to dst.
func groupKeyOf(dst []byte, values []any) []byte {
	for _, v := range values {
		switch v := v.(type) {
		case nil:
			dst = append(dst, 'n')
		case string:
			dst = append(dst, 's')
			dst = strconv.AppendInt(dst, int64(len(v)), 10)
			dst = append(dst, ':')
			dst = append(dst, v...)
		case float64:
			dst = append(dst, 'f')
			dst = strconv.AppendUint(dst, math.Float64bits(v), 16)
		case int64:
			dst = append(dst, 'i')
			dst = strconv.AppendInt(dst, v, 10)
		case uint64:
			dst = append(dst, 'u')
			dst = strconv.AppendUint(dst, v, 10)
		case bool:
			dst = append(dst, 'b')
			dst = strconv.AppendBool(dst, v)
		}
		dst = append(dst, 0)
	}
	return dst
}

// ---- integral ----

// integralR is the time integral (trapezium rule) of the points of a whole
// output series, divided by unit. It sees every bucket, because a bucket's
// area runs up to its end, interpolating towards the next point, and the
// next bucket starts from that interpolated value (1.x's semantics). A
// bucket whose last point is at its very start has no area and no result.
type integralR[T number] struct {
	pts []tv[float64]
}

func (r *integralR[T]) add(t int64, v any, _ []any) {
	r.pts = append(r.pts, tv[float64]{t: t, v: float64(v.(T))})
}

func (r *integralR[T]) addArray(times []int64, vals []T) {
	for i, t := range times {
		r.pts = append(r.pts, tv[float64]{t: t, v: float64(vals[i])})
	}
}

// emit is unused: integrals are emitted per bucket by windows.
func (r *integralR[T]) emit(out []aggPoint) []aggPoint { return out }

// windows returns one point per bucket with an area, at the bucket start
// (w nil: one bucket over everything).
func (r *integralR[T]) windows(w *windower, unit float64) []aggPoint {
	if len(r.pts) == 0 {
		return nil
	}
	slices.SortStableFunc(r.pts, func(a, b tv[float64]) int { return cmp.Compare(a.t, b.t) })
	var out []aggPoint
	prev := r.pts[0]
	start, end := prev.t, int64(math.MaxInt64)
	if w != nil {
		start = w.start(prev.t)
		end = w.next(start)
	}
	sum := 0.0
	for _, p := range r.pts[1:] {
		if p.t >= end {
			// Close the bucket at its end with the value interpolated
			// towards p, and carry that value into the next bucket.
			v := (p.v-prev.v)/float64(p.t-prev.t)*float64(end-prev.t) + prev.v
			sum += 0.5 * (v + prev.v) * (float64(end-prev.t) / unit)
			out = append(out, aggPoint{t: start, v: sum})
			prev = tv[float64]{t: end, v: v}
			start = w.start(p.t)
			end = w.next(start)
			sum = 0
		}
		sum += 0.5 * (p.v + prev.v) * (float64(p.t-prev.t) / unit)
		prev = p
	}
	if prev.t != start {
		out = append(out, aggPoint{t: start, v: sum})
	}
	return out
}

// windowed is implemented by reducers that see a whole output series and
// emit their own buckets.
type windowed interface {
	windows(w *windower, unit float64) []aggPoint
}

// newReducer returns a reducer of fn for values of type t.
func newReducer(cp *callPlan, rng *rand.Rand) reducer {
	switch cp.typ {
	case models.Float:
		return newReducerOf[float64](cp, rng)
	case models.Integer:
		return newReducerOf[int64](cp, rng)
	case models.Unsigned:
		return newReducerOf[uint64](cp, rng)
	case models.String:
		return newReducerOfAny[string](cp, rng)
	case models.Boolean:
		if cp.fn == "min" || cp.fn == "max" {
			return &minMaxBoolR{isMax: cp.fn == "max"}
		}
		return newReducerOfAny[bool](cp, rng)
	}
	return nil
}

// newReducerOfAny returns the reducers that accept any type.
func newReducerOfAny[T block.Value](cp *callPlan, rng *rand.Rand) reducer {
	switch cp.fn {
	case "count":
		return &countR[T]{}
	case "first", "last":
		return &firstLastR[T]{isLast: cp.fn == "last"}
	case "mode":
		return &modeR[T]{}
	case "distinct":
		return &distinctR[T]{desc: cp.desc}
	case "count_distinct":
		return &countDistinctR[T]{}
	case "sample":
		return &sampleR[T]{n: cp.n, rng: rng}
	}
	return nil
}

func newReducerOf[T number](cp *callPlan, rng *rand.Rand) reducer {
	switch cp.fn {
	case "sum":
		return &sumR[T]{}
	case "mean":
		return &meanR[T]{}
	case "min", "max":
		return &minMaxR[T]{isMax: cp.fn == "max"}
	case "spread":
		return &spreadR[T]{}
	case "stddev":
		return &stddevR[T]{}
	case "median":
		return &medianR[T]{}
	case "percentile":
		return &percentileR[T]{p: cp.arg}
	case "top", "bottom":
		return &topR[T]{isTop: cp.fn == "top", n: cp.n, ntags: cp.ntags}
	case "integral":
		return &integralR[T]{}
	}
	return newReducerOfAny[T](cp, rng)
}
