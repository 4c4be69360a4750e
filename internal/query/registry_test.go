package query_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/query"
	"github.com/stratadb/strata/internal/storage/block"
	"github.com/stratadb/strata/internal/storage/engine"
	"github.com/stratadb/strata/internal/storage/index"
)

// endlessShard is a test double of a shard with one series whose field v
// never ends: every batch is 1000 more points. It lets kill and timeout
// tests stop a query that would otherwise run forever.
type endlessShard struct{}

func (endlessShard) ID() uint64 { return 1 }

func (endlessShard) MatchSeries([]byte, *index.Expr) (*roaring.Bitmap, error) {
	return roaring.BitmapOf(1), nil
}

func (endlessShard) FieldTypes(string) map[string]models.FieldType {
	return map[string]models.FieldType{"v": models.Float}
}

func (endlessShard) Index() query.SeriesIndex { return oneSeriesIndex{} }

func (endlessShard) Cursor([]byte, uint64, string, models.FieldType, int64, int64, bool) any {
	return &endlessCursor{}
}

type oneSeriesIndex struct{}

func (oneSeriesIndex) AppendSeriesKey(dst []byte, _ uint64) ([]byte, bool) {
	return append(dst, "m"...), true
}
func (oneSeriesIndex) MeasurementNames() [][]byte { return [][]byte{[]byte("m")} }
func (oneSeriesIndex) TagKeys([]byte) [][]byte    { return nil }

type endlessCursor struct {
	t   int64
	arr block.Array[float64]
}

func (c *endlessCursor) Next(bool) (engine.Batch[float64], error) {
	c.arr.Reset()
	for range 1000 {
		c.t++
		c.arr.Append(c.t, 1)
	}
	return engine.Batch[float64]{Array: c.arr}, nil
}

func (c *endlessCursor) Close() {}

// fakeMapper maps every query to its shards; block makes it wait for the
// query's context instead (a query stuck in planning).
type fakeMapper struct {
	shards []query.Shard
	block  bool
}

func (m *fakeMapper) MapShards(ctx context.Context, _, _ string, _, _ int64) ([]query.Shard, error) {
	if m.block {
		<-ctx.Done()
		return nil, context.Cause(ctx)
	}
	return m.shards, nil
}

type fakeMeta struct{}

func (fakeMeta) Database(name string) *meta.DatabaseInfo {
	return &meta.DatabaseInfo{Name: name, DefaultRetentionPolicy: "autogen"}
}

// runAsync starts a Select and returns a channel with its results.
func runAsync(ctx context.Context, e *query.Engine, q string) <-chan []*query.Result {
	out := make(chan []*query.Result, 1)
	stmt, _ := influxql.ParseStatement(q)
	go func() {
		var rs []*query.Result
		_ = e.Select(ctx, stmt.(*influxql.SelectStatement), query.ExecutionOptions{Database: "db"}, func(r *query.Result) error {
			rs = append(rs, r)
			return nil
		})
		out <- rs
	}()
	return out
}

// waitRunning waits until the registry lists n queries.
func waitRunning(t *testing.T, r *query.Registry, n int) []query.QueryInfo {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if qs := r.Queries(); len(qs) == n {
			return qs
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("the registry never listed %d queries: %v", n, r.Queries())
	return nil
}

// lastErr returns the error of the last result.
func lastErr(rs []*query.Result) error {
	if len(rs) == 0 {
		return nil
	}
	return rs[len(rs)-1].Err
}

func TestKillQuery(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mapper *fakeMapper
	}{
		{"executing", &fakeMapper{shards: []query.Shard{endlessShard{}}}},
		{"planning", &fakeMapper{block: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := query.NewEngine(query.EngineOptions{}, tc.mapper, fakeMeta{})
			defer e.Close()
			done := runAsync(context.Background(), e, "SELECT count(v) FROM m")
			qs := waitRunning(t, e.Registry(), 1)
			if qs[0].Query != "SELECT count(v) FROM m" || qs[0].Database != "db" {
				t.Fatalf("listed %+v", qs[0])
			}
			start := time.Now()
			if err := e.Registry().Kill(qs[0].ID); err != nil {
				t.Fatalf("kill: %v", err)
			}
			var rs []*query.Result
			select {
			case rs = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("the killed query did not stop")
			}
			took := time.Since(start)
			t.Logf("stopped %v after KILL", took)
			if took > time.Second {
				t.Errorf("the killed query took %v to stop", took)
			}
			if err := lastErr(rs); !errors.Is(err, query.ErrQueryInterrupted) || err.Error() != "query interrupted" {
				t.Fatalf("error = %v, want query interrupted", err)
			}
			if n := len(e.Registry().Queries()); n != 0 {
				t.Fatalf("%d queries still listed", n)
			}
		})
	}
}

func TestKillErrors(t *testing.T) {
	r := query.NewRegistry(query.RegistryOptions{})
	if err := r.Kill(7); err == nil || err.Error() != "no such query id: 7" {
		t.Fatalf("kill unknown: %v", err)
	}
	_, task, detach, err := r.Attach(context.Background(), "SELECT 1", "db")
	if err != nil {
		t.Fatal(err)
	}
	defer detach()
	if err := r.Kill(task.ID); err != nil {
		t.Fatal(err)
	}
	if err := r.Kill(task.ID); !errors.Is(err, query.ErrAlreadyKilled) {
		t.Fatalf("second kill: %v", err)
	}
	row := r.ShowQueries()
	if got := strings.Join(row.Columns, ","); got != "qid,query,database,duration,status" {
		t.Fatalf("columns %s", got)
	}
	if len(row.Values) != 1 || row.Values[0][0] != task.ID || row.Values[0][1] != "SELECT 1" ||
		row.Values[0][2] != "db" || row.Values[0][4] != "killed" {
		t.Fatalf("values %v", row.Values)
	}
}

