package query

import (
	"github.com/influxdata/influxql"
)

// Validation of math functions and transformations, with 1.x's rules and
// texts in 1.x's order. A transformation takes either a field (then the
// statement may not have a GROUP BY time, unless a subquery inherits it)
// or a function call (then it must have one).

// math validates a math function: its number of arguments, and every
// argument that is not a literal.
func (fc *fieldCompiler) math(call *influxql.Call) error {
	want := mathArgs(call.Name)
	if got := len(call.Args); got != want {
		return invalidf("invalid number of arguments for %s, expected %d, got %d", call.Name, want, got)
	}
	for _, arg := range call.Args {
		if _, ok := arg.(influxql.Literal); ok {
			continue
		}
		if err := fc.expr(arg); err != nil {
			return err
		}
	}
	return nil
}

// nested validates the function call inside another (count(distinct(v))
// style: distinct() is allowed there).
func (fc *fieldCompiler) nested(expr influxql.Expr) error {
	switch expr := expr.(type) {
	case *influxql.Call:
		if expr.Name == "distinct" {
			return fc.distinct(expr.Args, true)
		}
	case *influxql.Distinct:
		return fc.distinct(expr.NewCall().Args, true)
	}
	return fc.expr(expr)
}

// transformInput validates the first argument of a transformation.
func (fc *fieldCompiler) transformInput(name string, arg influxql.Expr, nestedCall bool) error {
	c := fc.c
	if call, ok := arg.(*influxql.Call); ok {
		if c.interval == 0 {
			return invalidf("%s aggregate requires a GROUP BY interval", name)
		}
		if nestedCall {
			return fc.nested(call)
		}
		return fc.expr(call)
	}
	if c.interval != 0 && !c.inherited {
		return invalidf("aggregate function required inside the call to %s", name)
	}
	return fc.symbol(name, arg)
}

// derivative validates derivative(), non_negative_derivative() and
// elapsed(): a field or call and an optional positive duration.
func (fc *fieldCompiler) derivative(name string, args []influxql.Expr) error {
	if got := len(args); got < 1 || got > 2 {
		return invalidf("invalid number of arguments for %s, expected at least %d but no more than %d, got %d", name, 1, 2, got)
	}
	if len(args) == 2 {
		d, ok := args[1].(*influxql.DurationLiteral)
		if !ok {
			return invalidf("second argument to %s must be a duration, got %T", name, args[1])
		}
		if d.Val <= 0 {
			return invalidf("duration argument must be positive, got %s", influxql.FormatDuration(d.Val))
		}
	}
	fc.c.onlySelectors = false
	return fc.transformInput(name, args[0], true)
}

// difference validates difference(), non_negative_difference() and
// cumulative_sum(): exactly one argument.
func (fc *fieldCompiler) difference(name string, args []influxql.Expr) error {
	if got := len(args); got != 1 {
		return invalidf("invalid number of arguments for %s, expected 1, got %d", name, got)
	}
	fc.c.onlySelectors = false
	return fc.transformInput(name, args[0], true)
}

func (fc *fieldCompiler) movingAverage(args []influxql.Expr) error {
	if got := len(args); got != 2 {
		return invalidf("invalid number of arguments for moving_average, expected 2, got %d", got)
	}
	n, ok := args[1].(*influxql.IntegerLiteral)
	if !ok {
		return invalidf("second argument for moving_average must be an integer, got %T", args[1])
	}
	if n.Val <= 1 {
		return invalidf("moving_average window must be greater than 1, got %d", n.Val)
	}
	fc.c.onlySelectors = false
	return fc.transformInput("moving_average", args[0], true)
}

// technical validates the technical-analysis functions: (field or call,
// period[, hold period[, warm-up type]]); warmups lists the accepted
// warm-up types as 1.x's message shows them ("" when the function takes
// none).
func (fc *fieldCompiler) technical(name string, args []influxql.Expr, maxArgs int, warmups string) error {
	if got := len(args); got < 2 || got > maxArgs {
		return invalidf("invalid number of arguments for %s, expected at least 2 but no more than %d, got %d", name, maxArgs, got)
	}
	period, ok := args[1].(*influxql.IntegerLiteral)
	if !ok {
		return invalidf("%s period must be an integer", name)
	}
	if period.Val < 1 {
		return invalidf("%s period must be greater than or equal to 1", name)
	}
	if len(args) >= 3 {
		hold, ok := args[2].(*influxql.IntegerLiteral)
		if !ok {
			return invalidf("%s hold period must be an integer", name)
		}
		if name == "triple_exponential_derivative" && hold.Val < 1 && hold.Val != -1 {
			return invalidf("%s hold period must be greater than or equal to 1", name)
		}
		if hold.Val < 0 && hold.Val != -1 {
			return invalidf("%s hold period must be greater than or equal to 0", name)
		}
	}
	if len(args) >= 4 {
		w, ok := args[3].(*influxql.StringLiteral)
		if !ok {
			return invalidf("%s warmup type must be a string", name)
		}
		if _, ok := warmupType(name, w.Val); !ok {
			return invalidf("%s warmup type must be one of: %s", name, warmups)
		}
	}
	fc.c.onlySelectors = false
	return fc.transformInput(name, args[0], false)
}

// warmupType maps a warm-up type argument to its constant.
func warmupType(fn, s string) (int, bool) {
	switch s {
	case "exponential":
		return warmupEMA, true
	case "simple":
		return warmupSMA, true
	case "none":
		return warmupNone, fn == "chande_momentum_oscillator"
	}
	return 0, false
}

func (fc *fieldCompiler) holtWinters(name string, args []influxql.Expr) error {
	if got := len(args); got != 3 {
		return invalidf("invalid number of arguments for %s, expected %d, got %d", name, 3, got)
	}
	n, ok := args[1].(*influxql.IntegerLiteral)
	if !ok {
		return invalidf("expected integer argument as second arg in %s", name)
	}
	if n.Val <= 0 {
		return invalidf("second arg to %s must be greater than 0, got %d", name, n.Val)
	}
	s, ok := args[2].(*influxql.IntegerLiteral)
	if !ok {
		return invalidf("expected integer argument as third arg in %s", name)
	}
	if s.Val < 0 {
		return invalidf("third arg to %s cannot be negative, got %d", name, s.Val)
	}
	fc.c.onlySelectors = false
	call, ok := args[0].(*influxql.Call)
	if !ok {
		return invalidf("must use aggregate function with %s", name)
	}
	if fc.c.interval == 0 {
		return invalidf("%s aggregate requires a GROUP BY interval", name)
	}
	return fc.nested(call)
}

// isTransformation reports whether a call transforms series rather than
// aggregating buckets.
func isTransformation(name string) bool {
	switch name {
	case "derivative", "non_negative_derivative", "difference", "non_negative_difference",
		"moving_average", "cumulative_sum", "elapsed", "holt_winters", "holt_winters_with_fit",
		"exponential_moving_average", "double_exponential_moving_average",
		"triple_exponential_moving_average", "relative_strength_index",
		"triple_exponential_derivative", "kaufmans_efficiency_ratio",
		"kaufmans_adaptive_moving_average", "chande_momentum_oscillator":
		return true
	}
	return false
}
