package query

import (
	"math"
	"strconv"
	"time"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/models"
)

// ptStream is the output of one top-level function call of a statement for
// one output series: points in query order (within a GROUP BY time bucket,
// a selector's points are in ascending time order even when descending, as
// in 1.x).
type ptStream interface {
	// head returns the next point without consuming it; false at the end.
	head() (aggPoint, bool, error)
	// advance consumes the point head returned.
	advance()
}

// emptyStream has no points.
type emptyStream struct{}

func (emptyStream) head() (aggPoint, bool, error) { return aggPoint{}, false, nil }
func (emptyStream) advance()                      {}

// limitedStream skips the first skip points of a stream and ends it after
// left more (left <= 0: no limit).
type limitedStream struct {
	src        ptStream
	skip, left int
	taken      int
}

func (s *limitedStream) head() (aggPoint, bool, error) {
	for s.skip > 0 {
		_, ok, err := s.src.head()
		if err != nil || !ok {
			return aggPoint{}, false, err
		}
		s.src.advance()
		s.skip--
	}
	if s.left > 0 && s.taken >= s.left {
		return aggPoint{}, false, nil
	}
	return s.src.head()
}

func (s *limitedStream) advance() {
	s.src.advance()
	s.taken++
}

func (s *limitedStream) close() {
	if c, ok := s.src.(interface{ close() }); ok {
		c.close()
	}
}

// zipper turns the points of the output streams into rows: each row takes,
// from every stream, its next point if that point has the row's time (1.x
// lines up the outputs of its call iterators the same way).
//
// Like 1.x, which fills again while it lines the calls up, a stream that
// has no point at a row's time gets fill(<number>) or fill(previous) there;
// and the auxiliary values of a selector that are missing (in real rows
// too) get the number, or the previous row's value.
type zipper struct {
	x        *aggRun
	sink     func([]any) (bool, error)
	valuer   aggValuer
	eval     influxql.ValuerEval
	prev     []any // per stream: its value in the previous row
	havePrev []bool
	prevAux  []any
}

func newZipper(x *aggRun, sink func([]any) (bool, error)) *zipper {
	n := len(x.ap.outs)
	z := &zipper{x: x, sink: sink, prev: make([]any, n), havePrev: make([]bool, n)}
	z.eval = influxql.ValuerEval{Valuer: &z.valuer, IntegerFloatDivision: true}
	return z
}

// missing is the value of stream k in a row where it has no point.
func (z *zipper) missing(k int) any {
	ap := z.x.ap
	op := ap.outs[k]
	if op.untyped() {
		return nil
	}
	switch ap.fill {
	case influxql.NumberFill:
		return castFillLoose(ap.fillValue, op.typ)
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

// run lines the streams up into rows until all of them end or the sink
// wants no more.
func (z *zipper) run(streams []ptStream) error {
	x := z.x
	p, ap := x.p, x.ap
	asc := p.c.ascending
	heads := make([]aggPoint, len(streams))
	has := make([]bool, len(streams))
	vals := make([]any, len(streams)) // reused: rows copy what they keep
	width := 1 + len(ap.slots)
	var slab []any // rows are cut from blocks of many rows: one allocation per block
	for n := 1; ; n++ {
		if n&4095 == 0 {
			if err := x.rc.check(); err != nil {
				return err
			}
		}
		var t int64
		found := false
		for k, s := range streams {
			pt, ok, err := s.head()
			if err != nil {
				return err
			}
			heads[k], has[k] = pt, ok
			if ok && (!found || (asc && pt.t < t) || (!asc && pt.t > t)) {
				t, found = pt.t, true
			}
		}
		if !found {
			return nil
		}
		var aux []any
		for k, s := range streams {
			if has[k] && heads[k].t == t {
				vals[k] = heads[k].v
				if heads[k].aux != nil {
					aux = heads[k].aux
				}
				s.advance()
				if p.outPoints != nil {
					p.outPoints[k].Add(1)
				}
			} else {
				vals[k] = z.missing(k)
			}
			z.prev[k], z.havePrev[k] = vals[k], true
		}
		aux = z.fillAux(aux)
		if len(slab) < width {
			slab = make([]any, 256*width)
		}
		row := slab[:width:width]
		slab = slab[width:]
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
				row[1+j] = nanToNull(z.eval.Eval(sl.expr))
			}
		}
		more, err := z.sink(row)
		if err != nil || !more {
			return err
		}
	}
}

func (x *aggRun) timeValue(t int64) time.Time {
	tt := time.Unix(0, t).UTC()
	if x.p.c.loc != nil {
		tt = tt.In(x.p.c.loc)
	}
	return tt
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

// aggValuer gives stream values and auxiliary values to the evaluator, and
// evaluates math functions.
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

// Call implements influxql.CallValuer.
func (v *aggValuer) Call(name string, args []any) (any, bool) { return callMath(name, args) }
