package index

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
)

// MatchOp is the comparison of a tag matcher.
type MatchOp int

// Matcher operators, as in InfluxQL: =, !=, =~ and !~.
const (
	Equal MatchOp = iota
	NotEqual
	Regex
	NotRegex
)

func (op MatchOp) String() string {
	switch op {
	case Equal:
		return "="
	case NotEqual:
		return "!="
	case Regex:
		return "=~"
	case NotRegex:
		return "!~"
	}
	return fmt.Sprintf("MatchOp(%d)", int(op))
}

// Matcher compares tag Key with Value (Equal, NotEqual) or with Re (Regex,
// NotRegex; an unanchored match, as Go's and 1.x's). As in InfluxDB 1.x, a
// series without the tag has the empty value for it: k equal to the empty
// string matches the series lacking k, k not equal to 'x' matches them too,
// and a regex matches them exactly when it matches the empty string.
type Matcher struct {
	Key   []byte
	Op    MatchOp
	Value []byte
	Re    *regexp.Regexp
}

// ExprOp is the kind of an Expr node.
type ExprOp int

// Expression nodes.
const (
	Leaf ExprOp = iota // Match holds the condition
	And                // Left AND Right
	Or                 // Left OR Right
)

// Expr is a boolean expression over tag matchers: the tag part of an
// InfluxQL WHERE clause, translated by the query engine.
type Expr struct {
	Op          ExprOp
	Left, Right *Expr
	Match       *Matcher
}

// NewLeaf returns the expression of one matcher.
func NewLeaf(key []byte, op MatchOp, value []byte, re *regexp.Regexp) *Expr {
	return &Expr{Op: Leaf, Match: &Matcher{Key: key, Op: op, Value: value, Re: re}}
}

// NewAnd returns l AND r.
func NewAnd(l, r *Expr) *Expr { return &Expr{Op: And, Left: l, Right: r} }

// NewOr returns l OR r.
func NewOr(l, r *Expr) *Expr { return &Expr{Op: Or, Left: l, Right: r} }

