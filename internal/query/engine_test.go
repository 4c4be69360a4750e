package query_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/query"
)

// writeSeries writes n points per host, one per second from start.
func writeSeries(s *stack, db string, hosts []string, n int, start time.Time, value func(i int) string) {
	var b strings.Builder
	for _, h := range hosts {
		for i := range n {
			fmt.Fprintf(&b, "cpu,host=%s v=%s %d\n", h, value(i), start.Add(time.Duration(i)*time.Second).UnixNano())
		}
	}
	s.write(db, "", "", b.String())
}

func resultText(rs []*query.Result) string {
	var lines []string
	for _, r := range rs {
		lines = append(lines, encodeResult(r))
	}
	return strings.Join(lines, "\n")
}

func TestMaxSelectPoint(t *testing.T) {
	// Points are counted a batch (at most a block, 1000 points) at a time.
	s := newStack(t, query.EngineOptions{MaxSelectPointN: 1500})
	writeSeries(s, "db", []string{"a"}, 3000, time.Unix(0, 0), func(i int) string { return fmt.Sprint(i) })
	rs := s.query("db", "SELECT v FROM cpu", query.ExecutionOptions{})
	err := lastErr(rs)
	if err == nil || err.Error() != "max-select-point limit exceeed: (2000/1500)" {
		t.Fatalf("error = %v", err)
	}
	// A LIMIT stops reading early: five points (one batch) fit.
	rs = s.query("db", "SELECT v FROM cpu LIMIT 5", query.ExecutionOptions{})
	if err := lastErr(rs); err != nil {
		t.Fatalf("LIMIT 5: %v", err)
	}
}

func TestMaxSelectSeries(t *testing.T) {
	s := newStack(t, query.EngineOptions{MaxSelectSeriesN: 3})
	writeSeries(s, "db", []string{"a", "b", "c", "d"}, 1, time.Unix(0, 0), func(int) string { return "1" })
	rs := s.query("db", "SELECT count(v) FROM cpu", query.ExecutionOptions{})
	if err := lastErr(rs); err == nil || err.Error() != "max-select-series limit exceeded: (4/3)" {
		t.Fatalf("error = %v", err)
	}
	rs = s.query("db", "SELECT count(v) FROM cpu WHERE host = 'a' OR host = 'b'", query.ExecutionOptions{})
	if err := lastErr(rs); err != nil {
		t.Fatalf("two series: %v", err)
	}
}

func TestMaxSelectBuckets(t *testing.T) {
	s := newStack(t, query.EngineOptions{MaxSelectBucketsN: 10})
	writeSeries(s, "db", []string{"a"}, 100, time.Unix(0, 0), func(int) string { return "1" })
	rs := s.query("db", "SELECT count(v) FROM cpu WHERE time >= 0 AND time < 100s GROUP BY time(1s)", query.ExecutionOptions{})
	if err := lastErr(rs); err == nil || err.Error() != "max-select-buckets limit exceeded: (100/10)" {
		t.Fatalf("error = %v", err)
	}
	// Without a lower bound only the last buckets the limit allows are read.
	s.now = time.Unix(100, 0)
	rs = s.query("db", "SELECT count(v) FROM cpu GROUP BY time(1s)", query.ExecutionOptions{})
	if err := lastErr(rs); err != nil {
		t.Fatal(err)
	}
	if n := len(rs[0].Series[0].Values); n != 10 {
		t.Fatalf("%d buckets, want 10", n)
	}
}

