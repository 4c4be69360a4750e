package query

import (
	"strconv"
	"strings"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/storage/index"
)

// The WHERE clause (without its time conditions) is split by its top-level
// AND into three parts:
//
//   - tag conditions that storage's tag index can answer (=, !=, =~, !~
//     against literals, combined with AND and OR): they select series;
//   - field conditions, evaluated on every row of every series;
//   - conditions that mix tags and fields (or compare tags in ways the
//     index cannot): for each series, its tag values are substituted and
//     the rest is folded, which leaves a field condition for that series
//     (or drops the series when it folds to false).
//
// A tag that a series lacks has the empty value, as in 1.x.

// indexExprPlan is the index-answerable part of the condition.
type indexExprPlan struct {
	expr *index.Expr // nil: every series
	none bool        // no series can match
}

// condPlan is the per-row part of the condition. Field references in it are
// rewritten to column references (see colRef).
type condPlan struct {
	shared influxql.Expr // field conditions common to every series
	mixed  influxql.Expr // reduced per series with its tags
}

// colRef names column i in rewritten expressions; the NUL byte keeps it
// apart from every identifier a user can write.
func colRef(i int) string { return "\x00" + strconv.Itoa(i) }

// parseColRef returns the column of a colRef name.
func parseColRef(name string) (int, bool) {
	if len(name) < 2 || name[0] != 0 {
		return 0, false
	}
	i, err := strconv.Atoi(name[1:])
	return i, err == nil
}

// isFieldRef reports whether a (typed) reference reads a field.
func isFieldRef(ref *influxql.VarRef) bool {
	switch ref.Type {
	case influxql.Float, influxql.Integer, influxql.Unsigned, influxql.String, influxql.Boolean, influxql.AnyField:
		return true
	}
	return false
}

// planCondition splits cond; columns for field references are added to p.
func (p *plan) planCondition(cond influxql.Expr) {
	p.tagExpr = &indexExprPlan{}
	p.cond = &condPlan{}
	for _, conj := range splitAnd(cond, nil) {
		hasField, hasTag := refKinds(conj)
		switch {
		case !hasField && p.virtual():
			// A subquery's result has no index: its series are matched by
			// substituting their tags.
			if lit, ok := conj.(*influxql.BooleanLiteral); ok {
				if !lit.Val {
					p.tagExpr.none = true
				}
				continue
			}
			p.cond.mixed = andExpr(p.cond.mixed, conj)
		case !hasField:
			if lit, ok := conj.(*influxql.BooleanLiteral); ok {
				if !lit.Val {
					p.tagExpr.none = true
				}
				continue
			}
			if ie, kind := toIndexExpr(conj); kind != exprOpaque {
				switch kind {
				case exprNone:
					p.tagExpr.none = true
				case exprLeaf:
					if p.tagExpr.expr == nil {
						p.tagExpr.expr = ie
					} else {
						p.tagExpr.expr = index.NewAnd(p.tagExpr.expr, ie)
					}
				}
				continue
			}
			p.cond.mixed = andExpr(p.cond.mixed, conj)
		case !hasTag:
			p.cond.shared = andExpr(p.cond.shared, p.rewriteRefs(conj))
		default:
			p.cond.mixed = andExpr(p.cond.mixed, p.rewriteRefs(conj))
		}
	}
}

// splitAnd appends the conjuncts of e (through parentheses) to dst.
func splitAnd(e influxql.Expr, dst []influxql.Expr) []influxql.Expr {
	switch e := e.(type) {
	case nil:
		return dst
	case *influxql.ParenExpr:
		return splitAnd(e.Expr, dst)
	case *influxql.BinaryExpr:
		if e.Op == influxql.AND {
			return splitAnd(e.RHS, splitAnd(e.LHS, dst))
		}
	}
	return append(dst, e)
}

func andExpr(a, b influxql.Expr) influxql.Expr {
	if a == nil {
		return b
	}
	return &influxql.BinaryExpr{Op: influxql.AND, LHS: a, RHS: b}
}

// refKinds reports whether e references fields and tags (or names that are
// neither, which behave as missing tags).
func refKinds(e influxql.Expr) (field, tag bool) {
	influxql.WalkFunc(e, func(n influxql.Node) {
		if ref, ok := n.(*influxql.VarRef); ok {
			if isFieldRef(ref) {
				field = true
			} else {
				tag = true
			}
		}
	})
	return field, tag
}

type indexExprKind int

const (
	exprOpaque indexExprKind = iota // the index cannot answer it
	exprLeaf                        // an index expression
	exprAll                         // every series
	exprNone                        // no series
)