// Match returns the series of measurement name that satisfy expr (all of
// them when expr is nil), as a new bitmap; it is empty for an unknown
// measurement. The measurement's read lock is held throughout, so a regex
// over a million values delays the creation of new series in that
// measurement (not writes to existing ones) for as long as it runs.
func (ix *Index) Match(name []byte, expr *Expr) (*roaring.Bitmap, error) {
	if err := checkExpr(expr); err != nil {
		return nil, err
	}
	m := ix.measurementByName(name)
	if m == nil {
		return roaring.New(), nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if expr == nil {
		return m.series.Clone(), nil
	}
	r := ix.eval(m, expr)
	if r.neg {
		return roaring.AndNot(m.series, r.bm), nil
	}
	if !r.owned {
		return r.bm.Clone(), nil
	}
	return r.bm, nil
}

func checkExpr(e *Expr) error {
	if e == nil {
		return nil
	}
	switch e.Op {
	case Leaf:
		mt := e.Match
		if mt == nil {
			return fmt.Errorf("%w: leaf without matcher", ErrBadExpr)
		}
		switch mt.Op {
		case Equal, NotEqual:
		case Regex, NotRegex:
			if mt.Re == nil {
				return fmt.Errorf("%w: %s on %q without a regex", ErrBadExpr, mt.Op, mt.Key)
			}
		default:
			return fmt.Errorf("%w: %s", ErrBadExpr, mt.Op)
		}
		return nil
	case And, Or:
		if e.Left == nil || e.Right == nil {
			return fmt.Errorf("%w: missing operand", ErrBadExpr)
		}
		if err := checkExpr(e.Left); err != nil {
			return err
		}
		return checkExpr(e.Right)
	}
	return fmt.Errorf("%w: ExprOp(%d)", ErrBadExpr, int(e.Op))
}

// set is an intermediate result: bm, or (neg) every series of the
// measurement except bm. Keeping complements symbolic makes k != 'x' and
// "k is empty" cost the postings they name, not the whole measurement. owned
// says bm is a new bitmap that may be changed; otherwise it is the index's.
type set struct {
	bm    *roaring.Bitmap
	neg   bool
	owned bool
}

func (ix *Index) eval(m *measurement, e *Expr) set {
	if e.Op == Leaf {
		return ix.evalMatcher(m, e.Match)
	}
	a, b := ix.eval(m, e.Left), ix.eval(m, e.Right)
	if e.Op == And {
		switch {
		case !a.neg && !b.neg:
			return set{bm: roaring.And(a.bm, b.bm), owned: true}
		case !a.neg && b.neg:
			return set{bm: roaring.AndNot(a.bm, b.bm), owned: true}
		case a.neg && !b.neg:
			return set{bm: roaring.AndNot(b.bm, a.bm), owned: true}
		default: // ¬A ∧ ¬B = ¬(A ∨ B)
			return set{bm: roaring.Or(a.bm, b.bm), neg: true, owned: true}
		}
	}
	switch {
	case !a.neg && !b.neg:
		return set{bm: roaring.Or(a.bm, b.bm), owned: true}
	case !a.neg && b.neg: // A ∨ ¬B = ¬(B ∖ A)
		return set{bm: roaring.AndNot(b.bm, a.bm), neg: true, owned: true}
	case a.neg && !b.neg:
		return set{bm: roaring.AndNot(a.bm, b.bm), neg: true, owned: true}
	default: // ¬A ∨ ¬B = ¬(A ∧ B)
		return set{bm: roaring.And(a.bm, b.bm), neg: true, owned: true}
	}
}

// evalMatcher applies 1.x's rules for one matcher; m.mu is held.
func (ix *Index) evalMatcher(m *measurement, mt *Matcher) set {
	tk := m.keyByName(mt.Key)
	// with is the set of series that have key k (empty if no series does).
	with := func() set {
		if tk == nil {
			return set{bm: roaring.New(), owned: true}
		}
		return set{bm: tk.series}
	}
	empty := set{bm: roaring.New(), owned: true}
	switch mt.Op {
	case Equal:
		if len(mt.Value) == 0 { // the series lacking k
			w := with()
			w.neg = true
			return w
		}
		return ix.valueSet(tk, mt.Value)
	case NotEqual:
		if len(mt.Value) == 0 { // the series having k
			return with()
		}
		s := ix.valueSet(tk, mt.Value)
		s.neg = true
		return s
	case Regex, NotRegex:
		matchesEmpty := mt.Re.Match(nil)
		// want is whether the values that match the regex are selected.
		want := mt.Op == Regex
		if tk == nil {
			if matchesEmpty == want {
				empty.neg = true // every series: they all lack k
			}
			return empty
		}
		// When the empty value is selected, the series lacking k are in the
		// result: compute the complement from the values not selected.
		if matchesEmpty == want {
			s := ix.regexSet(tk, mt.Re, !want)
			s.neg = true
			return s
		}
		return ix.regexSet(tk, mt.Re, want)
	}
	panic("BUG: unchecked matcher op")
}

// valueSet returns the series whose key tk has value v.
func (ix *Index) valueSet(tk *tagKey, v []byte) set {
	if tk != nil {
		if i, ok := ix.findValue(tk, v); ok {
			if p := tk.post[i]; p != 0 {
				return set{bm: roaring.BitmapOf(p), owned: true}
			}
			if bm := tk.multi[i]; bm != nil {
				return set{bm: bm}
			}
		}
	}
	return set{bm: roaring.New(), owned: true}
}

// regexSet returns the union of the postings of the values of tk for which
// re.Match equals match.
func (ix *Index) regexSet(tk *tagKey, re *regexp.Regexp, match bool) set {
	var singles []uint32
	var bms []*roaring.Bitmap
	add := func(vi uint32) {
		if !tk.alive(vi) || re.Match(ix.valueBytes(tk, vi)) != match {
			return
		}
		if p := tk.post[vi]; p != 0 {
			singles = append(singles, p)
		} else {
			bms = append(bms, tk.multi[vi])
		}
	}
	if prefix := anchoredPrefix(re); match && prefix != nil {
		// Only values starting with the prefix can match: find them in the
		// sorted values instead of running the regex on every value.
		sorted := ix.sortedValues(tk)
		i, _ := slices.BinarySearchFunc(sorted, prefix, func(v uint32, p []byte) int {
			return bytes.Compare(ix.valueBytes(tk, v), p)
		})
		for ; i < len(sorted) && bytes.HasPrefix(ix.valueBytes(tk, sorted[i]), prefix); i++ {
			add(sorted[i])
		}
	} else {
		for v := range tk.post {
			add(uint32(v))
		}
	}
	var out *roaring.Bitmap
	switch len(bms) {
	case 0:
		out = roaring.New()
	case 1:
		out = bms[0].Clone()
	default:
		out = roaring.FastOr(bms...)
	}
	if len(singles) > 0 {
		slices.Sort(singles)
		out.AddMany(singles)
	}
	return set{bm: out, owned: true}
}

// anchoredPrefix returns the literal that every value matching re starts
// with, when re is anchored at the start of the text (^…); nil otherwise.
func anchoredPrefix(re *regexp.Regexp) []byte {
	if !strings.HasPrefix(re.String(), "^") {
		return nil
	}
	if p, _ := re.LiteralPrefix(); p != "" {
		return []byte(p)
	}
	return nil
}
