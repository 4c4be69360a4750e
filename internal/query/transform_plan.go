package query

import (
	"time"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/models"
)

// buildTransform plans a transformation call: its chain of functions down
// to the aggregate call or raw field it reads, their arguments, and how far
// beyond the query range its input is read.
func (p *plan) buildTransform(op *outPlan, call *influxql.Call) error {
	c, ap := p.c, p.agg
	// Unwind nested transformations (derivative(difference(max(v)))):
	// each one reads the output of the one inside it.
	var chain []*influxql.Call
	expr := influxql.Expr(call)
	for {
		cl, ok := expr.(*influxql.Call)
		if !ok || !isTransformation(cl.Name) {
			break
		}
		chain = append(chain, cl)
		expr = cl.Args[0]
	}
	// A transformation of an aggregate reads intervals beyond the range; a
	// transformation of a raw field (in a subquery that inherits an
	// interval) reads the range as is.
	_, ofCall := expr.(*influxql.Call)
	ext := 0
	if c.interval > 0 && ofCall {
		for _, cl := range chain {
			if (&tfSpec{fn: cl.Name}).extendsRange() {
				ext++
			}
		}
	}
	var in models.FieldType // the input type of the innermost transformation
	var raw models.FieldType
	switch e := expr.(type) {
	case *influxql.Call:
		if isMathFunction(e.Name) {
			return invalidf("unsupported call: %s", e.Name)
		}
		k, err := p.addCallExt(e, ext)
		if err != nil {
			return err
		}
		op.call = k
		in, raw = ap.calls[k].outType(), ap.calls[k].typ
		if ap.calls[k].col < 0 {
			in = models.Unknown
		}
	case *influxql.VarRef:
		if isFieldRef(e) && e.Type != influxql.AnyField {
			op.col = p.colIndex(e)
			in = fromDataType(e.Type)
			raw = in
		}
		ap.raw = true
	default:
		return invalidf("unsupported call: %s", call.Name)
	}
	op.ext = ext
	for i := len(chain) - 1; i >= 0; i-- {
		cl := chain[i]
		if in != models.Unknown && !tfSupports(cl.Name, in) {
			return invalidf("unsupported %s iterator type: %s", tfIteratorName(cl.Name), iteratorTypeName(raw))
		}
		spec := p.tfSpec(cl, in)
		op.tfs = append(op.tfs, spec)
		if in != models.Unknown {
			in = spec.outType()
		}
	}
	op.typ = in
	if op.typ == models.Unknown {
		op.typ = op.tfs[len(op.tfs)-1].outType()
	}
	if op.ext > 0 {
		// 1.x moves the start of the input's range back by the intervals
		// without checking for overflow: without a lower time bound the
		// range wraps around and nothing is read.
		span := int64(op.ext) * c.interval
		if c.ascending && (span/c.interval != int64(op.ext) || c.tmin < influxql.MinTime+span) {
			op.void = true
		}
		ap.ext = max(ap.ext, op.ext)
	}
	return nil
}

// tfSpec turns a transformation call into its parameters; the arguments
// were validated by compile.
func (p *plan) tfSpec(call *influxql.Call, in models.FieldType) *tfSpec {
	c := p.c
	s := &tfSpec{fn: call.Name, asc: c.ascending, in: in, hold: -1, every: c.interval}
	intArg := func(i int, def int) int {
		if i < len(call.Args) {
			if lit, ok := call.Args[i].(*influxql.IntegerLiteral); ok {
				return int(lit.Val)
			}
		}
		return def
	}
	switch call.Name {
	case "derivative", "non_negative_derivative":
		switch {
		case len(call.Args) == 2:
			s.unit = int64(call.Args[1].(*influxql.DurationLiteral).Val)
		case c.interval > 0:
			s.unit = c.interval
		default:
			s.unit = int64(time.Second)
		}
	case "elapsed":
		s.unit = 1
		if len(call.Args) == 2 {
			s.unit = int64(call.Args[1].(*influxql.DurationLiteral).Val)
		}
	case "moving_average":
		s.n = intArg(1, 2)
	case "holt_winters", "holt_winters_with_fit":
		s.n = intArg(1, 1)
		s.season = intArg(2, 0)
		s.withFit = call.Name == "holt_winters_with_fit"
	default:
		s.n = intArg(1, 1)
		s.hold = intArg(2, -1)
		s.warm = warmupEMA
		if call.Name == "chande_momentum_oscillator" {
			s.warm = warmupNone
		}
		if len(call.Args) >= 4 {
			if lit, ok := call.Args[3].(*influxql.StringLiteral); ok {
				s.warm, _ = warmupType(call.Name, lit.Val)
			}
		}
	}
	return s
}

// extraIntervals returns how many GROUP BY intervals beyond the query range
// the statement's transformations read: one for each transformation in a
// chain that extends its input (see tfSpec.extendsRange), the most of any
// field.
func extraIntervals(c *compiled) int {
	if c.interval == 0 {
		return 0
	}
	var depth func(e influxql.Expr) int
	depth = func(e influxql.Expr) int {
		switch e := e.(type) {
		case *influxql.Call:
			n := 0
			if isTransformation(e.Name) {
				if len(e.Args) == 0 {
					return 0
				}
				if _, ofCall := e.Args[0].(*influxql.Call); !ofCall {
					return 0 // a raw field: read over the range only
				}
				n = depth(e.Args[0])
				if (&tfSpec{fn: e.Name}).extendsRange() {
					n++
				}
				return n
			}
			for _, a := range e.Args {
				n = max(n, depth(a))
			}
			return n
		case *influxql.BinaryExpr:
			return max(depth(e.LHS), depth(e.RHS))
		case *influxql.ParenExpr:
			return depth(e.Expr)
		}
		return 0
	}
	n := 0
	for _, f := range c.stmt.Fields {
		n = max(n, depth(f.Expr))
	}
	return n
}
