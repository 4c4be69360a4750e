package precreator_test

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/services/precreator"
	"github.com/stratadb/strata/internal/storage"
	"github.com/stratadb/strata/internal/vfs"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

type env struct {
	meta  *meta.Store
	store *storage.Store
}

func newEnv(t testing.TB) *env {
	t.Helper()
	dir := t.TempDir()
	m, err := meta.Open(vfs.Default, filepath.Join(dir, "meta"), meta.Options{})
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
	d := 24 * time.Hour
	if _, err := m.CreateDatabaseWithRetentionPolicy("db", &meta.RetentionPolicySpec{
		Name: "rp", Duration: &d, ShardGroupDuration: time.Hour,
	}); err != nil {
		t.Fatalf("create database: %v", err)
	}
	return &env{meta: m, store: s}
}

// groups returns the live groups of db.rp, in time order.
func (e *env) groups(t testing.TB) []meta.ShardGroupInfo {
	t.Helper()
	gs, err := e.meta.ShardGroupsByTimeRange("db", "rp", time.Unix(0, 0), t0.Add(1000*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return gs
}

func newService(e *env, store precreator.ShardStore, now time.Time) *precreator.Service {
	return precreator.New(precreator.Config{Enabled: true, CheckInterval: 10 * time.Minute, AdvancePeriod: 30 * time.Minute},
		e.meta, store, precreator.Options{Now: func() time.Time { return now }})
}

// TestPrecreate: the group after the current one is created, in meta and
// in storage, once the current one ends within the advance period, and a
// write in the next window then finds it.
func TestPrecreate(t *testing.T) {
	e := newEnv(t)
	cur, err := e.meta.CreateShardGroupIfNotExists("db", "rp", t0) // [12:00, 13:00)
	if err != nil {
		t.Fatal(err)
	}

	// 12:10: the group ends 50 min later, beyond the 30 min advance period.
	// Only the current group's missing shard is created.
	res, err := newService(e, e.store, t0.Add(10*time.Minute)).Precreate()
	if err != nil || res != (precreator.Result{ShardsCreated: 1}) {
		t.Fatalf("12:10: %+v, %v; want the current shard only", res, err)
	}
	if n := len(e.groups(t)); n != 1 {
		t.Fatalf("12:10: %d groups, want 1", n)
	}
	if e.store.Shard(cur.Shards[0].ID) == nil {
		t.Fatalf("12:10: current group's shard not created")
	}

	// 12:40: [13:00, 14:00) is created, with its shard.
	svc := newService(e, e.store, t0.Add(40*time.Minute))
	res, err = svc.Precreate()
	if err != nil || res != (precreator.Result{GroupsCreated: 1, ShardsCreated: 1}) {
		t.Fatalf("12:40: %+v, %v; want one group and its shard", res, err)
	}
	gs := e.groups(t)
	if len(gs) != 2 || !gs[1].StartTime.Equal(t0.Add(time.Hour)) || !gs[1].EndTime.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("12:40: groups %+v, want a second one for [13:00, 14:00)", gs)
	}
	next := gs[1]
	if e.store.Shard(next.Shards[0].ID) == nil {
		t.Fatalf("12:40: shard %d of the new group not created", next.Shards[0].ID)
	}

	// Again: nothing to do, meta untouched.
	v := e.meta.Data().Version
	if res, err := svc.Precreate(); err != nil || res != (precreator.Result{}) {
		t.Fatalf("repeat: %+v, %v", res, err)
	}
	if e.meta.Data().Version != v {
		t.Fatalf("repeat changed meta")
	}

	// A write at 13:30 lands in the precreated group.
	sg, err := e.meta.CreateShardGroupIfNotExists("db", "rp", t0.Add(90*time.Minute))
	if err != nil || sg.ID != next.ID {
		t.Fatalf("write at 13:30: group %+v, %v; want the precreated %d", sg, err, next.ID)
	}
}

func TestPrecreateNothing(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, e *env)
	}{
		{"no group ever", func(*testing.T, *env) {}},
		{"latest group in the past", func(t *testing.T, e *env) {
			if _, err := e.meta.CreateShardGroupIfNotExists("db", "rp", t0.Add(-2*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}},
		{"latest group ends after the advance period", func(t *testing.T, e *env) {
			if _, err := e.meta.CreateShardGroupIfNotExists("db", "rp", t0.Add(2*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}},
		{"latest group deleted", func(t *testing.T, e *env) {
			sg, err := e.meta.CreateShardGroupIfNotExists("db", "rp", t0)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.meta.Apply(func(d *meta.Data) error { return d.DeleteShardGroupAt("db", "rp", sg.ID, t0) }); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tc.setup(t, e)
			before := len(e.groups(t))
			res, err := newService(e, e.store, t0.Add(40*time.Minute)).Precreate()
			if err != nil || res.GroupsCreated != 0 {
				t.Fatalf("%+v, %v; want no group", res, err)
			}
			if after := len(e.groups(t)); after != before {
				t.Fatalf("groups: %d → %d", before, after)
			}
			if ids := e.store.ShardIDs(); len(ids) != 0 {
				t.Fatalf("shards created: %v", ids)
			}
		})
	}
}

// dropFirst drops the database just before the first shard creation, as a
// DROP DATABASE racing the check would.
type dropFirst struct {
	*storage.Store
	meta *meta.Store
	once sync.Once
	err  error // of the drop
}

func (d *dropFirst) CreateShardIfNotExists(db, rp string, id uint64, stillWanted func() bool) error {
	d.once.Do(func() {
		d.err = d.meta.Apply(func(m *meta.Data) error { return m.DropDatabase(db) })
	})
	return d.Store.CreateShardIfNotExists(db, rp, id, stillWanted)
}

// TestPrecreateRacingDrop: a shard whose group vanished is not created,
// and that is not an error.
func TestPrecreateRacingDrop(t *testing.T) {
	e := newEnv(t)
	if _, err := e.meta.CreateShardGroupIfNotExists("db", "rp", t0); err != nil {
		t.Fatal(err)
	}
	store := &dropFirst{Store: e.store, meta: e.meta}
	res, err := newService(e, store, t0.Add(40*time.Minute)).Precreate()
	if err != nil || store.err != nil {
		t.Fatalf("precreate: %v (drop: %v)", err, store.err)
	}
	if res.ShardsCreated != 0 {
		t.Fatalf("%+v: shards created for a dropped database", res)
	}
	if ids := e.store.ShardIDs(); len(ids) != 0 {
		t.Fatalf("shards in storage: %v", ids)
	}
}

// TestServiceLoop runs the loop on a fake clock: the next group exists
// after the check that falls within the advance period.
func TestServiceLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		now := time.Now() // 2000-01-01 00:00 UTC in the bubble
		if _, err := e.meta.CreateShardGroupIfNotExists("db", "rp", now); err != nil {
			t.Fatal(err)
		}
		svc := precreator.New(precreator.Config{Enabled: true, CheckInterval: 10 * time.Minute, AdvancePeriod: 30 * time.Minute},
			e.meta, e.store, precreator.Options{})
		if err := svc.Open(); err != nil {
			t.Fatalf("open: %v", err)
		}
		if err := svc.Open(); !errors.Is(err, precreator.ErrAlreadyOpen) {
			t.Fatalf("second open: %v, want %v", err, precreator.ErrAlreadyOpen)
		}
		// Checks at 00:10, 00:20 see the group end (01:00) beyond 30 min;
		// the one at 00:40 precreates.
		time.Sleep(35 * time.Minute)
		synctest.Wait()
		if n := len(e.groups(t)); n != 1 {
			t.Fatalf("00:35: %d groups, want 1", n)
		}
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		gs := e.groups(t)
		if len(gs) != 2 || e.store.Shard(gs[1].Shards[0].ID) == nil {
			t.Fatalf("00:45: groups %+v, want the next one with its shard", gs)
		}
		if err := svc.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
	})
}

func TestOpenConfig(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		cfg  precreator.Config
		want error
	}{
		{precreator.Config{}, nil},
		{precreator.Config{Enabled: true, AdvancePeriod: time.Minute}, precreator.ErrInvalidCheckInterval},
		{precreator.Config{Enabled: true, CheckInterval: time.Minute}, precreator.ErrInvalidAdvancePeriod},
	}
	for _, tc := range tests {
		svc := precreator.New(tc.cfg, e.meta, e.store, precreator.Options{})
		if err := svc.Open(); !errors.Is(err, tc.want) {
			t.Fatalf("%+v: open: %v, want %v", tc.cfg, err, tc.want)
		}
		if err := svc.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
	}
}
