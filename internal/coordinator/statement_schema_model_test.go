package coordinator_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/coordinator"
	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/query"
)

// A model of the schema statements: a set of series written to a real
// environment and kept in the test, against which SHOW SERIES (order,
// LIMIT and OFFSET, WHERE) and SHOW TAG VALUES are checked. Values hold
// the bytes whose escaping makes byte order and 1.x's order differ.

type modelSeries struct {
	name string
	tags []models.Tag // sorted by key
}

func (s modelSeries) key() string {
	return string(models.AppendSeriesKey(nil, []byte(s.name), s.tags))
}

func (s modelSeries) tag(k string) string {
	for _, t := range s.tags {
		if string(t.Key) == k {
			return string(t.Value)
		}
	}
	return ""
}

// compareModel is 1.x's SHOW SERIES order: measurement, then tag pairs.
func compareModel(a, b modelSeries) int {
	if c := cmp.Compare(a.name, b.name); c != 0 {
		return c
	}
	for i := 0; i < len(a.tags) && i < len(b.tags); i++ {
		if c := bytes.Compare(a.tags[i].Key, b.tags[i].Key); c != 0 {
			return c
		}
		if c := bytes.Compare(a.tags[i].Value, b.tags[i].Value); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a.tags), len(b.tags))
}

var (
	modelKeys   = []string{"a", "b", "b!", "host", "z z"}
	modelValues = []string{"x", "x y", "x!y", "x,y", "x=y", "é", "10", "9", "v"}
)

// newModel writes n random series of a few measurements (most into "m",
// so that it is large enough for SHOW SERIES to descend rather than sort)
// and returns the environment and the model, sorted in 1.x's order.
func newModel(t testing.TB, n int, seed uint64) (*env, []modelSeries) {
	t.Helper()
	e := newEnv(t, envOptions{})
	e.mustRun("CREATE DATABASE db0", query.ExecutionOptions{})
	r := rand.New(rand.NewPCG(seed, seed+1))
	names := []string{"m", "m", "m", "m", "m!", "m,x", "n"}
	seen := map[string]bool{}
	var model []modelSeries
	var points []models.Point
	for len(model) < n {
		s := modelSeries{name: names[r.IntN(len(names))]}
		for _, k := range modelKeys {
			if r.IntN(3) > 0 {
				v := modelValues[r.IntN(len(modelValues))]
				if k == "host" {
					v = fmt.Sprintf("h%d", r.IntN(n*2))
				}
				s.tags = append(s.tags, models.Tag{Key: []byte(k), Value: []byte(v)})
			}
		}
		if seen[s.key()] {
			continue
		}
		seen[s.key()] = true
		model = append(model, s)
		points = append(points, models.Point{
			Measurement: []byte(s.name), Tags: s.tags,
			Fields: []models.Field{models.FloatField([]byte("value"), 1)},
			Time:   1_000_000_000_000_000_000 + int64(len(model)),
		})
	}
	for len(points) > 0 {
		k := min(len(points), 5000)
		if err := e.writer.WritePoints(context.Background(), "db0", "", points[:k]); err != nil {
			t.Fatal(err)
		}
		points = points[k:]
	}
	slices.SortFunc(model, compareModel)
	return e, model
}

// showKeys runs a SHOW statement that answers one column and returns it.
func showKeys(t testing.TB, e *env, text string) ([]string, error) {
	t.Helper()
	res, err := e.run(text, query.ExecutionOptions{Database: "db0"})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range res {
		if r.Err != nil {
			return nil, r.Err
		}
		for _, row := range r.Series {
			for _, v := range row.Values {
				out = append(out, fmt.Sprint(v...))
			}
		}
	}
	return out, nil
}