// LIMIT must stop reading: with points in data files of 1000-point blocks,
// LIMIT 5 decodes one block per series and never opens later shards.
func TestLimitStopsEarly(t *testing.T) {
	s := newStack(t, query.EngineOptions{MaxSelectPointN: 2500})
	s.createRP("db", "hourly", time.Hour, true)
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	writeSeries(s, "db", []string{"a", "b"}, 3*3600, start, func(i int) string { return fmt.Sprint(i) }) // 3 shards
	s.flush()
	for _, q := range []string{
		"SELECT v FROM cpu LIMIT 5",
		"SELECT v FROM cpu GROUP BY host LIMIT 5",
		"SELECT v FROM cpu ORDER BY time DESC LIMIT 5",
		"SELECT first(v) FROM cpu",
		"SELECT last(v) FROM cpu",
	} {
		rs := s.query("db", q, query.ExecutionOptions{})
		if err := lastErr(rs); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
	// Reading everything does exceed the budget.
	if err := lastErr(s.query("db", "SELECT v FROM cpu", query.ExecutionOptions{})); err == nil {
		t.Fatal("a full scan fit in the budget: the test proves nothing")
	}
	rs := s.query("db", "SELECT v FROM cpu ORDER BY time DESC LIMIT 2", query.ExecutionOptions{})
	want := `{"statement_id":0,"series":[{"name":"cpu","columns":["time","v"],"values":[["2020-01-01T02:59:59Z",10799],["2020-01-01T02:59:59Z",10799]]}]}`
	if got := resultText(rs); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// Aggregates answered from block statistics must equal the same aggregates
// computed from decoded values, whatever the buckets and overlaps.
func TestPushdownEquivalence(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	with := newStack(t, query.EngineOptions{})
	without := newStack(t, query.EngineOptions{DisablePushdown: true})
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	var b strings.Builder
	for _, h := range []string{"a", "b", "c"} {
		for i := range 5000 {
			fmt.Fprintf(&b, "cpu,host=%s v=%d,f=%g,u=%di %d\n", h, rnd.IntN(1000)-500, float64(rnd.IntN(1<<20))/1024,
				rnd.IntN(100), start.Add(time.Duration(i)*time.Second).UnixNano())
		}
	}
	for _, s := range []*stack{with, without} {
		s.write("db", "", "", b.String())
		s.flush()
		// Overwrite and add points inside flushed blocks, so that some
		// blocks overlap the cache and must be merged.
		s.write("db", "", "", fmt.Sprintf("cpu,host=a v=7,f=1.5,u=3i %d\ncpu,host=b v=1,f=2.25,u=4i %d\n",
			start.Add(1234*time.Second).UnixNano(), start.Add(3333*time.Second+time.Millisecond).UnixNano()))
	}
	for _, q := range []string{
		"SELECT count(v), sum(v), mean(v), min(v), max(v), spread(v) FROM cpu",
		"SELECT count(f), sum(f), mean(f), min(f), max(f), spread(f) FROM cpu GROUP BY host",
		"SELECT count(u), sum(u), mean(u), min(u), max(u) FROM cpu WHERE time >= '2020-01-01T00:00:00Z' AND time < '2020-01-01T02:00:00Z' GROUP BY time(10m)",
		"SELECT mean(f), max(u) FROM cpu WHERE time >= '2020-01-01T00:00:00Z' AND time < '2020-01-01T02:00:00Z' GROUP BY time(7m), host",
		"SELECT sum(f) FROM cpu WHERE time >= '2020-01-01T00:00:00Z' AND time < '2020-01-01T02:00:00Z' GROUP BY time(1m)",
		"SELECT count(v) FROM cpu WHERE time > '2020-01-01T00:05:00Z' AND time < '2020-01-01T01:00:00Z'",
		"SELECT mean(v) FROM cpu WHERE time >= '2020-01-01T00:00:00Z' AND time < '2020-01-01T02:00:00Z' GROUP BY time(1h) ORDER BY time DESC",
	} {
		a := resultText(with.query("db", q, query.ExecutionOptions{}))
		b := resultText(without.query("db", q, query.ExecutionOptions{}))
		if a != b {
			t.Errorf("%s\nwith pushdown:    %s\nwithout pushdown: %s", q, a, b)
		}
		if strings.Contains(a, "error") {
			t.Errorf("%s: %s", q, a)
		}
	}
}

// Chunked results, joined, are the unchunked result.
func TestChunksJoin(t *testing.T) {
	s := newStack(t, query.EngineOptions{})
	writeSeries(s, "db", []string{"a", "b", "c"}, 25, time.Unix(0, 0), func(i int) string { return fmt.Sprint(i) })
	for _, q := range []string{
		"SELECT v FROM cpu GROUP BY host",
		"SELECT v FROM cpu",
		"SELECT mean(v) FROM cpu WHERE time >= 0 AND time < 30s GROUP BY time(2s), host",
	} {
		whole := s.query("db", q, query.ExecutionOptions{})
		for _, n := range []int{1, 2, 7, 25, 100} {
			chunks := s.query("db", q, query.ExecutionOptions{ChunkSize: n})
			var joined []*query.Row
			for i, r := range chunks {
				if r.Partial != (i < len(chunks)-1) {
					t.Fatalf("%s chunk=%d: result %d partial=%v", q, n, i, r.Partial)
				}
				for _, row := range r.Series {
					if len(row.Values) > n {
						t.Fatalf("%s chunk=%d: %d rows in a chunk", q, n, len(row.Values))
					}
					if k := len(joined) - 1; k >= 0 && joined[k].Partial {
						joined[k].Values = append(joined[k].Values, row.Values...)
						joined[k].Partial = row.Partial
						continue
					}
					joined = append(joined, row)
				}
			}
			got := resultText([]*query.Result{{Series: joined}})
			if want := resultText(whole); got != want {
				t.Fatalf("%s chunk=%d:\n got %s\nwant %s", q, n, got, want)
			}
		}
	}
}

// Descending raw output is the ascending output reversed, series by series.
func TestDescendingIsReverse(t *testing.T) {
	s := newStack(t, query.EngineOptions{})
	s.createRP("db", "hourly", time.Hour, true)
	writeSeries(s, "db", []string{"a"}, 3*3600, time.Unix(0, 0), func(i int) string { return fmt.Sprint(i % 17) })
	s.flush()
	asc := s.query("db", "SELECT v FROM cpu", query.ExecutionOptions{})
	desc := s.query("db", "SELECT v FROM cpu ORDER BY time DESC", query.ExecutionOptions{})
	a, d := asc[0].Series[0].Values, desc[0].Series[0].Values
	if len(a) != 3*3600 || len(d) != len(a) {
		t.Fatalf("%d and %d rows", len(a), len(d))
	}
	slices.Reverse(d)
	for i := range a {
		if fmt.Sprint(a[i]) != fmt.Sprint(d[i]) {
			t.Fatalf("row %d: %v vs %v", i, a[i], d[i])
		}
	}
}

// The default database and retention policy come from the request.
func TestDefaultDatabase(t *testing.T) {
	s := newStack(t, query.EngineOptions{})
	writeSeries(s, "db", []string{"a"}, 1, time.Unix(0, 0), func(int) string { return "1" })
	rs := s.query("", "SELECT v FROM cpu", query.ExecutionOptions{})
	if err := lastErr(rs); err == nil || err.Error() != "database name required" {
		t.Fatalf("error = %v", err)
	}
	rs = s.query("", "SELECT v FROM db..cpu", query.ExecutionOptions{})
	if err := lastErr(rs); err != nil {
		t.Fatal(err)
	}
	rs = s.query("db", "SELECT v FROM cpu", query.ExecutionOptions{RetentionPolicy: "nope"})
	if err := lastErr(rs); err == nil || err.Error() != "retention policy not found: nope" {
		t.Fatalf("error = %v", err)
	}
}

// With max-row-limit the engine stops after one row more than the limit.
func TestMaxRowLimitStopsEarly(t *testing.T) {
	s := newStack(t, query.EngineOptions{})
	writeSeries(s, "db", []string{"a", "b"}, 50, time.Unix(0, 0), func(i int) string { return fmt.Sprint(i) })
	rs := s.query("db", "SELECT v FROM cpu GROUP BY host", query.ExecutionOptions{MaxRowLimit: 10})
	n := 0
	for _, row := range rs[0].Series {
		n += len(row.Values)
	}
	if n != 11 {
		t.Fatalf("%d rows, want 11", n)
	}
}

type testUser struct {
	name  string
	admin bool
	read  map[string]bool
}

func (u testUser) Name() string           { return u.name }
func (u testUser) IsAdmin() bool          { return u.admin }
func (u testUser) CanRead(db string) bool { return u.read[db] }
func (u testUser) CanWrite(string) bool   { return false }

func TestAuthorization(t *testing.T) {
	s := newStack(t, query.EngineOptions{})
	writeSeries(s, "db", []string{"a"}, 1, time.Unix(0, 0), func(int) string { return "1" })
	writeSeries(s, "other", []string{"a"}, 1, time.Unix(0, 0), func(int) string { return "1" })
	u := testUser{name: "bob", read: map[string]bool{"db": true}}
	if err := lastErr(s.query("db", "SELECT v FROM cpu", query.ExecutionOptions{User: u})); err != nil {
		t.Fatalf("allowed: %v", err)
	}
	err := lastErr(s.query("db", "SELECT v FROM cpu, other..cpu", query.ExecutionOptions{User: u}))
	var ae *query.AuthorizationError
	if !errors.As(err, &ae) || !ae.AuthorizationFailed() ||
		err.Error() != "bob not authorized to execute statement 'SELECT v FROM cpu, other..cpu', requires READ on other" {
		t.Fatalf("error = %v", err)
	}
	admin := testUser{name: "root", admin: true}
	if err := lastErr(s.query("db", "SELECT v FROM other..cpu", query.ExecutionOptions{User: admin})); err != nil {
		t.Fatalf("admin: %v", err)
	}
}

// An output series of many series is aggregated by several goroutines; the
// results must not depend on how many.
func TestParallelAggregation(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	serial := newStack(t, query.EngineOptions{Workers: 1})
	parallel := newStack(t, query.EngineOptions{Workers: 4})
	var b strings.Builder
	for h := range 100 {
		for i := range 50 {
			fmt.Fprintf(&b, "cpu,host=h%03d,g=%d v=%d,f=%g,s=\"%c\" %d\n", h, h%3, rnd.IntN(20), float64(rnd.IntN(1000))/8,
				'a'+rune(rnd.IntN(5)), (int64(i)*60+int64(rnd.IntN(30)))*int64(time.Second))
		}
	}
	for _, s := range []*stack{serial, parallel} {
		s.write("db", "", "", b.String())
	}
	for _, q := range []string{
		"SELECT count(v), sum(v), mean(f), min(v), max(f), first(v), last(f), spread(v) FROM cpu",
		"SELECT median(f), mode(v), mode(s), stddev(f), percentile(v, 75), count(distinct(s)) FROM cpu",
		"SELECT distinct(v) FROM cpu",
		"SELECT top(v, host, 5) FROM cpu",
		"SELECT bottom(f, 3), host FROM cpu",
		"SELECT max(v), host, s FROM cpu",
		"SELECT integral(f) FROM cpu WHERE time >= 0 AND time < 3000s GROUP BY time(10m)",
		"SELECT mean(f), median(v) FROM cpu WHERE time >= 0 AND time < 3000s GROUP BY time(7m), g",
		"SELECT count(v) FROM cpu WHERE f > 60 AND time >= 0 AND time < 3000s GROUP BY time(5m) fill(linear)",
		"SELECT first(s), last(s) FROM cpu WHERE time >= 0 AND time < 3000s GROUP BY time(20m)",
	} {
		a := resultText(serial.query("db", q, query.ExecutionOptions{}))
		p := resultText(parallel.query("db", q, query.ExecutionOptions{}))
		if a != p {
			t.Errorf("%s\n1 worker:  %s\n4 workers: %s", q, a, p)
		}
		if strings.Contains(a, "error") || !strings.Contains(a, "values") {
			t.Errorf("%s: %s", q, a)
		}
	}
}

// When the receiver goes away (emit fails), Select stops its workers and
// returns the error; goleak (TestMain) checks that none is left.
func TestEmitErrorStops(t *testing.T) {
	s := newStack(t, query.EngineOptions{Workers: 2})
	var hosts []string
	for i := range 20 {
		hosts = append(hosts, fmt.Sprintf("h%02d", i))
	}
	writeSeries(s, "db", hosts, 200, time.Unix(0, 0), func(i int) string { return fmt.Sprint(i) })
	gone := errors.New("client gone")
	for _, q := range []string{"SELECT v FROM cpu GROUP BY host", "SELECT mean(v) FROM cpu WHERE time >= 0 AND time < 200s GROUP BY time(1s), host"} {
		calls := 0
		err := s.engine.Select(t.Context(), parseQuery(t, q), query.ExecutionOptions{Database: "db", ChunkSize: 10}, func(*query.Result) error {
			calls++
			return gone
		})
		if !errors.Is(err, gone) {
			t.Fatalf("%s: error = %v", q, err)
		}
		if calls != 1 {
			t.Fatalf("%s: emit called %d times after it failed", q, calls)
		}
	}
}

func parseQuery(t *testing.T, q string) *influxql.SelectStatement {
	t.Helper()
	stmt, err := influxql.ParseStatement(q)
	if err != nil {
		t.Fatal(err)
	}
	return stmt.(*influxql.SelectStatement)
}

// A field comparison driving a raw read (driver.go) gives the rows that
// building every row and testing the condition gives: random data with
// gaps (fields missing at some times), over many blocks, in the cache and
// in files, both orders, with conditions the driver takes and ones it
// must leave alone.
func TestDriverEquivalence(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	with := newStack(t, query.EngineOptions{})
	without := newStack(t, query.EngineOptions{DisablePushdown: true})
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	var b strings.Builder
	for _, h := range []string{"a", "b"} {
		for i := range 6000 {
			var fields []string
			if rnd.IntN(4) > 0 {
				fields = append(fields, fmt.Sprintf("u=%di", rnd.IntN(100)))
			}
			if rnd.IntN(3) > 0 {
				fields = append(fields, fmt.Sprintf("f=%g", float64(rnd.IntN(1000))/10))
			}
			if rnd.IntN(5) == 0 {
				fields = append(fields, fmt.Sprintf("s=\"%c\"", 'a'+rnd.IntN(3)))
			}
			if len(fields) == 0 {
				fields = append(fields, "g=1")
			}
			fmt.Fprintf(&b, "cpu,host=%s %s %d\n", h, strings.Join(fields, ","), start.Add(time.Duration(i)*time.Second).UnixNano())
		}
	}
	late := fmt.Sprintf("cpu,host=a u=95i,f=99.5 %d\ncpu,host=b u=1i %d\n",
		start.Add(1500*time.Second).UnixNano(), start.Add(4000*time.Second+time.Millisecond).UnixNano())
	for _, s := range []*stack{with, without} {
		s.write("db", "", "", b.String())
		s.flush()
		s.write("db", "", "", late) // overlaps a flushed block: merged reads
	}
	for _, q := range []string{
		"SELECT * FROM cpu WHERE u > 90",
		"SELECT * FROM cpu WHERE u > 90 GROUP BY host",
		"SELECT u, f FROM cpu WHERE 90 < u AND f <= 50.5",
		"SELECT f FROM cpu WHERE u >= 97 AND host = 'a'",
		"SELECT s, f FROM cpu WHERE f = 12.5",
		"SELECT u FROM cpu WHERE f > 99.5 OR u < 1",
		"SELECT * FROM cpu WHERE (u < 3) AND s = 'b'",
		"SELECT f, u FROM cpu WHERE u > 80.5 ORDER BY time DESC LIMIT 40",
		"SELECT * FROM cpu WHERE f > 90 AND time >= '2020-01-01T00:20:00Z' AND time < '2020-01-01T01:10:00Z' ORDER BY time DESC",
		"SELECT g FROM cpu WHERE u > 50",
		"SELECT u FROM cpu WHERE u > 99",
		// Newest values from the index (lastpoint): fields that end at
		// different times, a block overlapped by a late write, the cache.
		"SELECT * FROM cpu GROUP BY host ORDER BY time DESC LIMIT 1",
		"SELECT * FROM cpu ORDER BY time DESC LIMIT 1",
		"SELECT u, s FROM cpu WHERE time < '2020-01-01T00:30:00.5Z' GROUP BY * ORDER BY time DESC LIMIT 1",
		"SELECT f FROM cpu WHERE host = 'b' AND time <= '2020-01-01T01:06:40.001Z' ORDER BY time DESC LIMIT 1",
		"SELECT s FROM cpu GROUP BY host ORDER BY time DESC LIMIT 1",
	} {
		a := resultText(with.query("db", q, query.ExecutionOptions{}))
		b := resultText(without.query("db", q, query.ExecutionOptions{}))
		if a != b {
			t.Errorf("%s\nwith a driver:    %.400s\nwithout a driver: %.400s", q, a, b)
		}
		if strings.Contains(a, "error") || !strings.Contains(a, "values") && !strings.Contains(q, "u > 99") && !strings.Contains(q, "SELECT g") {
			t.Errorf("%s: %.300s", q, a)
		}
	}
}
