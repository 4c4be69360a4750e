package query

import (
	"strconv"
	"time"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/models"
)

// callPlan is one aggregate or selector call of a SELECT.
type callPlan struct {
	fn    string // function; "count_distinct" for count(distinct(f))
	col   int    // input column, -1 when the argument is no field (no data)
	typ   models.FieldType
	arg   float64 // percentile: p; integral: unit in ns
	n     int     // sample, top, bottom: number of points
	ntags int     // top, bottom: leading auxiliary values that group points

	keepTime bool // emits the selected points' own times
	stats    bool // may take whole blocks as statistics
	windowed bool // sees the whole series and emits its own buckets (integral)
	desc     bool // the query is ORDER BY time DESC

	ext    int   // GROUP BY intervals read beyond the query range
	lo, hi int64 // the times of the points it takes (see aggPlan.clip)
}

// fillable reports whether FILL applies to the call: 1.x never fills
// integral, distinct, sample, top and bottom.
func (cp *callPlan) fillable() bool {
	switch cp.fn {
	case "integral", "distinct", "sample", "top", "bottom":
		return false
	}
	return true
}

// outType is the type of the call's results.
func (cp *callPlan) outType() models.FieldType {
	switch cp.fn {
	case "count", "count_distinct":
		return models.Integer
	case "mean", "median", "stddev", "integral":
		return models.Float
	}
	return cp.typ
}

// auxRef is an auxiliary value captured with a selected point: a field
// (column) or a tag of its series.
type auxRef struct {
	col int // column, or -1 for a tag
	tag string
}

// slot is how an output column is computed from a row of call results.
type slot struct {
	call int           // >= 0: the result of a call
	aux  int           // >= 0: an auxiliary value
	expr influxql.Expr // otherwise: an expression over "\x00<call>" and "\x01<aux>" references
}

// outPlan is one output stream of an aggregate statement: 1.x's iterator
// for a top-level function call of a field (math functions excepted, they
// are evaluated per row). It is an aggregate call's points, or a
// transformation of them, or a transformation of a raw field.
type outPlan struct {
	call int       // the aggregate call it reads; -1 for a raw field
	col  int       // the raw field's column (call == -1); -1 when none
	tfs  []*tfSpec // transformations, innermost first; none: the call's points as they are
	typ  models.FieldType
	ext  int  // GROUP BY intervals read beyond the query range (one per transformation that extends)
	void bool // 1.x reads nothing for it (see buildTransform)
}

// untyped reports whether the stream has no type: a call of a field that
// does not exist, whose result takes the field's type (max(nothere), but
// not mean(nothere), which is a float). 1.x then lines up nothing for it
// and leaves it null in every row, whatever the fill.
func (op *outPlan) untyped() bool { return op.typ == models.Unknown }

// aggPlan is the aggregate part of a plan.
type aggPlan struct {
	calls     []*callPlan
	callKeys  []string // calls as text, to compute a repeated call once
	outs      []*outPlan
	outKeys   []string // outputs as text, to compute a repeated one once
	aux       []auxRef
	slots     []slot    // slot.call indexes outs
	pointTime bool      // a lone selector without GROUP BY time: rows carry the point's time
	columnar  bool      // no condition and no auxiliary values: read typed columns
	selected  []bool    // row path: the columns that make rows (call inputs)
	w         *windower // nil without GROUP BY time
	fill      influxql.FillOption
	fillValue any
	raw       bool // some output transforms a raw field
	ext       int  // the most intervals an output reads beyond the query range
	// clip is set when calls take points over different ranges (a
	// transformation's input reads beyond the query range, another call
	// does not): each call then takes only the points in [lo, hi].
	clip bool
}

