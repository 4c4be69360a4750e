package monitor_test

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/stratadb/strata/internal/coordinator"
	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/services/monitor"
	"github.com/stratadb/strata/internal/stats"
	"github.com/stratadb/strata/internal/storage"
	"github.com/stratadb/strata/internal/storage/block"
	"github.com/stratadb/strata/internal/storage/engine"
	"github.com/stratadb/strata/internal/vfs"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// reporter is a fixed set of statistics.
type reporter []stats.Statistic

func (r reporter) Statistics(map[string]string) []stats.Statistic { return r }

// metaClient gives the points writer the meta reads it declares.
type metaClient struct{ s *meta.Store }

func (m metaClient) Database(name string) *meta.DatabaseInfo { return m.s.Database(name) }

func (m metaClient) CreateShardGroupIfNotExists(db, rp string, t time.Time) (*meta.ShardGroupInfo, error) {
	return m.s.CreateShardGroupIfNotExists(db, rp, t)
}

func (m metaClient) ShardExists(id uint64) bool {
	_, _, sg := m.s.Data().ShardOwner(id)
	return sg != nil && !sg.Deleted()
}

type env struct {
	meta   *meta.Store
	store  *storage.Store
	writer *coordinator.PointsWriter
}

func newEnv(t testing.TB, now func() time.Time) *env {
	t.Helper()
	dir := t.TempDir()
	m, err := meta.Open(vfs.Default, filepath.Join(dir, "meta"), meta.Options{RetentionAutoCreate: true})
	if err != nil {
		t.Fatalf("open meta: %v", err)
	}
	s, err := storage.Open(vfs.Default, filepath.Join(dir, "data"), filepath.Join(dir, "wal"), storage.Options{})
	if err != nil {
		t.Fatalf("open storage: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close storage: %v", err)
		}
		if err := m.Close(); err != nil {
			t.Errorf("close meta: %v", err)
		}
	})
	w := coordinator.NewPointsWriter(metaClient{m}, s, coordinator.PointsWriterOptions{Now: now})
	return &env{meta: m, store: s, writer: w}
}

// read returns the values of one field of one series of db, across its
// shards, in time order.
func read[T block.Value](t *testing.T, e *env, db, seriesKey, field string) (times []int64, vals []T) {
	t.Helper()
	for _, id := range e.store.ShardIDs() {
		sh := e.store.Shard(id)
		if sh == nil || sh.Database() != db {
			continue
		}
		sid := sh.Index().SeriesID([]byte(seriesKey))
		if sid == 0 {
			continue
		}
		c := engine.NewCursor[T](sh, []byte(seriesKey), sid, field, math.MinInt64, math.MaxInt64, true)
		for {
			b, err := c.Next(false)
			if err != nil {
				c.Close()
				t.Fatalf("read %s %s: %v", seriesKey, field, err)
			}
			if b.Len() == 0 {
				break
			}
			times = append(times, b.Times...)
			vals = append(vals, b.Values...)
		}
		c.Close()
	}
	return times, vals
}

// TestStore writes statistics to _internal through the real points writer
// and storage, and reads them back.
func TestStore(t *testing.T) {
	now := t0.Add(3 * time.Second)
	clock := func() time.Time { return now }
	e := newEnv(t, clock)
	m := monitor.New(monitor.Config{StoreEnabled: true, StoreDatabase: "_internal", StoreInterval: 10 * time.Second},
		e.meta, e.writer, monitor.Options{Now: clock, Hostname: "testhost"})
	m.AddReporter(reporter{{Name: "httpd", Tags: map[string]string{"bind": ":8086"}, Values: map[string]any{
		"req": int64(5), "ratio": 1.5, "up": true, "mode": "x", "big": uint64(7), "nan": math.NaN(),
	}}})
	m.AddReporter(e.store)

	if err := m.Store(context.Background()); err != nil {
		t.Fatalf("store: %v", err)
	}

	// The database and its policy, as 1.x creates them.
	di := e.meta.Database("_internal")
	if di == nil {
		t.Fatalf("_internal not created")
	}
	rp := di.RetentionPolicy("")
	if rp == nil || rp.Name != "monitor" || rp.Duration != 7*24*time.Hour || rp.ReplicaN != 1 ||
		rp.ShardGroupDuration != 24*time.Hour || len(di.RetentionPolicies) != 1 {
		t.Fatalf("_internal policies: default %q, %+v", di.DefaultRetentionPolicy, di.RetentionPolicies)
	}

	// The reporter's point: tags plus hostname, fields by type, time
	// truncated to the interval.
	key := "httpd,bind=:8086,hostname=testhost"
	times, reqs := read[int64](t, e, "_internal", key, "req")
	if len(reqs) != 1 || reqs[0] != 5 || times[0] != t0.UnixNano() {
		t.Fatalf("httpd req: times %v values %v, want [5] at %d", times, reqs, t0.UnixNano())
	}
	if _, v := read[float64](t, e, "_internal", key, "ratio"); len(v) != 1 || v[0] != 1.5 {
		t.Fatalf("httpd ratio: %v", v)
	}
	if _, v := read[bool](t, e, "_internal", key, "up"); len(v) != 1 || !v[0] {
		t.Fatalf("httpd up: %v", v)
	}
	if _, v := read[string](t, e, "_internal", key, "mode"); len(v) != 1 || v[0] != "x" {
		t.Fatalf("httpd mode: %v", v)
	}
	if _, v := read[int64](t, e, "_internal", key, "big"); len(v) != 1 || v[0] != 7 {
		t.Fatalf("httpd big (uint64 stored as integer): %v", v)
	}
	if _, v := read[float64](t, e, "_internal", key, "nan"); len(v) != 0 {
		t.Fatalf("NaN stored: %v", v)
	}
	if _, v := read[int64](t, e, "_internal", "runtime,hostname=testhost", "HeapAlloc"); len(v) != 1 || v[0] <= 0 {
		t.Fatalf("runtime HeapAlloc: %v", v)
	}

	// The next store sees _internal's own index and shard.
	now = now.Add(10 * time.Second)
	if err := m.Store(context.Background()); err != nil {
		t.Fatalf("second store: %v", err)
	}
	times, n := read[int64](t, e, "_internal", "database,database=_internal,hostname=testhost", "numSeries")
	if len(n) != 1 || n[0] < 2 || times[0] != t0.Add(10*time.Second).UnixNano() {
		t.Fatalf("database numSeries of _internal: times %v values %v", times, n)
	}
	if _, v := read[int64](t, e, "_internal", key, "req"); len(v) != 2 {
		t.Fatalf("httpd req after two stores: %v", v)
	}
}

