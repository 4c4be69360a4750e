package continuousquery_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influxdata/influxql"
	"go.uber.org/goleak"

	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/query"
	cqs "github.com/stratadb/strata/internal/services/continuousquery"
	"github.com/stratadb/strata/internal/vfs"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// at is 2026-01-05 (a Monday) at hh:mm:ss UTC.
func at(hh, mm, ss int) time.Time { return time.Date(2026, 1, 5, hh, mm, ss, 0, time.UTC) }

// fakeExec records the SELECT ... INTO statements it is given and answers
// each with a "written" count, or with err.
type fakeExec struct {
	mu      sync.Mutex
	runs    []execRun
	written int64
	err     error
}

type execRun struct {
	db, text   string
	start, end time.Time
	admin      bool
}

func (f *fakeExec) ExecuteQuery(_ context.Context, q *influxql.Query, opts query.ExecutionOptions) <-chan *query.Result {
	out := make(chan *query.Result, 1)
	defer close(out)
	stmt := q.Statements[0].(*influxql.SelectStatement)
	_, tr, err := influxql.ConditionExpr(stmt.Condition, nil)
	if err != nil {
		out <- &query.Result{Err: err}
		return out
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs = append(f.runs, execRun{
		db: opts.Database, text: stmt.String(),
		start: tr.Min.UTC(), end: tr.Max.Add(1).UTC(), // the condition is time < end
		admin: opts.User != nil && opts.User.IsAdmin(),
	})
	if f.err != nil {
		out <- &query.Result{Err: f.err}
		return out
	}
	out <- &query.Result{Series: []*query.Row{{
		Name: "result", Columns: []string{"time", "written"},
		Values: [][]any{{time.Unix(0, 0).UTC(), f.written}},
	}}}
	return out
}

func (f *fakeExec) take() []execRun {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.runs
	f.runs = nil
	return r
}

func windows(runs []execRun) string {
	var parts []string
	for _, r := range runs {
		parts = append(parts, r.start.Format("15:04")+"-"+r.end.Format("15:04"))
	}
	return strings.Join(parts, " ")
}

// newMeta returns a meta store with database db0 and the given continuous
// queries (name, then query text, alternately).
func newMeta(t *testing.T, queries ...string) *meta.Store {
	t.Helper()
	m, err := meta.Open(vfs.Default, t.TempDir(), meta.Options{RetentionAutoCreate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if _, err := m.CreateDatabase("db0"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(queries); i += 2 {
		createCQ(t, m, queries[i], queries[i+1])
	}
	return m
}

func createCQ(t *testing.T, m *meta.Store, name, text string) {
	t.Helper()
	if err := m.Apply(func(d *meta.Data) error { return d.CreateContinuousQuery("db0", name, text) }); err != nil {
		t.Fatal(err)
	}
}

func cqText(name, resample, groupBy string) string {
	return fmt.Sprintf("CREATE CONTINUOUS QUERY %s ON db0 %sBEGIN SELECT mean(value) INTO db0.autogen.cpu_mean FROM db0.autogen.cpu GROUP BY %s END", influxql.QuoteIdent(name), resample, groupBy)
}

func statValues(t *testing.T, s *cqs.Service) (ok, fail int64) {
	t.Helper()
	st := s.Statistics(nil)
	if len(st) != 1 || st[0].Name != "cq" {
		t.Fatalf("statistics: %+v", st)
	}
	return st[0].Values["queryOk"].(int64), st[0].Values["queryFail"].(int64)
}

func TestServiceRunsAtBoundaries(t *testing.T) {
	m := newMeta(t, "hourly", cqText("hourly", "", "time(1h)"))
	exec := &fakeExec{written: 3}
	var logs bytes.Buffer
	var stats []cqs.QueryStats
	s := cqs.New(cqs.Config{Enabled: true, LogEnabled: true, QueryStatsEnabled: true, RunInterval: time.Second},
		m, exec, cqs.Options{
			Logger:       slog.New(slog.NewTextHandler(&logs, nil)),
			Now:          func() time.Time { return at(9, 0, 1) },
			OnQueryStats: func(st cqs.QueryStats) { stats = append(stats, st) },
		})
	ctx := context.Background()
	for _, now := range []time.Time{at(7, 30, 0), at(7, 59, 59), at(8, 0, 0), at(8, 0, 1), at(8, 59, 0), at(9, 0, 1)} {
		s.RunAt(ctx, now)
	}
	runs := exec.take()
	if got, want := windows(runs), "07:00-08:00 08:00-09:00"; got != want {
		t.Fatalf("windows %q, want %q", got, want)
	}
	for _, r := range runs {
		if r.db != "db0" || !r.admin {
			t.Fatalf("run as %+v: want database db0 and the service's admin user", r)
		}
		if !strings.Contains(r.text, "INTO db0.autogen.cpu_mean") || !strings.Contains(r.text, "GROUP BY time(1h)") {
			t.Fatalf("statement %q", r.text)
		}
	}
	if ok, fail := statValues(t, s); ok != 2 || fail != 0 {
		t.Fatalf("queryOk %d queryFail %d, want 2 0", ok, fail)
	}
	if len(stats) != 2 || stats[1].PointsWritten != 3 || !stats[1].Start.Equal(at(8, 0, 0)) || !stats[1].End.Equal(at(9, 0, 0)) {
		t.Fatalf("query stats %+v", stats)
	}
	for _, want := range []string{"executing continuous query", "finished continuous query", "written=3"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

func TestServiceResample(t *testing.T) {
	m := newMeta(t,
		"every", cqText("every", "RESAMPLE EVERY 30m ", "time(1h)"),
		"for", cqText("for", "RESAMPLE FOR 1h ", "time(30m)"),
		"offset", cqText("offset", "", "time(1h, 15m)"))
	exec := &fakeExec{}
	s := cqs.New(cqs.Config{Enabled: true, RunInterval: time.Second}, m, exec, cqs.Options{})
	got := map[string][]string{}
	for now := at(7, 50, 0); now.Before(at(9, 1, 0)); now = now.Add(5 * time.Minute) {
		s.RunAt(context.Background(), now.Add(time.Second))
		for _, r := range exec.take() {
			name := "every"
			switch {
			case strings.Contains(r.text, "time(30m)"):
				name = "for"
			case strings.Contains(r.text, "15m"):
				name = "offset"
			}
			got[name] = append(got[name], r.start.Format("15:04")+"-"+r.end.Format("15:04")+"@"+now.Format("15:04"))
		}
	}
	want := map[string]string{
		"every":  "07:00-08:00@07:50 07:00-08:00@08:00 08:00-09:00@08:30 08:00-09:00@09:00",
		"for":    "07:00-07:30@07:50 07:00-08:00@08:00 07:30-08:30@08:30 08:00-09:00@09:00",
		"offset": "07:15-08:15@08:15",
	}
	for name, w := range want {
		if g := strings.Join(got[name], " "); g != w {
			t.Errorf("%s: %s\n want %s", name, g, w)
		}
	}
}

// TestServiceCatchUp checks that a service started again with the same
// state file covers what it missed while down, bounded by MaxCatchUp and
// in queries of at most 100 intervals, and that without the state file it
// behaves as 1.x (the missed windows are lost).
func TestServiceCatchUp(t *testing.T) {
	dir := t.TempDir()
	m := newMeta(t,
		"hourly", cqText("hourly", "", "time(1h)"),
		"minutely", cqText("minutely", "", "time(1m)"))
	state := filepath.Join(dir, "cq_state.json")
	byQuery := func(runs []execRun, iv string) string {
		var sel []execRun
		for _, r := range runs {
			if strings.Contains(r.text, "time("+iv+")") {
				sel = append(sel, r)
			}
		}
		return windows(sel)
	}

	exec := &fakeExec{}
	first := cqs.New(cqs.Config{Enabled: true, RunInterval: time.Second}, m, exec, cqs.Options{StatePath: state})
	first.RunAt(context.Background(), at(7, 30, 0))
	first.RunAt(context.Background(), at(8, 0, 1))
	if got := byQuery(exec.take(), "1h"); got != "07:00-08:00" {
		t.Fatalf("before the restart: %q", got)
	}

	// Down from 8:00:01 to 11:30: hours 8, 9 and 10 and 210 minutes passed.
	second := cqs.New(cqs.Config{Enabled: true, RunInterval: time.Second}, m, exec, cqs.Options{StatePath: state})
	if err := second.Open(); err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	second.RunAt(context.Background(), at(11, 30, 0))
	runs := exec.take()
	if got := byQuery(runs, "1h"); got != "08:00-11:00" {
		t.Errorf("hourly after the restart: %q, want 08:00-11:00", got)
	}
	if got := byQuery(runs, "1m"); got != "08:00-09:40 09:40-11:20 11:20-11:30" {
		t.Errorf("minutely after the restart: %q, want three queries of ≤ 100 intervals", got)
	}

	// With MaxCatchUp 60, only the last hour of minutes is computed.
	exec2 := &fakeExec{}
	third := cqs.New(cqs.Config{Enabled: true, RunInterval: time.Second, MaxCatchUp: 60}, m, exec2, cqs.Options{StatePath: state})
	if err := third.Open(); err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	third.RunAt(context.Background(), at(14, 0, 1))
	if got := byQuery(exec2.take(), "1m"); got != "13:00-14:00" {
		t.Errorf("bounded catch-up: %q, want 13:00-14:00", got)
	}

	// 1.x's behaviour: no state, so the first run after a start is empty.
	exec3 := &fakeExec{}
	fresh := cqs.New(cqs.Config{Enabled: true, RunInterval: time.Second, MaxCatchUp: -1}, m, exec3, cqs.Options{StatePath: state})
	fresh.RunAt(context.Background(), at(16, 30, 0))
	if runs := exec3.take(); len(runs) != 0 {
		t.Errorf("without state the first pass ran %s", windows(runs))
	}
}

func TestServiceStateFollowsMeta(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "cq_state.json")
	m := newMeta(t, "q", cqText("q", "", "time(1h)"))
	exec := &fakeExec{}
	s := cqs.New(cqs.Config{Enabled: true, RunInterval: time.Second}, m, exec, cqs.Options{StatePath: state})
	s.RunAt(context.Background(), at(7, 30, 0))
	data, err := os.ReadFile(state)
	if err != nil || !strings.Contains(string(data), `"name":"q"`) {
		t.Fatalf("state file %q: %v", data, err)
	}
	// Dropped and created again with another text: starts afresh.
	if err := m.Apply(func(d *meta.Data) error { return d.DropContinuousQuery("db0", "q") }); err != nil {
		t.Fatal(err)
	}
	createCQ(t, m, "q", cqText("q", "", "time(30m)"))
	s2 := cqs.New(cqs.Config{Enabled: true, RunInterval: time.Second}, m, exec, cqs.Options{StatePath: state})
	if err := s2.Open(); err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	s2.RunAt(context.Background(), at(10, 0, 1))
	if runs := exec.take(); len(runs) != 0 {
		t.Fatalf("a new query caught up the old one's windows: %s", windows(runs))
	}
	// Dropped: forgotten in the state file.
	if err := m.Apply(func(d *meta.Data) error { return d.DropContinuousQuery("db0", "q") }); err != nil {
		t.Fatal(err)
	}
	s2.RunAt(context.Background(), at(10, 30, 1))
	if data, _ := os.ReadFile(state); strings.Contains(string(data), `"name":"q"`) {
		t.Fatalf("dropped query still in the state: %s", data)
	}
}

func TestServiceCorruptState(t *testing.T) {
	state := filepath.Join(t.TempDir(), "cq_state.json")
	if err := os.WriteFile(state, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	m := newMeta(t, "q", cqText("q", "", "time(1h)"))
	exec := &fakeExec{}
	s := cqs.New(cqs.Config{Enabled: true, RunInterval: time.Second}, m, exec,
		cqs.Options{StatePath: state, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err := s.Open(); err != nil {
		t.Fatalf("open with a corrupt state: %v", err)
	}
	defer s.Close()
	if !strings.Contains(logs.String(), "corrupt continuous query state") {
		t.Fatalf("corrupt state not logged: %s", logs.String())
	}
	s.RunAt(context.Background(), at(7, 30, 0))
	s.RunAt(context.Background(), at(8, 0, 1))
	if got := windows(exec.take()); got != "07:00-08:00" {
		t.Fatalf("windows %q", got)
	}
}

func TestServiceFailures(t *testing.T) {
	m := newMeta(t,
		"raw", "CREATE CONTINUOUS QUERY raw ON db0 BEGIN SELECT value INTO db0.autogen.copy FROM db0.autogen.cpu GROUP BY time(1h) END",
		"agg", cqText("agg", "", "time(1h)"))
	exec := &fakeExec{err: errors.New("boom")}
	var logs bytes.Buffer
	s := cqs.New(cqs.Config{Enabled: true, RunInterval: time.Second}, m, exec,
		cqs.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	s.RunAt(context.Background(), at(7, 30, 0))
	s.RunAt(context.Background(), at(8, 0, 1))
	s.RunAt(context.Background(), at(8, 30, 0)) // not due: no second failure
	if runs := exec.take(); len(runs) != 1 {
		t.Fatalf("%d queries executed, want 1 (the raw query is not run)", len(runs))
	}
	if ok, fail := statValues(t, s); ok != 0 || fail != 2 {
		t.Fatalf("queryOk %d queryFail %d, want 0 2", ok, fail)
	}
	for _, want := range []string{"continuous queries must be aggregate queries", "boom"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

func TestServiceOpenClose(t *testing.T) {
	m := newMeta(t)
	s := cqs.New(cqs.Config{Enabled: true}, m, &fakeExec{}, cqs.Options{})
	if err := s.Open(); !errors.Is(err, cqs.ErrInvalidRunInterval) {
		t.Fatalf("open with run-interval 0: %v", err)
	}
	s = cqs.New(cqs.Config{Enabled: true, RunInterval: time.Hour}, m, &fakeExec{}, cqs.Options{})
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	if err := s.Open(); !errors.Is(err, cqs.ErrAlreadyOpen) {
		t.Fatalf("second open: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	disabled := cqs.New(cqs.Config{}, m, &fakeExec{}, cqs.Options{})
	if err := disabled.Open(); err != nil {
		t.Fatal(err)
	}
	if err := disabled.Close(); err != nil {
		t.Fatal(err)
	}
}
