package query

import (
	"github.com/influxdata/influxql"
)

// A raw query with a selective field condition (TSBS high-cpu: WHERE
// usage_user > 90) used to build every row of a series, all columns
// merged and boxed, only to drop most of them. A driver column skips
// ahead instead: the rows the condition can accept are those where one
// column compared with a number satisfies the comparison, so that column
// is scanned first, typed, and the others jump to the time it found. The
// whole condition is still evaluated on the row that results: the driver
// only skips rows that cannot match, never decides alone.

// rowDriver is a column that can move to its next value satisfying the
// driver's comparison.
type rowDriver interface {
	rowCol
	// seek moves past the values that fail the comparison and returns the
	// time of the next one that passes; false at the end.
	seek() (int64, bool, error)
}

// seek implements rowDriver for the numeric columns given a predicate.
func (c *rowColOf[T]) seek() (int64, bool, error) {
	for {
		if _, ok, err := c.peek(); err != nil || !ok {
			return 0, false, err
		}
		for ; c.i < len(c.arr.Times); c.i++ {
			if c.pred(c.arr.Values[c.i]) {
				return c.arr.Times[c.i], true, nil
			}
		}
	}
}

// skipTo moves past the values before t (after t when descending).
func (c *rowColOf[T]) skipTo(t int64) error {
	for {
		if _, ok, err := c.peek(); err != nil || !ok {
			return err
		}
		times := c.arr.Times
		lo, hi := c.i, len(times)
		for lo < hi { // the first index at or past t in query order
			m := int(uint(lo+hi) >> 1)
			if c.cc.asc && times[m] < t || !c.cc.asc && times[m] > t {
				lo = m + 1
			} else {
				hi = m
			}
		}
		c.i = lo
		if c.i < len(times) {
			return nil
		}
	}
}

// setDriver picks, among the top-level AND terms of cond, the first
// comparison of a float or integer column with a number literal, and makes
// that column drive r. Without one, r reads every row.
func (r *rowReader) setDriver(cond influxql.Expr) {
	for _, term := range splitAnd(cond, nil) {
		for {
			p, ok := term.(*influxql.ParenExpr)
			if !ok {
				break
			}
			term = p.Expr
		}
		be, ok := term.(*influxql.BinaryExpr)
		if !ok {
			continue
		}
		op, ref, lit := be.Op, be.LHS, be.RHS
		if _, isRef := ref.(*influxql.VarRef); !isRef {
			op, ref, lit = mirror(op), be.RHS, be.LHS
		}
		vr, ok := ref.(*influxql.VarRef)
		if !ok {
			continue
		}
		i, ok := parseColRef(vr.Val)
		if !ok || i >= len(r.cols) || r.cols[i] == nil {
			continue
		}
		switch c := r.cols[i].(type) {
		case *rowColOf[float64]:
			c.pred = floatPredicate(op, lit)
			if c.pred != nil {
				r.driver, r.driverCol = c, i
				return
			}
		case *rowColOf[int64]:
			c.pred = integerPredicate(op, lit)
			if c.pred != nil {
				r.driver, r.driverCol = c, i
				return
			}
		}
	}
}

// mirror returns the operator that gives the same comparison with its
// operands swapped (0 for one that is not a comparison).
func mirror(op influxql.Token) influxql.Token {
	switch op {
	case influxql.EQ:
		return influxql.EQ
	case influxql.LT:
		return influxql.GT
	case influxql.LTE:
		return influxql.GTE
	case influxql.GT:
		return influxql.LT
	case influxql.GTE:
		return influxql.LTE
	}
	return 0
}

// compare returns the predicate "v op x" for ordered values.
func compare[T int64 | float64](op influxql.Token, x T) func(T) bool {
	switch op {
	case influxql.EQ:
		return func(v T) bool { return v == x }
	case influxql.LT:
		return func(v T) bool { return v < x }
	case influxql.LTE:
		return func(v T) bool { return v <= x }
	case influxql.GT:
		return func(v T) bool { return v > x }
	case influxql.GTE:
		return func(v T) bool { return v >= x }
	}
	return nil
}

// floatPredicate is "v op lit" for a float column, as influxql compares a
// float with an integer or float literal; nil for anything else.
func floatPredicate(op influxql.Token, lit influxql.Expr) func(float64) bool {
	switch l := lit.(type) {
	case *influxql.NumberLiteral:
		return compare(op, l.Val)
	case *influxql.IntegerLiteral:
		return compare(op, float64(l.Val))
	}
	return nil
}

// integerPredicate is "v op lit" for an integer column: exact against an
// integer literal, in float64 against a float one (as influxql does).
func integerPredicate(op influxql.Token, lit influxql.Expr) func(int64) bool {
	switch l := lit.(type) {
	case *influxql.IntegerLiteral:
		return compare(op, l.Val)
	case *influxql.NumberLiteral:
		if p := compare(op, l.Val); p != nil {
			return func(v int64) bool { return p(float64(v)) }
		}
	}
	return nil
}