// TestStoreExistingDatabase: a store database that exists is used as it
// is; without a "monitor" policy the writes fail, as in 1.x.
func TestStoreExistingDatabase(t *testing.T) {
	e := newEnv(t, func() time.Time { return t0 })
	if _, err := e.meta.CreateDatabase("mine"); err != nil {
		t.Fatal(err)
	}
	m := monitor.New(monitor.Config{StoreEnabled: true, StoreDatabase: "mine", StoreInterval: 10 * time.Second},
		e.meta, e.writer, monitor.Options{Now: func() time.Time { return t0 }})
	err := m.Store(context.Background())
	var rpe *models.RetentionPolicyNotFoundError
	if !errors.As(err, &rpe) {
		t.Fatalf("store into a database without a monitor policy: %v", err)
	}
	if di := e.meta.Database("mine"); di.RetentionPolicy("monitor") != nil {
		t.Fatalf("monitor policy created in an existing database")
	}
}

// recorder is a points writer that keeps what it is given.
type recorder struct {
	mu     sync.Mutex
	writes []recorded
}

type recorded struct {
	db, rp string
	times  []int64
	names  []string
}

func (r *recorder) WritePoints(_ context.Context, db, rp string, pts []models.Point) error {
	w := recorded{db: db, rp: rp}
	for _, p := range pts {
		w.times = append(w.times, p.Time)
		w.names = append(w.names, string(p.Measurement))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes = append(r.writes, w)
	return nil
}

func (r *recorder) snapshot() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.writes...)
}

// TestStoreLoop runs the loop on a fake clock: the first store waits for a
// multiple of the interval, then one follows every interval, each stamped
// with its tick; Close ends it.
func TestStoreLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, time.Now)
		rec := &recorder{}
		time.Sleep(3 * time.Second) // not on a multiple of 10 s
		m := monitor.New(monitor.Config{StoreEnabled: true, StoreDatabase: "_internal", StoreInterval: 10 * time.Second},
			e.meta, rec, monitor.Options{Hostname: "h"})
		if err := m.Open(); err != nil {
			t.Fatalf("open: %v", err)
		}
		if err := m.Open(); !errors.Is(err, monitor.ErrAlreadyOpen) {
			t.Fatalf("second open: %v", err)
		}
		time.Sleep(6 * time.Second) // 9 s
		synctest.Wait()
		if n := len(rec.snapshot()); n != 0 {
			t.Fatalf("%d writes before the first multiple of the interval", n)
		}
		time.Sleep(22 * time.Second) // 31 s: stores at 10, 20, 30
		synctest.Wait()
		writes := rec.snapshot()
		if len(writes) != 3 {
			t.Fatalf("%d writes after 31 s, want 3", len(writes))
		}
		start := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
		for i, w := range writes {
			want := start.Add(time.Duration(i+1) * 10 * time.Second).UnixNano()
			if w.db != "_internal" || w.rp != "monitor" || len(w.times) == 0 || w.times[0] != want {
				t.Fatalf("write %d: %s.%s at %v, want _internal.monitor at %d", i, w.db, w.rp, w.times, want)
			}
		}
		if err := m.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if n := len(rec.snapshot()); n != 3 {
			t.Fatalf("%d writes after Close, want 3", n)
		}
	})
}

func TestOpenConfig(t *testing.T) {
	rec := &recorder{}
	e := newEnv(t, time.Now)
	tests := []struct {
		cfg  monitor.Config
		m    monitor.MetaClient
		w    monitor.PointsWriter
		want error
	}{
		{monitor.Config{}, nil, nil, nil},
		{monitor.Config{StoreEnabled: true, StoreDatabase: "_internal"}, e.meta, rec, monitor.ErrInvalidStoreInterval},
		{monitor.Config{StoreEnabled: true, StoreInterval: time.Second}, e.meta, rec, monitor.ErrStoreDatabaseRequired},
		{monitor.Config{StoreEnabled: true, StoreDatabase: "_internal", StoreInterval: time.Second}, nil, nil, monitor.ErrNoPointsWriter},
	}
	for _, tc := range tests {
		m := monitor.New(tc.cfg, tc.m, tc.w, monitor.Options{})
		if err := m.Open(); !errors.Is(err, tc.want) {
			t.Fatalf("%+v: open: %v, want %v", tc.cfg, err, tc.want)
		}
		if err := m.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
	}
}
