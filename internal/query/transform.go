package query

import (
	"math"

	"github.com/stratadb/strata/internal/models"
)

// Transformations turn the points of one output series into other points:
// DERIVATIVE, DIFFERENCE, MOVING_AVERAGE, CUMULATIVE_SUM, ELAPSED, the
// technical-analysis functions and HOLT_WINTERS. Their input is either a
// field's raw points (merged across the series of the output series, in
// query order) or the filled points of an aggregate per GROUP BY time
// bucket. A transformer sees the non-null input points in query order and
// emits points at input times (holt-winters emits at the end).

// transformer is the state of one transformation over one output series.
type transformer interface {
	// add feeds one input point, whose value is never nil, and appends the
	// points it emits to out.
	add(out []aggPoint, t int64, v any) []aggPoint
	// flush appends the points emitted once the input has ended.
	flush(out []aggPoint) []aggPoint
}

// tfSpec is a planned transformation: the function and its arguments.
type tfSpec struct {
	fn      string
	unit    int64 // derivative, elapsed: the unit in ns
	n       int   // moving_average: window; TA functions: period; holt_winters: horizon
	hold    int   // TA functions: hold period (-1: the algorithm's own)
	warm    int   // TA functions: warmupEMA, warmupSMA or warmupNone
	season  int   // holt_winters: season length
	withFit bool  // holt_winters_with_fit
	asc     bool
	in      models.FieldType // the input's type
	every   int64            // holt_winters: the GROUP BY interval
}

// Warm-up types of the technical-analysis functions.
const (
	warmupEMA = iota
	warmupSMA
	warmupNone
)

// outType is the type of a transformation's points.
func (s *tfSpec) outType() models.FieldType {
	switch s.fn {
	case "difference", "non_negative_difference", "cumulative_sum":
		return s.in
	case "elapsed":
		return models.Integer
	}
	return models.Float
}

// extendsRange reports whether the transformation, over an aggregate, reads
// one GROUP BY interval before the query's range (after it when
// descending), so that its first bucket has a predecessor. 1.x extends by
// one interval for these functions, moving_average included, whatever its
// window.
func (s *tfSpec) extendsRange() bool {
	switch s.fn {
	case "cumulative_sum", "holt_winters", "holt_winters_with_fit":
		return false
	}
	return true
}

// iteratorName is the function's name in 1.x's "unsupported ... iterator
// type" error.
func tfIteratorName(fn string) string {
	switch fn {
	case "non_negative_derivative":
		return "derivative"
	case "non_negative_difference":
		return "difference"
	case "holt_winters", "holt_winters_with_fit":
		// 1.x's holt-winters reports itself as elapsed.
		return "elapsed"
	}
	out := []byte(fn)
	for i, c := range out {
		if c == '_' {
			out[i] = ' '
		}
	}
	return string(out)
}

// tfSupports reports whether a transformation accepts an input type.
func tfSupports(fn string, t models.FieldType) bool {
	switch fn {
	case "elapsed":
		return t.Valid()
	case "holt_winters", "holt_winters_with_fit":
		return t == models.Float || t == models.Integer
	}
	return isNumeric(t)
}

// stoppable is implemented by transformations that compute for long and
// check for a cancelled query meanwhile (holt-winters).
type stoppable interface {
	setStop(stop func() bool)
}

// newTransformers returns fresh states for a chain of specs; the long ones
// stop when the query is cancelled.
func newTransformers(specs []*tfSpec, rc *readCtx) []transformer {
	var out []transformer
	for _, spec := range specs {
		tf := newTransformer(spec)
		if s, ok := tf.(stoppable); ok && rc != nil {
			s.setStop(func() bool { return rc.check() != nil })
		}
		out = append(out, tf)
	}
	return out
}

// newTransformer returns a fresh state for spec.
func newTransformer(s *tfSpec) transformer {
	switch s.fn {
	case "derivative", "non_negative_derivative":
		return &derivativeT{unit: float64(s.unit), nonNeg: s.fn == "non_negative_derivative", asc: s.asc}
	case "difference", "non_negative_difference":
		return &differenceT{nonNeg: s.fn == "non_negative_difference"}
	case "moving_average":
		return newMovingAverage(s.in, s.n)
	case "cumulative_sum":
		return &cumulativeSumT{}
	case "elapsed":
		return &elapsedT{unit: s.unit}
	case "holt_winters", "holt_winters_with_fit":
		return newHoltWinters(s.n, s.season, s.withFit, s.every)
	}
	return newTA(s)
}

// pairState remembers the previous and current point of a stream, skipping
// points that do not advance it: a merged series may have several points at
// one time, and only the first one counts (as in 1.x).
type pairState struct {
	prevT, currT int64
	prev, curr   any
	havePrev     bool
	haveCurr     bool
}

