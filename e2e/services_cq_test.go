package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadb/strata/e2e/harness"
)

// cqConfig runs the continuous queries every 100 ms with their log and
// statistics on, and stores statistics every second: the cq_query points
// of query-stats-enabled go to the monitor's database.
const cqConfig = `[continuous_queries]
enabled = true
run-interval = "100ms"
log-enabled = true
query-stats-enabled = true

[monitor]
store-enabled = true
store-interval = "1s"
`

// monitorEnv turns the monitor's store on: the harness turns it off with
// an environment variable, which wins over the config file.
func monitorEnv() []string { return []string{"STRATA_MONITOR_STORE_ENABLED=true"} }

// cqPoints is line protocol for windows one-second windows from start:
// three points per window for each of the hosts a and b, with values that
// differ from window to window.
func cqPoints(start time.Time, windows int) string {
	var b strings.Builder
	for w := range windows {
		for h, host := range []string{"a", "b"} {
			for j := range 3 {
				ts := start.Add(time.Duration(w)*time.Second + time.Duration(j*300+h*100)*time.Millisecond)
				fmt.Fprintf(&b, "m,host=%s v=%d.25 %d\n", host, w*10+j*3+h, ts.UnixNano())
			}
		}
	}
	return b.String()
}

// windowValues answers q in db as host tag ("" without one) → time (ns)
// → the value of column field, nulls left out.
func windowValues(t testing.TB, s *harness.Server, q, field string) map[string]map[int64]float64 {
	t.Helper()
	out := map[string]map[int64]float64{}
	for _, ser := range svcQuery(t, s, q, "db", "db", "epoch", "ns") {
		host := ser.Tags["host"]
		for i := range ser.Values {
			v, ok := svcNum(ser.get(i, field))
			if !ok {
				continue
			}
			if out[host] == nil {
				out[host] = map[int64]float64{}
			}
			out[host][svcInt(t, ser.get(i, "time"))] = v
		}
	}
	return out
}

// byHand runs a CQ's SELECT over [from, to) as a client would.
func byHand(t testing.TB, s *harness.Server, agg, groupBy string, from, to time.Time) map[string]map[int64]float64 {
	t.Helper()
	q := fmt.Sprintf("SELECT %s(v) FROM m WHERE time >= %d AND time < %d GROUP BY %s",
		agg, from.UnixNano(), to.UnixNano(), groupBy)
	return windowValues(t, s, q, agg)
}

func countValues(m map[string]map[int64]float64) int {
	n := 0
	for _, w := range m {
		n += len(w)
	}
	return n
}

// sameWindows is a condition for svcEventually: "" when got() equals want.
func sameWindows(what string, got func() map[string]map[int64]float64, want map[string]map[int64]float64) func() string {
	return func() string {
		if d := cmp.Diff(want, got()); d != "" {
			return what + " (-by hand +continuous query):\n" + d
		}
		return ""
	}
}

// showCQs answers SHOW CONTINUOUS QUERIES for db as name → stored text,
// in order.
func showCQs(t testing.TB, s *harness.Server, db string) [][2]string {
	t.Helper()
	var out [][2]string
	for _, ser := range svcQuery(t, s, "SHOW CONTINUOUS QUERIES") {
		if ser.Name != db {
			continue
		}
		if !slices.Equal(ser.Columns, []string{"name", "query"}) {
			t.Fatalf("SHOW CONTINUOUS QUERIES columns %v", ser.Columns)
		}
		for _, row := range ser.Values {
			name, _ := row[0].(string)
			text, _ := row[1].(string)
			out = append(out, [2]string{name, text})
		}
	}
	return out
}

