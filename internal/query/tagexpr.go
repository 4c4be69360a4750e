package query

import (
	"time"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/storage/index"
)

// The statements that read or change the schema (SHOW SERIES, SHOW TAG
// VALUES, DELETE, DROP SERIES, ...) filter series with the same tag
// conditions as SELECT, answered by the series index alone. These two
// functions give them SELECT's translation, so that a WHERE clause means
// the same thing in both.

// TagCondition is a WHERE clause over tags, translated for the series
// index.
type TagCondition struct {
	// Expr selects the series; nil selects every series (unless None).
	Expr *index.Expr
	// None is set when no series can match (the clause folds to false).
	None bool
}

// TagExpr translates cond, which must hold no time condition (see
// SplitTime), into an index expression. It accepts what the index can
// answer: =, != against a string literal (either side), =~, !~ against a
// regex literal (on the right), boolean literals, parentheses, AND and OR.
// A tag a series lacks has the empty value, as in SELECT and 1.x. ok is
// false when cond holds anything else: another operator, a number, a
// comparison of two references, a call.
func TagExpr(cond influxql.Expr) (tc TagCondition, ok bool) {
	if cond == nil {
		return TagCondition{}, true
	}
	expr, kind := toIndexExpr(cond)
	switch kind {
	case exprLeaf:
		return TagCondition{Expr: expr}, true
	case exprAll:
		return TagCondition{}, true
	case exprNone:
		return TagCondition{None: true}, true
	}
	return TagCondition{}, false
}

// SplitTime removes the time conditions from cond, as SELECT does
// (influxql.ConditionExpr, with now() evaluated at now), and returns the
// rest of the condition and the time range [min, max] in nanoseconds, both
// inclusive: influxql.MinTime and influxql.MaxTime where cond sets no
// bound. A time condition under OR is an error, with influxql's text.
func SplitTime(cond influxql.Expr, now time.Time) (rest influxql.Expr, min, max int64, err error) {
	if cond == nil {
		return nil, influxql.MinTime, influxql.MaxTime, nil
	}
	rest, tr, err := influxql.ConditionExpr(cond, &influxql.NowValuer{Now: now})
	if err != nil {
		return nil, 0, 0, err
	}
	return rest, tr.MinTimeNano(), tr.MaxTimeNano(), nil
}