// next moves the stream to (t, v); false when the point is skipped.
func (s *pairState) next(t int64, v any) bool {
	if s.haveCurr && s.currT == t {
		return false
	}
	s.prevT, s.prev, s.havePrev = s.currT, s.curr, s.haveCurr
	s.currT, s.curr, s.haveCurr = t, v, true
	return s.havePrev
}

// ---- derivative ----

type derivativeT struct {
	pairState
	unit   float64
	nonNeg bool
	asc    bool
}

func (d *derivativeT) add(out []aggPoint, t int64, v any) []aggPoint {
	if !d.next(t, v) {
		return out
	}
	diff := numDiff(d.curr, d.prev)
	elapsed := d.currT - d.prevT
	if !d.asc {
		elapsed = -elapsed
	}
	if d.nonNeg && diff < 0 {
		return out
	}
	return append(out, aggPoint{t: t, v: diff / (float64(elapsed) / d.unit)})
}

func (d *derivativeT) flush(out []aggPoint) []aggPoint { return out }

// numDiff is curr - prev as a float, computed in the values' own type first
// (integers wrap as in 1.x; unsigned values keep their sign).
func numDiff(curr, prev any) float64 {
	switch c := curr.(type) {
	case float64:
		return c - prev.(float64)
	case int64:
		return float64(c - prev.(int64))
	case uint64:
		p := prev.(uint64)
		if c > p {
			return float64(c - p)
		}
		return -float64(p - c)
	}
	return math.NaN()
}

// ---- difference ----

type differenceT struct {
	pairState
	nonNeg bool
}

func (d *differenceT) add(out []aggPoint, t int64, v any) []aggPoint {
	if !d.next(t, v) {
		return out
	}
	var r any
	switch c := d.curr.(type) {
	case float64:
		x := c - d.prev.(float64)
		if d.nonNeg && x < 0 {
			return out
		}
		r = x
	case int64:
		x := c - d.prev.(int64)
		if d.nonNeg && x < 0 {
			return out
		}
		r = x
	case uint64:
		p := d.prev.(uint64)
		if d.nonNeg && c < p {
			return out
		}
		r = c - p
	default:
		return out
	}
	return append(out, aggPoint{t: t, v: r})
}

func (d *differenceT) flush(out []aggPoint) []aggPoint { return out }

// ---- moving_average ----

// movingAverageT keeps a ring of the last n values and their running sum in
// the input type, updated as 1.x does (subtract the value leaving, then add
// the one arriving), so that float sums round the same way.
type movingAverageT[T number] struct {
	buf []T
	pos int
	sum T
}

func newMovingAverage(in models.FieldType, n int) transformer {
	switch in {
	case models.Integer:
		return &movingAverageT[int64]{buf: make([]int64, 0, n)}
	case models.Unsigned:
		return &movingAverageT[uint64]{buf: make([]uint64, 0, n)}
	}
	return &movingAverageT[float64]{buf: make([]float64, 0, n)}
}

func (m *movingAverageT[T]) add(out []aggPoint, t int64, v any) []aggPoint {
	x, ok := v.(T)
	if !ok {
		return out
	}
	if len(m.buf) < cap(m.buf) {
		m.buf = append(m.buf, x)
	} else {
		m.sum -= m.buf[m.pos]
		m.buf[m.pos] = x
	}
	m.sum += x
	if m.pos++; m.pos >= cap(m.buf) {
		m.pos = 0
	}
	if len(m.buf) < cap(m.buf) {
		return out
	}
	return append(out, aggPoint{t: t, v: float64(m.sum) / float64(len(m.buf))})
}

func (m *movingAverageT[T]) flush(out []aggPoint) []aggPoint { return out }

// ---- cumulative_sum ----

type cumulativeSumT struct {
	sum any
}

func (c *cumulativeSumT) add(out []aggPoint, t int64, v any) []aggPoint {
	switch x := v.(type) {
	case float64:
		s, _ := c.sum.(float64)
		c.sum = s + x
	case int64:
		s, _ := c.sum.(int64)
		c.sum = s + x
	case uint64:
		s, _ := c.sum.(uint64)
		c.sum = s + x
	default:
		return out
	}
	return append(out, aggPoint{t: t, v: c.sum})
}

func (c *cumulativeSumT) flush(out []aggPoint) []aggPoint { return out }

// ---- elapsed ----

// elapsedT emits the time since the previous point; unlike derivative it
// counts points at the same time (elapsed 0), as 1.x does.
type elapsedT struct {
	prev     int64
	havePrev bool
	unit     int64
}

func (e *elapsedT) add(out []aggPoint, t int64, _ any) []aggPoint {
	prev, had := e.prev, e.havePrev
	e.prev, e.havePrev = t, true
	if !had {
		return out
	}
	return append(out, aggPoint{t: t, v: (t - prev) / e.unit})
}

func (e *elapsedT) flush(out []aggPoint) []aggPoint { return out }

// toFloatOK converts a numeric value to float64.
func toFloatOK(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	}
	return 0, false
}