func TestQueryTimeout(t *testing.T) {
	e := query.NewEngine(query.EngineOptions{QueryTimeout: 50 * time.Millisecond},
		&fakeMapper{shards: []query.Shard{endlessShard{}}}, fakeMeta{})
	defer e.Close()
	start := time.Now()
	rs := <-runAsync(context.Background(), e, "SELECT count(v) FROM m")
	if err := lastErr(rs); err == nil || err.Error() != "query-timeout limit exceeded" {
		t.Fatalf("error = %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("timed out after %v", took)
	}
}

func TestMaxConcurrentQueries(t *testing.T) {
	e := query.NewEngine(query.EngineOptions{MaxConcurrentQueries: 1},
		&fakeMapper{shards: []query.Shard{endlessShard{}}}, fakeMeta{})
	defer e.Close()
	first := runAsync(context.Background(), e, "SELECT count(v) FROM m")
	qs := waitRunning(t, e.Registry(), 1)
	rs := <-runAsync(context.Background(), e, "SELECT count(v) FROM m")
	if err := lastErr(rs); err == nil || err.Error() != "max-concurrent-queries limit exceeded(1, 1)" {
		t.Fatalf("error = %v", err)
	}
	if err := e.Registry().Kill(qs[0].ID); err != nil {
		t.Fatal(err)
	}
	<-first
}

func TestRegistryClose(t *testing.T) {
	e := query.NewEngine(query.EngineOptions{}, &fakeMapper{shards: []query.Shard{endlessShard{}}}, fakeMeta{})
	done := runAsync(context.Background(), e, "SELECT count(v) FROM m")
	waitRunning(t, e.Registry(), 1)
	e.Close()
	if err := lastErr(<-done); !errors.Is(err, query.ErrQueryEngineShutdown) {
		t.Fatalf("error = %v", err)
	}
	if err := lastErr(<-runAsync(context.Background(), e, "SELECT count(v) FROM m")); !errors.Is(err, query.ErrQueryEngineShutdown) {
		t.Fatalf("after close: %v", err)
	}
}

// An executor attaches the whole request; Select then runs under that task
// instead of registering the statement again.
func TestSelectUsesAttachedTask(t *testing.T) {
	e := query.NewEngine(query.EngineOptions{}, &fakeMapper{shards: []query.Shard{endlessShard{}}}, fakeMeta{})
	defer e.Close()
	ctx, task, detach, err := e.Registry().Attach(context.Background(), "SELECT count(v) FROM m; SELECT 1", "db")
	if err != nil {
		t.Fatal(err)
	}
	defer detach()
	done := runAsync(ctx, e, "SELECT count(v) FROM m")
	time.Sleep(20 * time.Millisecond)
	if n := len(e.Registry().Queries()); n != 1 {
		t.Fatalf("%d queries listed, want the attached one", n)
	}
	if err := e.Registry().Kill(task.ID); err != nil {
		t.Fatal(err)
	}
	if err := lastErr(<-done); !errors.Is(err, query.ErrQueryInterrupted) {
		t.Fatalf("error = %v", err)
	}
}

func TestSlowQueryLog(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	logger := newTestLogger(&buf, &mu)
	r := query.NewRegistry(query.RegistryOptions{LogQueriesAfter: 10 * time.Millisecond, Logger: logger})
	_, _, detach, err := r.Attach(context.Background(), "SELECT slow", "db")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	detach()
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(buf.String(), "Detected slow query") || !strings.Contains(buf.String(), "SELECT slow") {
		t.Fatalf("log: %q", buf.String())
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func newTestLogger(w io.Writer, mu *sync.Mutex) *slog.Logger {
	return slog.New(slog.NewTextHandler(lockedWriter{w, mu}, nil))
}

func TestRegistryStatistics(t *testing.T) {
	now := time.Unix(100, 0)
	r := query.NewRegistry(query.RegistryOptions{Now: func() time.Time { return now }})
	values := func() map[string]any {
		t.Helper()
		sts := r.Statistics(map[string]string{"k": "v"})
		if len(sts) != 1 || sts[0].Name != "queryExecutor" || sts[0].Tags["k"] != "v" {
			t.Fatalf("statistics %+v", sts)
		}
		return sts[0].Values
	}
	_, _, detach1, err := r.Attach(context.Background(), "SELECT 1", "db")
	if err != nil {
		t.Fatal(err)
	}
	_, _, detach2, err := r.Attach(context.Background(), "SELECT 2", "db")
	if err != nil {
		t.Fatal(err)
	}
	if v := values(); v["queriesActive"] != int64(2) || v["queriesExecuted"] != int64(2) || v["queriesFinished"] != int64(0) {
		t.Fatalf("two running: %v", v)
	}
	now = now.Add(3 * time.Millisecond)
	detach1()
	r.RecoveredPanic()
	v := values()
	want := map[string]any{"queriesActive": int64(1), "queriesExecuted": int64(2), "queriesFinished": int64(1),
		"queryDurationNs": int64(3 * time.Millisecond), "recoveredPanics": int64(1)}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Fatalf("after one finished (-want +got):\n%s", diff)
	}
	detach2()
}