// buildAgg plans the calls, output streams, auxiliary values and output
// slots.
func (p *plan) buildAgg() error {
	c := p.c
	ap := &aggPlan{fill: c.fill, fillValue: p.stmt.FillValue}
	if c.interval > 0 {
		ap.w = &windower{interval: c.interval, offset: c.ivOffset, loc: c.loc}
	}
	p.agg = ap
	auxIndex := func(ref *influxql.VarRef) int {
		a := auxRef{col: -1, tag: ref.Val}
		switch {
		case isFieldRef(ref):
			a = auxRef{col: p.colIndex(ref)}
		case ref.Type != influxql.Tag:
			// Neither a field nor a tag: always null (no tag has an
			// empty key).
			a = auxRef{col: -1}
		}
		for i, have := range ap.aux {
			if have == a {
				return i
			}
		}
		ap.aux = append(ap.aux, a)
		return len(ap.aux) - 1
	}
	// top() and bottom() group by their tag arguments, which must come
	// first among the auxiliary values.
	for _, f := range p.stmt.Fields {
		if call, ok := f.Expr.(*influxql.Call); ok && (call.Name == "top" || call.Name == "bottom") {
			for _, arg := range call.Args[1 : len(call.Args)-1] {
				auxIndex(arg.(*influxql.VarRef))
			}
		}
	}
	for _, f := range p.stmt.Fields {
		var err error
		// Function calls are replaced whole by their output stream (their
		// arguments are theirs), math functions are evaluated per row over
		// their arguments, other references become auxiliary values.
		var rewrite func(e influxql.Expr) influxql.Expr
		rewrite = func(e influxql.Expr) influxql.Expr {
			switch e := e.(type) {
			case *influxql.Call:
				if isMathFunction(e.Name) {
					args := make([]influxql.Expr, len(e.Args))
					for i, a := range e.Args {
						args[i] = rewrite(a)
					}
					return &influxql.Call{Name: e.Name, Args: args}
				}
				k, cerr := p.addOut(e)
				if cerr != nil && err == nil {
					err = cerr
				}
				return &influxql.VarRef{Val: "\x00" + strconv.Itoa(k)}
			case *influxql.VarRef:
				return &influxql.VarRef{Val: "\x01" + strconv.Itoa(auxIndex(e))}
			case *influxql.BinaryExpr:
				return &influxql.BinaryExpr{Op: e.Op, LHS: rewrite(e.LHS), RHS: rewrite(e.RHS)}
			case *influxql.ParenExpr:
				return &influxql.ParenExpr{Expr: rewrite(e.Expr)}
			}
			return e
		}
		rewritten := rewrite(f.Expr)
		if err != nil {
			return err
		}
		ap.slots = append(ap.slots, refSlot(rewritten))
		if call, ok := f.Expr.(*influxql.Call); ok && (call.Name == "top" || call.Name == "bottom") {
			for _, arg := range call.Args[1 : len(call.Args)-1] {
				ap.slots = append(ap.slots, slot{call: -1, aux: auxIndex(arg.(*influxql.VarRef))})
			}
		}
	}
	ap.pointTime = len(ap.outs) == 1 && len(ap.outs[0].tfs) == 0 && c.interval == 0 &&
		isSelectorFn(ap.calls[ap.outs[0].call].fn)
	for _, cp := range ap.calls {
		switch cp.fn {
		case "top", "bottom", "sample":
			cp.keepTime = true
		default:
			cp.keepTime = ap.pointTime
		}
		switch cp.fn {
		case "count":
			cp.stats = true
		case "sum", "mean", "spread":
			cp.stats = isNumeric(cp.typ)
		case "min", "max":
			cp.stats = isNumeric(cp.typ) && !cp.keepTime && len(ap.aux) == 0
		}
	}
	for _, cp := range ap.calls {
		cp.lo, cp.hi = p.c.tmin, p.c.tmax
		if span := int64(cp.ext) * p.c.interval; span > 0 {
			if p.c.ascending && cp.lo > influxql.MinTime+span {
				cp.lo -= span
			} else if !p.c.ascending && cp.hi < influxql.MaxTime-span {
				cp.hi += span
			}
		}
		if ap.ext > 0 && cp.ext != ap.ext {
			ap.clip = true
		}
	}
	ap.columnar = p.cond.shared == nil && p.cond.mixed == nil && len(ap.aux) == 0 && !p.virtual()
	ap.selected = make([]bool, len(p.cols))
	for _, cp := range ap.calls {
		if cp.col >= 0 {
			ap.selected[cp.col] = true
		}
	}
	return nil
}