// TestShowSeriesOrderModel checks SHOW SERIES against the model: the
// whole listing, and every LIMIT/OFFSET window the lister answers by
// descending the index instead of sorting.
func TestShowSeriesOrderModel(t *testing.T) {
	n := 4000
	if testing.Short() {
		n = 1500
	}
	e, model := newModel(t, n, 1)
	var want []string
	for _, s := range model {
		want = append(want, s.key())
	}
	got, err := showKeys(t, e, "SHOW SERIES")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("SHOW SERIES: %d keys, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
	}
	for _, lo := range [][2]int{{1, 0}, {10, 0}, {7, 3}, {1, 1000}, {50, 1990}, {1000, 2500}, {3, n - 2}, {5, n + 10}} {
		got, err := showKeys(t, e, fmt.Sprintf("SHOW SERIES LIMIT %d OFFSET %d", lo[0], lo[1]))
		if err != nil {
			t.Fatal(err)
		}
		w := want[min(lo[1], len(want)):min(lo[1]+lo[0], len(want))]
		if !slices.Equal(got, w) {
			t.Fatalf("LIMIT %d OFFSET %d: got %q, want %q", lo[0], lo[1], got, w)
		}
	}
	got, err = showKeys(t, e, "SHOW SERIES FROM m WHERE a = 'x' OR b != '10' LIMIT 20 OFFSET 5")
	if err != nil {
		t.Fatal(err)
	}
	var w []string
	for _, s := range model {
		if s.name == "m" && (s.tag("a") == "x" || s.tag("b") != "10") {
			w = append(w, s.key())
		}
	}
	if w = w[5:25]; !slices.Equal(got, w) {
		t.Fatalf("FROM m WHERE ... LIMIT 20 OFFSET 5:\n got %q\nwant %q", got, w)
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// modelMatch evaluates a tag condition on a series as 1.x does: a missing
// tag has the empty value.
func modelMatch(cond influxql.Expr, s modelSeries) bool {
	vals := map[string]any{}
	influxql.WalkFunc(cond, func(n influxql.Node) {
		if r, ok := n.(*influxql.VarRef); ok {
			vals[r.Val] = s.tag(r.Val)
		}
	})
	return influxql.EvalBool(cond, vals)
}

// FuzzShowSeriesWhere checks SHOW SERIES WHERE <cond> against the model
// for any tag condition that parses: the index's answer is the series for
// which influxql's evaluator finds cond true, or the statement refuses
// cond with 1.x's "invalid tag comparison operator".
func FuzzShowSeriesWhere(f *testing.F) {
	for _, s := range []string{
		"a = 'x'", "a != 'x'", "a = ''", "a != ''", "a =~ /x/", "a !~ /^x/", "a =~ /^$/",
		"a = 'x' OR b = 'x y'", "(a = 'x' OR b = 'x y') AND host =~ /1/", "NOT_A_TAG = ''",
		"'x' = a", "a = b", "a > 'x'", "a = 1", "true", "false OR a = 'é'", "\"z z\" = 'x,y'",
		"\"b!\" = 'x!y' AND a !~ /./", "a = 'x' AND (b != 'x' OR host = 'h3')",
	} {
		f.Add(s)
	}
	e, model := newModel(f, 1200, 7)
	f.Fuzz(func(t *testing.T, cond string) {
		expr, err := influxql.ParseExpr(cond)
		if err != nil || influxql.HasTimeExpr(expr) {
			return
		}
		_, _, condErr := influxql.ConditionExpr(expr, nil)
		got, err := showKeys(t, e, "SHOW SERIES WHERE "+expr.String())
		switch {
		case condErr != nil:
			// influxql refuses the condition itself (as SELECT would).
			if err == nil {
				t.Fatalf("WHERE %s: no error, influxql says %v", expr, condErr)
			}
			return
		case errors.Is(err, coordinator.ErrInvalidTagComparison):
			return
		case err != nil:
			var perr *influxql.ParseError
			if errors.As(err, &perr) {
				return // the printed condition does not parse back
			}
			t.Fatalf("WHERE %s: %v", expr, err)
		}
		var want []string
		for _, s := range model {
			if modelMatch(expr, s) {
				want = append(want, s.key())
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("WHERE %s: %d series, want %d (first difference at %d)", expr, len(got), len(want), firstDiff(got, want))
		}
	})
}

// TestShowTagValuesModel checks SHOW TAG VALUES, with and without a WHERE
// clause (which takes the two paths: walking the series or the values),
// and SHOW TAG KEYS, against the model.
func TestShowTagValuesModel(t *testing.T) {
	e, model := newModel(t, 1500, 3)
	for _, where := range []string{"", " WHERE a = 'x'", " WHERE host = 'h1' OR host = 'h2' OR host = 'h7'", " WHERE b =~ /!/"} {
		cond, err := influxql.ParseExpr("true")
		if where != "" {
			cond, err = influxql.ParseExpr(strings.TrimPrefix(where, " WHERE "))
		}
		if err != nil {
			t.Fatal(err)
		}
		values := map[string]map[string]bool{}
		keys := map[string]bool{}
		for _, s := range model {
			if s.name != "m" || !modelMatch(cond, s) {
				continue
			}
			for _, tg := range s.tags {
				if values[string(tg.Key)] == nil {
					values[string(tg.Key)] = map[string]bool{}
				}
				values[string(tg.Key)][string(tg.Value)] = true
				keys[string(tg.Key)] = true
			}
		}
		var want []string
		for _, k := range slices.Sorted(maps.Keys(values)) {
			for _, v := range slices.Sorted(maps.Keys(values[k])) {
				want = append(want, k+v)
			}
		}
		got, err := showKeys(t, e, "SHOW TAG VALUES FROM m WITH KEY =~ /./"+where)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("SHOW TAG VALUES%s:\n got %q\nwant %q", where, got, want)
		}
		gotKeys, err := showKeys(t, e, "SHOW TAG KEYS FROM m"+where)
		if err != nil {
			t.Fatal(err)
		}
		if wantKeys := slices.Sorted(maps.Keys(keys)); !slices.Equal(gotKeys, wantKeys) {
			t.Fatalf("SHOW TAG KEYS%s: %q, want %q", where, gotKeys, wantKeys)
		}
	}
}

// FuzzSchemaStatements runs any query against the model's data, seeded
// with the golden files of the schema, delete, continuous query and
// subscription statements: no panic (the executor would turn one into a
// "[panic:" error), one answer per statement, in order. Deletes change the
// data as the fuzzer goes, which only widens what it explores.
func FuzzSchemaStatements(f *testing.F) {
	for _, dir := range []string{"schema", "cq", "subscriptions"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.txt"))
		for _, path := range files {
			blocks, _, err := parseGolden(path)
			if err != nil {
				f.Fatal(err)
			}
			for _, b := range blocks {
				if strings.HasPrefix(b.command, "query") {
					f.Add(strings.Join(b.input, "\n"))
				}
			}
		}
	}
	e, _ := newModel(f, 600, 11)
	f.Fuzz(func(t *testing.T, text string) {
		q, err := influxql.ParseQuery(text)
		if err != nil || len(q.Statements) == 0 {
			return
		}
		var res []*query.Result
		for r := range e.exec.ExecuteQuery(context.Background(), q, query.ExecutionOptions{Database: "db0"}) {
			res = append(res, r)
		}
		next := 0
		for _, r := range res {
			if r.Err != nil && strings.Contains(r.Err.Error(), "[panic:") {
				t.Fatalf("%s: %v", text, r.Err)
			}
			if r.StatementID != next {
				t.Fatalf("%s: result for statement %d, want %d", text, r.StatementID, next)
			}
			next++
		}
		if next != len(q.Statements) {
			t.Fatalf("%s: %d results for %d statements", text, next, len(q.Statements))
		}
	})
}
