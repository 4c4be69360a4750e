package index_test

import (
	"errors"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadb/strata/internal/storage/index"
)

func leaf(k string, op index.MatchOp, v string) *index.Expr {
	var re *regexp.Regexp
	if op == index.Regex || op == index.NotRegex {
		re = regexp.MustCompile(v)
	}
	return index.NewLeaf([]byte(k), op, []byte(v), re)
}

func eq(k, v string) *index.Expr  { return leaf(k, index.Equal, v) }
func neq(k, v string) *index.Expr { return leaf(k, index.NotEqual, v) }
func re(k, v string) *index.Expr  { return leaf(k, index.Regex, v) }
func nre(k, v string) *index.Expr { return leaf(k, index.NotRegex, v) }

// TestMatch pins InfluxDB 1.x's tag semantics: a series without tag k has
// the value "" for k.
func TestMatch(t *testing.T) {
	ix := openIndex(t, t.TempDir(), index.Options{})
	create(t, ix,
		"cpu,host=a,region=us", // 1
		"cpu,host=b,region=us", // 2
		"cpu,host=c,region=eu", // 3
		"cpu,host=d",           // 4
		"cpu,region=eu",        // 5
		"cpu",                  // 6
		"mem,host=a",           // 7
	)
	all := []uint32{1, 2, 3, 4, 5, 6}
	for _, tc := range []struct {
		name string
		expr *index.Expr
		want []uint32
	}{
		{"nil", nil, all},
		{"host=a", eq("host", "a"), []uint32{1}},
		{"host=zz", eq("host", "zz"), nil},
		{"host=''", eq("host", ""), []uint32{5, 6}},
		{"host!=a", neq("host", "a"), []uint32{2, 3, 4, 5, 6}},
		{"host!=zz", neq("host", "zz"), all},
		{"host!=''", neq("host", ""), []uint32{1, 2, 3, 4}},
		{"region=us", eq("region", "us"), []uint32{1, 2}},
		{"region!=us", neq("region", "us"), []uint32{3, 4, 5, 6}},
		{"host=~/a|b/", re("host", "a|b"), []uint32{1, 2}},
		{"host=~/.*/", re("host", ".*"), all},
		{"host=~/^$/", re("host", "^$"), []uint32{5, 6}},
		{"host=~/^x/", re("host", "^x"), nil},
		{"host=~/^b/", re("host", "^b"), []uint32{2}},
		{"host=~/^[bc]$/", re("host", "^[bc]$"), []uint32{2, 3}},
		{"host!~/^c/", nre("host", "^c"), []uint32{1, 2, 4, 5, 6}},
		{"host!~/a|b/", nre("host", "a|b"), []uint32{3, 4, 5, 6}},
		{"host!~/.*/", nre("host", ".*"), nil},
		{"host!~/^$/", nre("host", "^$"), []uint32{1, 2, 3, 4}},
		{"host!~/^x/", nre("host", "^x"), all},
		{"nokey=''", eq("nokey", ""), all},
		{"nokey=x", eq("nokey", "x"), nil},
		{"nokey!=x", neq("nokey", "x"), all},
		{"nokey!=''", neq("nokey", ""), nil},
		{"nokey=~/x/", re("nokey", "x"), nil},
		{"nokey=~/x*/", re("nokey", "x*"), all},
		{"nokey!~/x/", nre("nokey", "x"), all},
		{"nokey!~/x*/", nre("nokey", "x*"), nil},
		{"host=a OR host=b", index.NewOr(eq("host", "a"), eq("host", "b")), []uint32{1, 2}},
		{"host=a AND region=us", index.NewAnd(eq("host", "a"), eq("region", "us")), []uint32{1}},
		{"host=a AND host=b", index.NewAnd(eq("host", "a"), eq("host", "b")), nil},
		{"host!=a AND region!=us", index.NewAnd(neq("host", "a"), neq("region", "us")), []uint32{3, 4, 5, 6}},
		{"host!=a OR host!=b", index.NewOr(neq("host", "a"), neq("host", "b")), all},
		{"host!=a OR region=eu", index.NewOr(neq("host", "a"), eq("region", "eu")), []uint32{2, 3, 4, 5, 6}},
		{"host='' OR region=''", index.NewOr(eq("host", ""), eq("region", "")), []uint32{4, 5, 6}},
		{"region!~/u/ OR host=a", index.NewOr(nre("region", "u"), eq("host", "a")), []uint32{1, 4, 6}},
		{"(host=a OR region=eu) AND host!=c",
			index.NewAnd(index.NewOr(eq("host", "a"), eq("region", "eu")), neq("host", "c")), []uint32{1, 5}},
		{"host=~/a|c/ AND (region=eu OR region='')",
			index.NewAnd(re("host", "a|c"), index.NewOr(eq("region", "eu"), eq("region", ""))), []uint32{3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bm, err := ix.Match([]byte("cpu"), tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			if got := bm.ToArray(); !cmp.Equal(got, tc.want, cmp.Comparer(func(a, b []uint32) bool {
				return len(a) == len(b) && (len(a) == 0 || slices.Equal(a, b))
			})) {
				t.Errorf("Match = %v, want %v", got, tc.want)
			}
			// The result belongs to the caller: changing it changes nothing.
			bm.Add(1000)
			again, _ := ix.Match([]byte("cpu"), tc.expr)
			if again.Contains(1000) {
				t.Error("Match returned a bitmap of the index")
			}
		})
	}
	if bm, err := ix.Match([]byte("nope"), eq("host", "")); err != nil || !bm.IsEmpty() {
		t.Errorf("unknown measurement: %v %v", bm, err)
	}
}

func TestMatchBadExpr(t *testing.T) {
	ix := openIndex(t, t.TempDir(), index.Options{})
	create(t, ix, "cpu,host=a")
	for name, e := range map[string]*index.Expr{
		"leaf without matcher": {Op: index.Leaf},
		"and without right":    {Op: index.And, Left: eq("host", "a")},
		"or with bad child":    index.NewOr(eq("host", "a"), &index.Expr{Op: index.Leaf}),
		"regex without re":     index.NewLeaf([]byte("host"), index.Regex, []byte("a"), nil),
		"unknown match op":     index.NewLeaf([]byte("host"), index.MatchOp(9), []byte("a"), nil),
		"unknown expr op":      {Op: index.ExprOp(7)},
	} {
		if _, err := ix.Match([]byte("cpu"), e); !errors.Is(err, index.ErrBadExpr) {
			t.Errorf("%s: err %v, want ErrBadExpr", name, err)
		}
	}
}

// TestMatchModel compares Match with a direct evaluation of random
// expressions over random series, some of them dropped.
func TestMatchModel(t *testing.T) {
	ix := openIndex(t, t.TempDir(), index.Options{})
	rng := rand.New(rand.NewPCG(7, 7))
	keys, vals := []string{"a", "b", "c"}, []string{"x", "y", "z", "xy"}
	var tagSets []map[string]string
	var series []string
	for range 200 {
		tags := map[string]string{}
		parts := []string{"m"}
		for _, k := range keys {
			if rng.IntN(3) > 0 {
				v := vals[rng.IntN(len(vals))]
				tags[k] = v
				parts = append(parts, k+"="+v)
			}
		}
		tagSets = append(tagSets, tags)
		series = append(series, strings.Join(parts, ","))
	}
	model := map[uint32]map[string]string{}
	for i, id := range create(t, ix, series...) {
		model[uint32(id)] = tagSets[i] // repeated tag sets share an id
	}
	drop := bitmapOf()
	for id := range model {
		if rng.IntN(5) == 0 {
			drop.Add(id)
			delete(model, id)
		}
	}
	if err := ix.DropSeries(drop); err != nil {
		t.Fatal(err)
	}
	regexes := []string{"x", "^x$", "y|z", ".*", "^$", "^(x|)$", "^x", "^xy", "^y.*", "^(?i)X", "^x|y", "^xy?", "^x+y"}
	var gen func(depth int) (*index.Expr, func(map[string]string) bool)
	gen = func(depth int) (*index.Expr, func(map[string]string) bool) {
		if depth == 0 || rng.IntN(3) == 0 {
			k := []string{"a", "b", "c", "none"}[rng.IntN(4)]
			switch op := index.MatchOp(rng.IntN(4)); op {
			case index.Equal, index.NotEqual:
				v := append([]string{""}, vals...)[rng.IntN(len(vals)+1)]
				return leaf(k, op, v), func(tags map[string]string) bool { return (tags[k] == v) == (op == index.Equal) }
			default:
				src := regexes[rng.IntN(len(regexes))]
				r := regexp.MustCompile(src)
				return leaf(k, op, src), func(tags map[string]string) bool { return r.MatchString(tags[k]) == (op == index.Regex) }
			}
		}
		l, lf := gen(depth - 1)
		r, rf := gen(depth - 1)
		if rng.IntN(2) == 0 {
			return index.NewAnd(l, r), func(t map[string]string) bool { return lf(t) && rf(t) }
		}
		return index.NewOr(l, r), func(t map[string]string) bool { return lf(t) || rf(t) }
	}
	for i := range 500 {
		e, f := gen(3)
		var want []uint32
		for id, tags := range model {
			if f(tags) {
				want = append(want, id)
			}
		}
		slices.Sort(want)
		bm, err := ix.Match([]byte("m"), e)
		if err != nil {
			t.Fatal(err)
		}
		if got := bm.ToArray(); len(got)+len(want) > 0 && !slices.Equal(got, want) {
			t.Fatalf("expression %d: got %v, want %v", i, got, want)
		}
	}
}