// toIndexExpr converts a tag-only condition into an index expression.
func toIndexExpr(e influxql.Expr) (*index.Expr, indexExprKind) {
	switch e := e.(type) {
	case *influxql.ParenExpr:
		return toIndexExpr(e.Expr)
	case *influxql.BooleanLiteral:
		if e.Val {
			return nil, exprAll
		}
		return nil, exprNone
	case *influxql.BinaryExpr:
		switch e.Op {
		case influxql.AND, influxql.OR:
			l, lk := toIndexExpr(e.LHS)
			r, rk := toIndexExpr(e.RHS)
			if lk == exprOpaque || rk == exprOpaque {
				return nil, exprOpaque
			}
			return combineIndexExpr(e.Op, l, lk, r, rk)
		case influxql.EQ, influxql.NEQ, influxql.EQREGEX, influxql.NEQREGEX:
			ref, lit := e.LHS, e.RHS
			if _, ok := ref.(*influxql.VarRef); !ok {
				ref, lit = lit, ref
			}
			vr, ok := ref.(*influxql.VarRef)
			if !ok {
				return nil, exprOpaque
			}
			key := []byte(vr.Val)
			switch e.Op {
			case influxql.EQ, influxql.NEQ:
				s, ok := lit.(*influxql.StringLiteral)
				if !ok {
					return nil, exprOpaque
				}
				op := index.Equal
				if e.Op == influxql.NEQ {
					op = index.NotEqual
				}
				return index.NewLeaf(key, op, []byte(s.Val), nil), exprLeaf
			default:
				re, ok := lit.(*influxql.RegexLiteral)
				if !ok || e.LHS != ref {
					return nil, exprOpaque
				}
				op := index.Regex
				if e.Op == influxql.NEQREGEX {
					op = index.NotRegex
				}
				return index.NewLeaf(key, op, nil, re.Val), exprLeaf
			}
		}
	}
	return nil, exprOpaque
}

func combineIndexExpr(op influxql.Token, l *index.Expr, lk indexExprKind, r *index.Expr, rk indexExprKind) (*index.Expr, indexExprKind) {
	if op == influxql.AND {
		switch {
		case lk == exprNone || rk == exprNone:
			return nil, exprNone
		case lk == exprAll:
			return r, rk
		case rk == exprAll:
			return l, lk
		}
		return index.NewAnd(l, r), exprLeaf
	}
	switch {
	case lk == exprAll || rk == exprAll:
		return nil, exprAll
	case lk == exprNone:
		return r, rk
	case rk == exprNone:
		return l, lk
	}
	return index.NewOr(l, r), exprLeaf
}

// rewriteRefs returns e with every field reference replaced by a reference
// to its column (added to p.cols if new).
func (p *plan) rewriteRefs(e influxql.Expr) influxql.Expr {
	return influxql.RewriteExpr(influxql.CloneExpr(e), func(n influxql.Expr) influxql.Expr {
		ref, ok := n.(*influxql.VarRef)
		if !ok || !isFieldRef(ref) {
			return n
		}
		return &influxql.VarRef{Val: colRef(p.colIndex(ref)), Type: ref.Type}
	})
}

// colIndex returns the column of a field reference, adding it if needed.
// An unresolved reference (a ::field cast of a name that is no field) gets
// a column that reads nothing.
func (p *plan) colIndex(ref *influxql.VarRef) int {
	c := column{name: ref.Val, typ: fromDataType(ref.Type)}
	for i, have := range p.cols {
		if have == c {
			return i
		}
	}
	p.cols = append(p.cols, c)
	return len(p.cols) - 1
}

// seriesCondition returns the row condition of a series with the given tag
// lookup, and whether the series can match at all.
func (cp *condPlan) seriesCondition(tag func(string) string) (influxql.Expr, bool) {
	if cp.mixed == nil {
		return cp.shared, true
	}
	reduced := influxql.Reduce(cp.mixed, tagValuer(tag))
	if lit, ok := reduced.(*influxql.BooleanLiteral); ok {
		if !lit.Val {
			return nil, false
		}
		return cp.shared, true
	}
	return andExpr(cp.shared, reduced), true
}

// tagValuer substitutes tag values (the empty string for missing tags) for
// every reference that is not a column.
type tagValuer func(string) string

// Value implements influxql.Valuer.
func (f tagValuer) Value(key string) (any, bool) {
	if strings.HasPrefix(key, "\x00") {
		return nil, false
	}
	return f(key), true
}

// rowValuer gives a row's column values to influxql's evaluator; names that
// are not columns are looked up as tags (nil when missing).
type rowValuer struct {
	vals []any
	tag  func(string) (string, bool)
}

// Call implements influxql.CallValuer: math functions.
func (v *rowValuer) Call(name string, args []any) (any, bool) { return callMath(name, args) }

// Value implements influxql.Valuer.
func (v *rowValuer) Value(key string) (any, bool) {
	if i, ok := parseColRef(key); ok {
		if i < len(v.vals) {
			return v.vals[i], true
		}
		return nil, true
	}
	if v.tag != nil {
		if s, ok := v.tag(key); ok {
			return s, true
		}
	}
	return nil, false
}

// condEval evaluates row conditions. A comparison with a missing (null)
// operand is false, including against a boolean literal: influxql's
// evaluator would treat the null as false there, but 1.x's storage never
// matches a point on a field it does not have.
type condEval struct {
	valuer rowValuer
	eval   influxql.ValuerEval
}

func newCondEval() *condEval {
	c := &condEval{}
	c.eval.Valuer = &c.valuer
	return c
}

// match reports whether the row vals satisfies cond.
func (c *condEval) match(cond influxql.Expr, vals []any) bool {
	c.valuer.vals = vals
	return c.test(cond)
}

func (c *condEval) test(e influxql.Expr) bool {
	switch e := e.(type) {
	case *influxql.ParenExpr:
		return c.test(e.Expr)
	case *influxql.BooleanLiteral:
		return e.Val
	case *influxql.BinaryExpr:
		switch e.Op {
		case influxql.AND:
			return c.test(e.LHS) && c.test(e.RHS)
		case influxql.OR:
			return c.test(e.LHS) || c.test(e.RHS)
		}
		if c.eval.Eval(e.LHS) == nil || c.eval.Eval(e.RHS) == nil {
			return false
		}
	}
	return c.eval.EvalBool(e)
}
