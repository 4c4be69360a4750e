package query

import "math"

// The scalar math functions (ABS … TAN) are evaluated per output row over
// the row's values, after the calls of a statement are lined up, as 1.x
// does. Their results follow 1.x's, quirks included: abs, floor, ceil and
// round return integers unchanged (so abs(-5i) is -5), an argument of the
// wrong type gives null, and a NaN result (sqrt(-1)) is sent as null.

// isMathFunction reports whether name is one of 1.x's scalar math
// functions.
func isMathFunction(name string) bool {
	switch name {
	case "abs", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "exp", "log", "ln",
		"log2", "log10", "sqrt", "pow", "floor", "ceil", "round":
		return true
	}
	return false
}

// mathArgs is the number of arguments a math function takes.
func mathArgs(name string) int {
	switch name {
	case "atan2", "pow", "log":
		return 2
	}
	return 1
}

// callMath evaluates a math function; ok is false for a name that is not
// one, or a wrong number of arguments (the evaluator then yields null).
func callMath(name string, args []any) (any, bool) {
	if !isMathFunction(name) || len(args) != mathArgs(name) {
		return nil, false
	}
	switch len(args) {
	case 1:
		return callMath1(name, args[0]), true
	case 2:
		x, ok1 := toFloatOK(args[0])
		y, ok2 := toFloatOK(args[1])
		if !ok1 || !ok2 {
			return nil, true
		}
		switch name {
		case "atan2":
			return math.Atan2(x, y), true
		case "log":
			return math.Log(x) / math.Log(y), true
		case "pow":
			return math.Pow(x, y), true
		}
	}
	return nil, false
}

func callMath1(name string, arg any) any {
	switch name {
	case "abs", "floor", "ceil", "round":
		switch x := arg.(type) {
		case int64, uint64:
			return x
		case float64:
			switch name {
			case "abs":
				return math.Abs(x)
			case "floor":
				return math.Floor(x)
			case "ceil":
				return math.Ceil(x)
			}
			return roundHalfAway(x)
		}
		return nil
	}
	x, ok := toFloatOK(arg)
	if !ok {
		return nil
	}
	switch name {
	case "sin":
		return math.Sin(x)
	case "cos":
		return math.Cos(x)
	case "tan":
		return math.Tan(x)
	case "asin":
		return math.Asin(x)
	case "acos":
		return math.Acos(x)
	case "atan":
		return math.Atan(x)
	case "exp":
		return math.Exp(x)
	case "ln":
		return math.Log(x)
	case "log2":
		return math.Log2(x)
	case "log10":
		return math.Log10(x)
	case "sqrt":
		return math.Sqrt(x)
	}
	return nil
}

// roundHalfAway rounds half away from zero.
func roundHalfAway(x float64) float64 {
	t := math.Trunc(x)
	if math.Abs(x-t) >= 0.5 {
		return t + math.Copysign(1, x)
	}
	return t
}

// mathValuer evaluates math functions of literals, for influxql.Reduce.
type mathValuer struct{}

// Value implements influxql.Valuer.
func (mathValuer) Value(string) (any, bool) { return nil, false }

// Call implements influxql.CallValuer.
func (mathValuer) Call(name string, args []any) (any, bool) { return callMath(name, args) }

// nanToNull turns a NaN result into null, as 1.x sends it.
func nanToNull(v any) any {
	if f, ok := v.(float64); ok && math.IsNaN(f) {
		return nil
	}
	return v
}
