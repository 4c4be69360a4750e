package query_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/query"
)

func TestHoltWintersIsCancelled(t *testing.T) {
	if testing.Short() {
		t.Skip("fits a long series")
	}
	// 3000 buckets take the fit tens of seconds; the timeout stops it.
	s := newStack(t, query.EngineOptions{QueryTimeout: 300 * time.Millisecond})
	writeSeries(s, "db", []string{"a"}, 3000, time.Unix(0, 0), func(i int) string { return fmt.Sprint(i % 17) })
	start := time.Now()
	rs := s.query("db", "SELECT holt_winters(mean(v), 5, 3) FROM cpu WHERE time >= 0 AND time < 3000s GROUP BY time(1s)", query.ExecutionOptions{})
	if err := lastErr(rs); !errors.Is(err, query.ErrQueryTimeoutLimitExceeded) {
		t.Fatalf("error = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("stopped after %v", d)
	}
}

func TestTransformLimitStopsEarly(t *testing.T) {
	// A transformation of raw points stops reading once its LIMIT is met.
	// Each call reads for itself (as in 1.x): two calls read two batches
	// of 1000 points, everything is 6000.
	s := newStack(t, query.EngineOptions{MaxSelectPointN: 2500})
	writeSeries(s, "db", []string{"a"}, 3000, time.Unix(0, 0), func(i int) string { return fmt.Sprint(i) })
	if err := lastErr(s.query("db", "SELECT derivative(v) FROM cpu", query.ExecutionOptions{})); err == nil {
		t.Fatal("reading everything did not hit max-select-point")
	}
	rs := s.query("db", "SELECT derivative(v), difference(v) FROM cpu LIMIT 5", query.ExecutionOptions{})
	if err := lastErr(rs); err != nil {
		t.Fatalf("LIMIT 5: %v", err)
	}
	if n := len(rs[0].Series[0].Values); n != 5 {
		t.Fatalf("%d rows", n)
	}
}

func TestSelectIntoBatches(t *testing.T) {
	// More points than one write batch, written and read back.
	s := newStack(t, query.EngineOptions{})
	writeSeries(s, "db", []string{"a", "b", "c"}, 9000, time.Unix(0, 0), func(i int) string { return fmt.Sprint(i) })
	rs := s.query("db", "SELECT v INTO copy FROM cpu GROUP BY *", query.ExecutionOptions{})
	if got := resultText(rs); got != `{"statement_id":0,"series":[{"name":"result","columns":["time","written"],"values":[["1970-01-01T00:00:00Z",27000]]}]}` {
		t.Fatalf("INTO: %s", got)
	}
	src := resultText(s.query("db", "SELECT count(v), sum(v) FROM cpu GROUP BY host", query.ExecutionOptions{}))
	dst := resultText(s.query("db", "SELECT count(v), sum(v) FROM copy GROUP BY host", query.ExecutionOptions{}))
	if strings.Replace(src, `"cpu"`, `"copy"`, -1) != dst {
		t.Fatalf("source %s\ntarget %s", src, dst)
	}
}

func TestSelectIntoRefused(t *testing.T) {
	s := newStack(t, query.EngineOptions{PointsWriter: nil})
	s.write("db", "", "", "cpu v=1 0")
	// The stack gives the engine a writer; one without refuses INTO.
	e := query.NewEngine(query.EngineOptions{}, &query.LocalShardMapper{Meta: s.meta, Store: s.store}, s.meta)
	defer e.Close()
	var got []*query.Result
	collect := func(r *query.Result) error { got = append(got, r); return nil }
	if err := e.Select(t.Context(), parseQuery(t, "SELECT v INTO x FROM cpu"), query.ExecutionOptions{Database: "db"}, collect); err != nil {
		t.Fatal(err)
	}
	if err := lastErr(got); !errors.Is(err, query.ErrNoPointsWriter) {
		t.Fatalf("no writer: %v", err)
	}

	// A user who may read but not write the target.
	u := testUser{name: "reader", read: map[string]bool{"db": true}}
	rs := s.query("db", "SELECT v INTO x FROM cpu", query.ExecutionOptions{User: u})
	var ae *query.AuthorizationError
	if err := lastErr(rs); !errors.As(err, &ae) || err.Error() != "reader not authorized to execute statement 'SELECT v INTO x FROM cpu', requires WRITE on db" {
		t.Fatalf("no write privilege: %v", err)
	}
	// Nor read a database inside a subquery.
	s.write("other", "", "", "cpu v=1 0")
	rs = s.query("db", "SELECT max(v) FROM (SELECT v FROM other.autogen.cpu)", query.ExecutionOptions{User: u})
	if err := lastErr(rs); !errors.As(err, &ae) || ae.Database != "other" {
		t.Fatalf("subquery of another database: %v", err)
	}
	// No database at all.
	rs = s.query("", "SELECT v INTO x FROM db.autogen.cpu", query.ExecutionOptions{})
	if err := lastErr(rs); !errors.Is(err, query.ErrDatabaseNameRequired) {
		t.Fatalf("no database: %v", err)
	}
}

func TestExplainDoesNotRun(t *testing.T) {
	// EXPLAIN plans subqueries without running them: no point is read.
	s := newStack(t, query.EngineOptions{MaxSelectPointN: 1})
	writeSeries(s, "db", []string{"a", "b"}, 10, time.Unix(0, 0), func(i int) string { return fmt.Sprint(i) })
	rs := s.query("db", "EXPLAIN SELECT max(m) FROM (SELECT mean(v) AS m FROM cpu GROUP BY host)", query.ExecutionOptions{})
	want := `{"statement_id":0,"series":[{"columns":["QUERY PLAN"],"values":[["EXPRESSION: mean(v::float)"],["NUMBER OF SHARDS: 1"],["NUMBER OF SERIES: 2"],["BLOCK STATISTICS: true"]]}]}`
	if got := resultText(rs); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	rs = s.query("db", "EXPLAIN ANALYZE SELECT max(m) FROM (SELECT mean(v) AS m FROM cpu GROUP BY host)", query.ExecutionOptions{})
	if err := lastErr(rs); err == nil || !strings.Contains(err.Error(), "max-select-point") {
		t.Fatalf("EXPLAIN ANALYZE runs the statement: %v", err)
	}
}

func TestSubqueryParallel(t *testing.T) {
	// Many output series, inner and outer, on several workers (run with
	// -race): the same answer as one worker.
	var b strings.Builder
	for h := range 40 {
		for i := range 50 {
			fmt.Fprintf(&b, "cpu,host=h%02d,dc=d%d v=%d %d\n", h, h%3, (h*7+i*13)%101, int64(i)*int64(time.Second))
		}
	}
	run := func(workers int) string {
		s := newStack(t, query.EngineOptions{Workers: workers})
		s.write("db", "", "", b.String())
		var out []string
		for _, q := range []string{
			"SELECT max(m), count(m) FROM (SELECT mean(v) AS m FROM cpu WHERE time >= 0s AND time < 50s GROUP BY time(5s), host) GROUP BY dc",
			"SELECT derivative(s, 1s) FROM (SELECT sum(v) AS s FROM cpu WHERE time >= 0s AND time < 50s GROUP BY time(5s)) ",
			"SELECT non_negative_difference(v) FROM cpu GROUP BY host SLIMIT 5",
		} {
			out = append(out, resultText(s.query("db", q, query.ExecutionOptions{})))
		}
		return strings.Join(out, "\n")
	}
	if one, four := run(1), run(4); one != four {
		t.Fatalf("1 worker:\n%s\n4 workers:\n%s", one, four)
	}
}