// TestContinuousQueries drives continuous queries through the real
// server: their output is compared point by point with the same SELECT
// run by hand over the same windows; RESAMPLE FOR recomputes windows that
// got late points (and covers windows older than the query); SHOW shows
// the stored, qualified text; DROP stops a query; the runs are counted,
// logged and stored as cq_query points; and windows that passed while the
// server was down are computed after a restart.
func TestContinuousQueries(t *testing.T) {
	t.Parallel()
	opts := harness.Options{Config: cqConfig, Env: monitorEnv()}
	s := harness.Start(t, opts)
	createDB(t, s, "db")
	write := func(body string) {
		t.Helper()
		if r := s.Write(params("db", "db"), body); r.Status != http.StatusNoContent {
			t.Fatalf("write: %d %s", r.Status, r.Body)
		}
	}
	// cq_query points are written to the monitor's database, which exists
	// from the monitor's first store on.
	svcEventually(t, svcTimeout, "the monitor creates _internal", func() string {
		for _, ser := range svcQuery(t, s, "SHOW DATABASES") {
			for _, row := range ser.Values {
				if row[0] == "_internal" {
					return ""
				}
			}
		}
		return "no _internal database"
	})

	const sec = time.Second
	// Points in the three seconds before the queries exist: only RESAMPLE
	// FOR reaches back to them.
	pastStart := time.Now().Truncate(sec).Add(-3 * sec)
	write(cqPoints(pastStart, 3))
	cqs := []struct{ name, create, stored string }{
		{"cq_mean",
			"CREATE CONTINUOUS QUERY cq_mean ON db BEGIN SELECT mean(v) INTO m_mean FROM m GROUP BY time(1s), host END",
			"CREATE CONTINUOUS QUERY cq_mean ON db BEGIN SELECT mean(v) INTO db.autogen.m_mean FROM db.autogen.m GROUP BY time(1s), host END"},
		{"cq_sum",
			"CREATE CONTINUOUS QUERY cq_sum ON db BEGIN SELECT sum(v) INTO m_sum FROM m GROUP BY time(1s) END",
			"CREATE CONTINUOUS QUERY cq_sum ON db BEGIN SELECT sum(v) INTO db.autogen.m_sum FROM db.autogen.m GROUP BY time(1s) END"},
		{"cq_resample",
			"CREATE CONTINUOUS QUERY cq_resample ON db RESAMPLE EVERY 2s FOR 30s BEGIN SELECT mean(v) INTO m_resampled FROM m GROUP BY time(1s), host END",
			"CREATE CONTINUOUS QUERY cq_resample ON db RESAMPLE EVERY 2s FOR 30s BEGIN SELECT mean(v) INTO db.autogen.m_resampled FROM db.autogen.m GROUP BY time(1s), host END"},
	}
	var wantShown [][2]string
	for _, c := range cqs {
		svcExec(t, s, c.create)
		wantShown = append(wantShown, [2]string{c.name, c.stored})
	}
	// Points in windows that are still to come: every run of cq_mean and
	// cq_sum after them computes one of them, once.
	base := time.Now().Truncate(sec).Add(2 * sec)
	write(cqPoints(base, 3))
	if d := cmp.Diff(wantShown, showCQs(t, s, "db")); d != "" {
		t.Fatalf("SHOW CONTINUOUS QUERIES (-want +got):\n%s", d)
	}

	meanOut := func() map[string]map[int64]float64 {
		return windowValues(t, s, "SELECT mean FROM m_mean GROUP BY host", "mean")
	}
	sumOut := func() map[string]map[int64]float64 {
		return windowValues(t, s, "SELECT sum FROM m_sum", "sum")
	}
	resampledOut := func() map[string]map[int64]float64 {
		return windowValues(t, s, "SELECT mean FROM m_resampled GROUP BY host", "mean")
	}
	wantMean := byHand(t, s, "mean", "time(1s), host", base, base.Add(3*sec))
	wantSum := byHand(t, s, "sum", "time(1s)", base, base.Add(3*sec))
	if countValues(wantMean) != 6 || countValues(wantSum) != 3 {
		t.Fatalf("test bug: by hand, %v and %v", wantMean, wantSum)
	}
	// cq_mean's output is exactly the hand query's: nothing from before it
	// existed, nothing for empty windows.
	svcEventually(t, svcTimeout, "cq_mean", sameWindows("cq_mean", meanOut, wantMean))
	svcEventually(t, svcTimeout, "cq_sum", sameWindows("cq_sum", sumOut, wantSum))
	// cq_resample also covers the windows older than itself.
	wantResampled := byHand(t, s, "mean", "time(1s), host", pastStart, base.Add(3*sec))
	if countValues(wantResampled) != 12 {
		t.Fatalf("test bug: by hand, %v", wantResampled)
	}
	svcEventually(t, svcTimeout, "cq_resample", sameWindows("cq_resample", resampledOut, wantResampled))

	// A late point in a window every query has computed: only RESAMPLE FOR
	// computes it again; the others keep what they wrote, as in 1.x.
	write(fmt.Sprintf("m,host=a v=1000 %d\n", base.Add(500*time.Millisecond).UnixNano()))
	wantResampled = byHand(t, s, "mean", "time(1s), host", pastStart, base.Add(3*sec))
	if wantResampled["a"][base.UnixNano()] == wantMean["a"][base.UnixNano()] {
		t.Fatal("test bug: the late point does not change the mean")
	}
	svcEventually(t, svcTimeout, "cq_resample recomputes the window of the late point",
		sameWindows("cq_resample", resampledOut, wantResampled))
	if d := cmp.Diff(wantMean, meanOut()); d != "" {
		t.Fatalf("cq_mean (no RESAMPLE) changed a window it had computed (-before +after):\n%s", d)
	}
	if d := cmp.Diff(wantSum, sumOut()); d != "" {
		t.Fatalf("cq_sum (no RESAMPLE) changed a window it had computed (-before +after):\n%s", d)
	}

	// Statistics: the "cq" statistic counts runs; query-stats-enabled
	// stores every run as a cq_query point, whose pointsWrittenOK add up to
	// what the query wrote; log-enabled logs every run.
	stats := svcQuery(t, s, "SHOW STATS FOR 'cq'")
	if len(stats) != 1 || stats[0].Name != "cq" {
		t.Fatalf("SHOW STATS FOR 'cq': %v", stats)
	}
	if ok, _ := svcNum(stats[0].get(0, "queryOk")); ok < 3 {
		t.Errorf("cq queryOk = %v after several runs of three queries", stats[0].get(0, "queryOk"))
	}
	if fail, _ := svcNum(stats[0].get(0, "queryFail")); fail != 0 {
		t.Errorf("cq queryFail = %v", stats[0].get(0, "queryFail"))
	}
	for _, c := range []struct {
		name string
		want int
	}{{"cq_mean", 6}, {"cq_sum", 3}} {
		q := fmt.Sprintf(`SELECT sum(pointsWrittenOK) AS n, count(durationNs) AS runs FROM "_internal"."monitor"."cq_query" WHERE "cq" = '%s' AND "db" = 'db'`, c.name)
		svcEventually(t, svcTimeout, "cq_query points of "+c.name, func() string {
			ser := svcQuery(t, s, q, "db", "_internal")
			if len(ser) != 1 || len(ser[0].Values) != 1 {
				return fmt.Sprintf("%s answered %v", q, ser)
			}
			n, _ := svcNum(ser[0].get(0, "n"))
			runs, _ := svcNum(ser[0].get(0, "runs"))
			if int(n) != c.want || runs < 3 {
				return fmt.Sprintf("%d points written in %v runs, want %d points in 3 runs or more", int(n), runs, c.want)
			}
			return ""
		})
	}
	svcEventually(t, svcTimeout, "the stored cq statistic", func() string {
		if v, ok := svcScalar(t, s, `SELECT last(queryOk) AS n FROM "_internal"."monitor"."cq"`, "n", "db", "_internal"); !ok || v < 1 {
			return fmt.Sprintf("last queryOk %v (%v)", v, ok)
		}
		return ""
	})
	if !logHasLine(s.Log(), "finished continuous query", "cq_mean", "written=2") {
		t.Errorf("no log line of a cq_mean run that wrote its two points (log-enabled):\n%s", s.Log())
	}

	// DROP stops a query: windows that cq_sum (created after it, so run
	// after it in every pass) has computed get nothing from cq_mean.
	svcExec(t, s, "DROP CONTINUOUS QUERY cq_mean ON db")
	if d := cmp.Diff(wantShown[1:], showCQs(t, s, "db")); d != "" {
		t.Fatalf("SHOW CONTINUOUS QUERIES after DROP (-want +got):\n%s", d)
	}
	base2 := time.Now().Truncate(sec).Add(2 * sec)
	write(cqPoints(base2, 2))
	for k, v := range byHand(t, s, "sum", "time(1s)", base2, base2.Add(2*sec)) {
		for ts, n := range v {
			wantSum[k][ts] = n
		}
	}
	svcEventually(t, svcTimeout, "cq_sum after the drop", sameWindows("cq_sum", sumOut, wantSum))
	if d := cmp.Diff(wantMean, meanOut()); d != "" {
		t.Fatalf("the dropped cq_mean wrote (-before +after):\n%s", d)
	}

	// Catch-up (Strata only: 1.x forgets its last runs when it stops, and
	// never computes the windows that passed while it was down). Points
	// for three windows to come, then the server goes down until they have
	// all passed.
	base3 := time.Now().Truncate(sec).Add(2 * sec)
	write(cqPoints(base3, 3))
	for k, v := range byHand(t, s, "sum", "time(1s)", base3, base3.Add(3*sec)) {
		for ts, n := range v {
			wantSum[k][ts] = n
		}
	}
	s.Stop()
	stopped := time.Now()
	missed := 0
	for w := range 3 {
		if base3.Add(time.Duration(w+1) * sec).After(stopped) {
			missed++
		}
	}
	if missed == 0 {
		t.Fatalf("stratad took until %s to stop: every window had passed", stopped.Format(time.RFC3339Nano))
	}
	time.Sleep(time.Until(base3.Add(3*sec + 200*time.Millisecond))) // down: nothing to poll
	s = s.Restart(opts)
	svcEventually(t, svcTimeout, "cq_sum catches up after the restart", sameWindows("cq_sum", sumOut, wantSum))
	t.Logf("%d windows passed while stratad was down and were computed after the restart", missed)
	if d := cmp.Diff(wantShown[1:], showCQs(t, s, "db")); d != "" {
		t.Fatalf("SHOW CONTINUOUS QUERIES after the restart (-want +got):\n%s", d)
	}
}

// logHasLine reports whether one line of log holds every fragment.
func logHasLine(log string, fragments ...string) bool {
	for line := range strings.SplitSeq(log, "\n") {
		all := true
		for _, f := range fragments {
			if !strings.Contains(line, f) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}