// addOut plans the output stream of a top-level function call and returns
// its index. A call written twice is computed once (1.x does the same, which
// is why last(v), last(v) keeps the point's time like a lone last(v)).
func (p *plan) addOut(call *influxql.Call) (int, error) {
	ap := p.agg
	key := call.String()
	for i, have := range ap.outKeys {
		if have == key {
			return i, nil
		}
	}
	op := &outPlan{call: -1, col: -1}
	if isTransformation(call.Name) {
		if err := p.buildTransform(op, call); err != nil {
			return 0, err
		}
	} else {
		k, err := p.addCall(call)
		if err != nil {
			return 0, err
		}
		op.call = k
		op.typ = ap.calls[k].outType()
	}
	ap.outKeys = append(ap.outKeys, key)
	ap.outs = append(ap.outs, op)
	return len(ap.outs) - 1, nil
}

func isSelectorFn(fn string) bool {
	switch fn {
	case "first", "last", "min", "max", "percentile":
		return true
	}
	return false
}

// refSlot makes a direct slot of a lone call or auxiliary reference.
func refSlot(e influxql.Expr) slot {
	if ref, ok := e.(*influxql.VarRef); ok && len(ref.Val) > 1 {
		if n, err := strconv.Atoi(ref.Val[1:]); err == nil {
			switch ref.Val[0] {
			case 0:
				return slot{call: n, aux: -1}
			case 1:
				return slot{call: -1, aux: n}
			}
		}
	}
	return slot{call: -1, aux: -1, expr: e}
}

// addCall plans a call and returns its index.
func (p *plan) addCall(call *influxql.Call) (int, error) { return p.addCallExt(call, 0) }

// addCallExt plans a call whose points are read ext GROUP BY intervals
// beyond the query range (for a transformation), and returns its index.
func (p *plan) addCallExt(call *influxql.Call, ext int) (int, error) {
	ap := p.agg
	// A call written twice is computed once (1.x does the same, which is
	// why last(v), last(v) keeps the point's time like a lone last(v)). The
	// same call over another range is another call: the bucket at the
	// start of the range holds other points.
	key := call.String()
	for i, have := range ap.callKeys {
		if have == key && ap.calls[i].ext == ext {
			return i, nil
		}
	}
	ap.callKeys = append(ap.callKeys, key)
	cp := &callPlan{fn: call.Name, col: -1, desc: !p.c.ascending, ext: ext}
	arg := call.Args[0]
	if call.Name == "count" {
		if inner, ok := arg.(*influxql.Call); ok && inner.Name == "distinct" {
			cp.fn = "count_distinct"
			arg = inner.Args[0]
		}
	}
	switch call.Name {
	case "percentile":
		switch a := call.Args[1].(type) {
		case *influxql.IntegerLiteral:
			cp.arg = float64(a.Val)
		case *influxql.NumberLiteral:
			cp.arg = a.Val
		}
	case "sample":
		cp.n = int(call.Args[1].(*influxql.IntegerLiteral).Val)
	case "top", "bottom":
		cp.n = int(call.Args[len(call.Args)-1].(*influxql.IntegerLiteral).Val)
		cp.ntags = len(call.Args) - 2
	case "integral":
		cp.arg = float64(time.Second)
		if len(call.Args) == 2 {
			cp.arg = float64(call.Args[1].(*influxql.DurationLiteral).Val)
		}
		cp.windowed = true
	}
	if ref, ok := arg.(*influxql.VarRef); ok && isFieldRef(ref) && ref.Type != influxql.AnyField {
		cp.typ = fromDataType(ref.Type)
		if !supports(cp.fn, cp.typ) {
			name := call.Name
			return 0, invalidf("unsupported %s iterator type: %s", name, iteratorTypeName(cp.typ))
		}
		cp.col = p.colIndex(ref)
	}
	ap.calls = append(ap.calls, cp)
	return len(ap.calls) - 1, nil
}
