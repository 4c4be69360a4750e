package bench

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/influxql"
)

var windowRE = regexp.MustCompile(`time >= '([^']+)' AND time < '([^']+)'`)

func window(t *testing.T, stmt string) (time.Time, time.Time) {
	t.Helper()
	m := windowRE.FindStringSubmatch(stmt)
	if m == nil {
		t.Fatalf("no time window in %s", stmt)
	}
	s, err1 := time.Parse(time.RFC3339, m[1])
	e, err2 := time.Parse(time.RFC3339, m[2])
	if err1 != nil || err2 != nil {
		t.Fatalf("bad window in %s: %v %v", stmt, err1, err2)
	}
	return s, e
}

func TestQueriesShape(t *testing.T) {
	ds := testDataset(4000, 3*24*time.Hour)
	lengths := map[string]time.Duration{
		SingleGroupby111: time.Hour, SingleGroupby5112: 12 * time.Hour, CPUMaxAll1: 8 * time.Hour,
		DoubleGroupby1: 12 * time.Hour, HighCPU1: 12 * time.Hour,
	}
	for _, typ := range QueryTypes() {
		t.Run(typ, func(t *testing.T) {
			qs, err := Queries(ds, typ, 50)
			if err != nil {
				t.Fatal(err)
			}
			if len(qs) != 50 {
				t.Fatalf("%d queries, want 50", len(qs))
			}
			distinct := map[string]bool{}
			for _, q := range qs {
				if q.Type != typ {
					t.Fatalf("type %q, want %q", q.Type, typ)
				}
				if _, err := influxql.ParseStatement(q.Statement); err != nil {
					t.Fatalf("%s does not parse: %v", q.Statement, err)
				}
				distinct[q.Statement] = true
				if want, ok := lengths[typ]; ok {
					s, e := window(t, q.Statement)
					if e.Sub(s) != want || s.Before(ds.Start) || e.After(ds.End()) || s.Nanosecond() != 0 {
						t.Fatalf("window %v..%v: want %v inside %v..%v on whole seconds", s, e, want, ds.Start, ds.End())
					}
				}
				if strings.Contains(q.Statement, "hostname = '") {
					m := regexp.MustCompile(`hostname = 'host_(\d+)'`).FindStringSubmatch(q.Statement)
					if m == nil || len(m[1]) > 4 || (len(m[1]) == 4 && m[1] >= "4000") {
						t.Fatalf("host out of range in %s", q.Statement)
					}
				}
			}
			if typ != Lastpoint && len(distinct) < 40 {
				t.Fatalf("only %d distinct statements of 50: the parameters do not vary", len(distinct))
			}
		})
	}
}

// The windows are a function of the seed and the type only: the same for
// every server, every run, and whatever other types run.
func TestQueriesDeterministic(t *testing.T) {
	ds := testDataset(100, 24*time.Hour)
	a, _ := Queries(ds, HighCPU1, 10)
	b, _ := Queries(ds, HighCPU1, 3)
	if !slices.Equal(a[:3], b) {
		t.Fatal("the first queries depend on how many are asked for")
	}
	want := "SELECT max(usage_user) FROM cpu WHERE hostname = 'host_63' AND time >= '2016-01-01T01:14:22Z' AND time < '2016-01-01T02:14:22Z' GROUP BY time(1m)"
	got, _ := Queries(ds, SingleGroupby111, 1)
	if got[0].Statement != want {
		t.Fatalf("first single-groupby-1-1-1 for seed 1:\n got %s\nwant %s", got[0].Statement, want)
	}
	ds.Seed = 2
	c, _ := Queries(ds, HighCPU1, 10)
	if slices.Equal(a, c) {
		t.Fatal("seed 2 gave the same queries as seed 1")
	}
}

// A window longer than the data set covers the whole set.
func TestQueriesShortDataset(t *testing.T) {
	ds := testDataset(10, 10*time.Minute)
	qs, err := Queries(ds, DoubleGroupby1, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		s, e := window(t, q.Statement)
		if !s.Equal(ds.Start) || !e.Equal(ds.End()) {
			t.Fatalf("window %v..%v, want the whole set %v..%v", s, e, ds.Start, ds.End())
		}
	}
}

func TestQueriesErrors(t *testing.T) {
	if _, err := Queries(testDataset(1, time.Hour), "cpu-max-all-8", 1); !errors.Is(err, ErrUnknownQueryType) {
		t.Fatalf("unknown type: %v", err)
	}
	if _, err := Queries(Dataset{}, Lastpoint, 1); !errors.Is(err, ErrInvalidDataset) {
		t.Fatalf("empty data set: %v", err)
	}
	for _, typ := range QueryTypes() {
		if QueryDescription(typ) == "" {
			t.Fatalf("%s has no description", typ)
		}
	}
}
