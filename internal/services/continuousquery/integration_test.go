package continuousquery_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/coordinator"
	"github.com/stratadb/strata/internal/lineprotocol"
	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/query"
	cqs "github.com/stratadb/strata/internal/services/continuousquery"
	"github.com/stratadb/strata/internal/storage"
	"github.com/stratadb/strata/internal/vfs"
)

// server is the real write and query path: meta, storage, points writer,
// SELECT engine and statement executor, as stratad builds them.
type server struct {
	t      *testing.T
	dir    string
	meta   *meta.Store
	writer *coordinator.PointsWriter
	exec   *coordinator.StatementExecutor
}

type metaClient struct{ *meta.Store }

func (m metaClient) ShardExists(id uint64) bool {
	_, _, sg := m.Data().ShardOwner(id)
	return sg != nil && !sg.Deleted()
}

func newServer(t *testing.T) *server {
	t.Helper()
	dir := t.TempDir()
	m, err := meta.Open(vfs.Default, filepath.Join(dir, "meta"), meta.Options{RetentionAutoCreate: true})
	if err != nil {
		t.Fatal(err)
	}
	st, err := storage.Open(vfs.Default, filepath.Join(dir, "data"), filepath.Join(dir, "wal"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, dir: dir, meta: m}
	s.writer = coordinator.NewPointsWriter(metaClient{m}, st, coordinator.PointsWriterOptions{})
	eng := query.NewEngine(query.EngineOptions{PointsWriter: s.writer}, &query.LocalShardMapper{Meta: m, Store: st}, m)
	s.exec = &coordinator.StatementExecutor{Meta: m, Store: st, Select: eng.Select}
	t.Cleanup(func() {
		eng.Close()
		if err := st.Close(); err != nil {
			t.Errorf("close storage: %v", err)
		}
		m.Close()
	})
	return s
}

func (s *server) write(lines string) {
	s.t.Helper()
	var p lineprotocol.Parser
	points, errs := p.Parse([]byte(lines), lineprotocol.Nanosecond, 0)
	if len(errs) > 0 {
		s.t.Fatal(errs[0])
	}
	if err := s.writer.WritePoints(context.Background(), "db0", "", points); err != nil {
		s.t.Fatal(err)
	}
}

// run executes text on db0 and renders its results, one line per row:
// "name tags: v1 v2 ...".
func (s *server) run(text string) []string {
	s.t.Helper()
	q, err := influxql.ParseQuery(text)
	if err != nil {
		s.t.Fatal(err)
	}
	var out []string
	for r := range s.exec.ExecuteQuery(context.Background(), q, query.ExecutionOptions{Database: "db0"}) {
		if r.Err != nil {
			s.t.Fatalf("%s: %v", text, r.Err)
		}
		for _, row := range r.Series {
			for _, v := range row.Values {
				out = append(out, fmt.Sprintf("%s %v: %v", row.Name, row.Tags, v))
			}
		}
	}
	return out
}

// points writes two hosts' values every 10 s over [from, to).
func points(from, to time.Time, f func(i int) float64) string {
	var b strings.Builder
	i := 0
	for t := from; t.Before(to); t = t.Add(10 * time.Second) {
		fmt.Fprintf(&b, "cpu,host=a value=%g %d\ncpu,host=b value=%g %d\n", f(i), t.UnixNano(), -f(i)/3, t.UnixNano())
		i++
	}
	return b.String()
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// TestCQOutputMatchesSelect runs a continuous query over the real engine
// (SELECT ... INTO) and checks what it wrote, point by point, against the
// same SELECT run by hand; then a RESAMPLE query recomputes a window that
// received late data, and a restarted service catches up the hours it
// missed.
func TestCQOutputMatchesSelect(t *testing.T) {
	s := newServer(t)
	s.run("CREATE DATABASE db0")
	s.write(points(at(0, 0, 0), at(6, 0, 0), func(i int) float64 { return float64(i%97) * 1.5 }))
	s.run(`CREATE CONTINUOUS QUERY cq ON db0 BEGIN SELECT mean(value), max(value), count(value) INTO cpu_1h FROM cpu GROUP BY time(1h), host END;
		CREATE CONTINUOUS QUERY rs ON db0 RESAMPLE EVERY 30m FOR 2h BEGIN SELECT sum(value) INTO cpu_30m FROM cpu GROUP BY time(30m), host END`)
	state := filepath.Join(s.dir, "cq_state.json")
	svc := cqs.New(cqs.Config{Enabled: true, RunInterval: time.Second}, s.meta, s.exec, cqs.Options{StatePath: state})
	for _, now := range []time.Time{at(0, 30, 0), at(1, 0, 1), at(1, 30, 1), at(2, 0, 1), at(3, 0, 1)} {
		svc.RunAt(context.Background(), now)
	}
	if ok, fail := statValues(t, svc); fail != 0 || ok == 0 {
		t.Fatalf("queryOk %d queryFail %d", ok, fail)
	}
	byHand := func(fields, iv string, from, to time.Time) []string {
		return s.run(fmt.Sprintf("SELECT %s FROM cpu WHERE time >= '%s' AND time < '%s' GROUP BY time(%s), host", fields, ts(from), ts(to), iv))
	}
	stored := func(measurement, fields string, from, to time.Time) []string {
		rows := s.run(fmt.Sprintf("SELECT %s FROM %s WHERE time >= '%s' AND time < '%s' GROUP BY host", fields, measurement, ts(from), ts(to)))
		for i := range rows {
			rows[i] = strings.Replace(rows[i], measurement, "cpu", 1)
		}
		return rows
	}
	compare := func(what string, got, want []string) {
		t.Helper()
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("%s:\n got %s\nwant %s", what, strings.Join(got, "\n     "), strings.Join(want, "\n     "))
		}
		if len(want) == 0 {
			t.Fatalf("%s: nothing to compare", what)
		}
	}
	compare("cq_1h after three hours",
		stored("cpu_1h", "mean, max, count", at(0, 0, 0), at(6, 0, 0)),
		byHand("mean(value) AS mean, max(value) AS max, count(value) AS count", "1h", at(0, 0, 0), at(3, 0, 0)))

	// Late data for 1:40; the resampled query recomputes up to two hours
	// back, so its 1:30 window changes at the next run.
	s.write("cpu,host=a value=1000 " + fmt.Sprint(at(1, 40, 5).UnixNano()))
	svc.RunAt(context.Background(), at(3, 30, 1))
	compare("cpu_30m after late data",
		stored("cpu_30m", "sum", at(0, 0, 0), at(3, 30, 0)),
		byHand("sum(value) AS sum", "30m", at(0, 0, 0), at(3, 30, 0)))

	// Down from 3:30 to 5:10: the hourly query computes hours 3 and 4.
	restarted := cqs.New(cqs.Config{Enabled: true, RunInterval: time.Second}, s.meta, s.exec, cqs.Options{StatePath: state})
	if err := restarted.Open(); err != nil {
		t.Fatal(err)
	}
	defer restarted.Close()
	restarted.RunAt(context.Background(), at(5, 10, 0))
	// (Hour 1 keeps what was computed before the late point: the hourly
	// query does not resample.)
	compare("cq_1h after the restart",
		stored("cpu_1h", "mean, max, count", at(3, 0, 0), at(6, 0, 0)),
		byHand("mean(value) AS mean, max(value) AS max, count(value) AS count", "1h", at(3, 0, 0), at(5, 0, 0)))
	if ok, fail := statValues(t, restarted); ok != 2 || fail != 0 {
		t.Fatalf("after the restart: queryOk %d queryFail %d, want 2 0 (both queries caught up)", ok, fail)
	}
}
