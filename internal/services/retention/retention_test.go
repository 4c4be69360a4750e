package retention_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stratadb/strata/internal/services/retention"
)

// TestDeletionCheck walks one policy through expiry, shard deletion and
// pruning, checking meta and the files on disk at each step.
func TestDeletionCheck(t *testing.T) {
	e := newEnv(t)
	e.createDB(t, "db", "rp", time.Hour)
	clk := newClock(t0)

	// Hourly groups 09:00 … 12:00. With a 1 h policy at 12:00, a group
	// expires once its end + 1 h is before now: only [09:00, 10:00).
	type grp struct{ gid, sid uint64 }
	var groups []grp
	for h := 9; h <= 12; h++ {
		gid, sid := e.group(t, "db", "rp", t0.Add(time.Duration(h-12)*time.Hour))
		groups = append(groups, grp{gid, sid})
	}
	e.writeShard(t, groups[0].sid, t0.Add(-3*time.Hour), 2, 10)
	oldDir := filepath.Join(e.dir, "data", "db", "rp", strconv.FormatUint(groups[0].sid, 10))
	if _, err := os.Stat(oldDir); err != nil {
		t.Fatalf("shard directory before the check: %v", err)
	}

	svc := retention.New(retention.Config{Enabled: true, CheckInterval: time.Minute}, e.meta, e.store,
		retention.Options{Now: clk.Now})

	res, err := svc.DeletionCheck()
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if want := (retention.Result{GroupsDeleted: 1, ShardsDeleted: 1}); res != want {
		t.Fatalf("first check: got %+v, want %+v", res, want)
	}
	g := e.groupInfo(t, "db", "rp", groups[0].gid)
	if g == nil || !g.Deleted() || !g.DeletedAt.Equal(t0) || len(g.Shards) != 0 {
		t.Fatalf("expired group after the check: %+v (want deleted at %s, no shards)", g, t0)
	}
	if e.store.Shard(groups[0].sid) != nil {
		t.Fatalf("shard %d still open in storage", groups[0].sid)
	}
	if _, err := os.Stat(oldDir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("shard directory after the check: err = %v, want not exist", err)
	}
	for _, g := range groups[1:] {
		if gi := e.groupInfo(t, "db", "rp", g.gid); gi == nil || gi.Deleted() {
			t.Fatalf("group %d should be live: %+v", g.gid, gi)
		}
		if e.store.Shard(g.sid) == nil {
			t.Fatalf("shard %d of a live group was deleted", g.sid)
		}
	}

	// A second check at the same time has nothing to do, and does not
	// even touch meta.
	v := e.meta.Data().Version
	if res, err := svc.DeletionCheck(); err != nil || res != (retention.Result{}) {
		t.Fatalf("idle check: %+v, %v", res, err)
	}
	if got := e.meta.Data().Version; got != v {
		t.Fatalf("idle check changed meta: version %d → %d", v, got)
	}

	// One day later the deleted group is still listed (1.x keeps deleted
	// groups two weeks); every other group has expired.
	clk.Set(t0.Add(24 * time.Hour))
	res, err = svc.DeletionCheck()
	if err != nil {
		t.Fatalf("check +1d: %v", err)
	}
	if want := (retention.Result{GroupsDeleted: 3, ShardsDeleted: 3}); res != want {
		t.Fatalf("check +1d: got %+v, want %+v", res, want)
	}
	if e.groupInfo(t, "db", "rp", groups[0].gid) == nil {
		t.Fatalf("deleted group pruned after a day; 1.x keeps it two weeks")
	}
	if ids := e.store.ShardIDs(); len(ids) != 0 {
		t.Fatalf("shards left in storage: %v", ids)
	}

	// Past two weeks the first group is forgotten; the others follow a day
	// later.
	clk.Set(t0.Add(retention.DefaultPruneAfter + time.Minute))
	if res, err := svc.DeletionCheck(); err != nil || res != (retention.Result{GroupsPruned: 1}) {
		t.Fatalf("check +14d: %+v, %v (want 1 pruned)", res, err)
	}
	if e.groupInfo(t, "db", "rp", groups[0].gid) != nil {
		t.Fatalf("group deleted two weeks ago still listed")
	}
	clk.Set(t0.Add(retention.DefaultPruneAfter + 25*time.Hour))
	if res, err := svc.DeletionCheck(); err != nil || res != (retention.Result{GroupsPruned: 3}) {
		t.Fatalf("check +15d: %+v, %v (want 3 pruned)", res, err)
	}
}

// TestDeletionCheckKeeps lists what a check must never touch.
func TestDeletionCheckKeeps(t *testing.T) {
	tests := []struct {
		name     string
		duration time.Duration
		at       time.Time // the group's time
	}{
		{"infinite policy, ancient group", 0, time.Date(1971, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"group ending exactly duration ago", time.Hour, t0.Add(-2 * time.Hour)},
		{"current group", time.Hour, t0},
		{"future group", time.Hour, t0.Add(48 * time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.createDB(t, "db", "rp", tc.duration)
			gid, sid := e.group(t, "db", "rp", tc.at)
			svc := retention.New(retention.Config{Enabled: true, CheckInterval: time.Minute}, e.meta, e.store,
				retention.Options{Now: newClock(t0).Now})
			res, err := svc.DeletionCheck()
			if err != nil || res != (retention.Result{}) {
				t.Fatalf("check: %+v, %v; want nothing done", res, err)
			}
			if g := e.groupInfo(t, "db", "rp", gid); g == nil || g.Deleted() {
				t.Fatalf("group deleted: %+v", g)
			}
			if e.store.Shard(sid) == nil {
				t.Fatalf("shard %d deleted", sid)
			}
		})
	}
}

var errBoom = errors.New("boom")

// flakyStore fails DeleteShard for the ids in fail.
type flakyStore struct {
	retention.ShardStore
	mu   sync.Mutex
	fail map[uint64]bool
}

func (f *flakyStore) DeleteShard(id uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail[id] {
		return errBoom
	}
	return f.ShardStore.DeleteShard(id)
}

// TestDeletionCheckRetries: a shard whose files cannot be removed keeps
// its reference in meta, and the next check removes it.
func TestDeletionCheckRetries(t *testing.T) {
	e := newEnv(t)
	e.createDB(t, "db", "rp", time.Hour)
	gid, sid := e.group(t, "db", "rp", t0.Add(-5*time.Hour))
	flaky := &flakyStore{ShardStore: e.store, fail: map[uint64]bool{sid: true}}
	svc := retention.New(retention.Config{Enabled: true, CheckInterval: time.Minute}, e.meta, flaky,
		retention.Options{Now: newClock(t0).Now})

	res, err := svc.DeletionCheck()
	if !errors.Is(err, errBoom) {
		t.Fatalf("check with a failing delete: err = %v, want %v", err, errBoom)
	}
	if res != (retention.Result{GroupsDeleted: 1}) {
		t.Fatalf("check with a failing delete: %+v", res)
	}
	if g := e.groupInfo(t, "db", "rp", gid); !g.Deleted() || len(g.Shards) != 1 {
		t.Fatalf("group after a failed shard delete: %+v (want deleted, shard kept)", g)
	}

	flaky.mu.Lock()
	flaky.fail = nil
	flaky.mu.Unlock()
	res, err = svc.DeletionCheck()
	if err != nil || res != (retention.Result{ShardsDeleted: 1}) {
		t.Fatalf("retry: %+v, %v", res, err)
	}
	if g := e.groupInfo(t, "db", "rp", gid); len(g.Shards) != 0 {
		t.Fatalf("shard reference kept after the retry: %+v", g)
	}
	if e.store.Shard(sid) != nil {
		t.Fatalf("shard %d still in storage", sid)
	}
}

// TestDeletionCheckOrphansAndPhantoms: a local shard meta does not list is
// removed; a deleted group's shard that is not local loses its reference.
func TestDeletionCheckOrphansAndPhantoms(t *testing.T) {
	e := newEnv(t)
	e.createDB(t, "db", "rp", time.Hour)
	const orphan = 999
	if _, err := e.store.CreateShard("db", "rp", orphan, nil); err != nil {
		t.Fatalf("create orphan shard: %v", err)
	}
	sg, err := e.meta.CreateShardGroupIfNotExists("db", "rp", t0.Add(-5*time.Hour)) // never created locally
	if err != nil {
		t.Fatal(err)
	}
	svc := retention.New(retention.Config{Enabled: true, CheckInterval: time.Minute}, e.meta, e.store,
		retention.Options{Now: newClock(t0).Now})
	res, err := svc.DeletionCheck()
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if want := (retention.Result{GroupsDeleted: 1, ShardsDeleted: 1}); res != want {
		t.Fatalf("got %+v, want %+v", res, want)
	}
	if e.store.Shard(orphan) != nil {
		t.Fatalf("orphan shard kept")
	}
	if g := e.groupInfo(t, "db", "rp", sg.ID); !g.Deleted() || len(g.Shards) != 0 {
		t.Fatalf("phantom shard still referenced: %+v", g)
	}
}

// TestServiceLoop runs the real loop on a fake clock: nothing happens
// before the first interval, the expired group goes at the first tick,
// and Close stops the loop.
func TestServiceLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.createDB(t, "db", "rp", time.Hour)
		now := time.Now()
		gid, sid := e.group(t, "db", "rp", now.Add(-3*time.Hour))

		svc := retention.New(retention.Config{Enabled: true, CheckInterval: 30 * time.Minute}, e.meta, e.store,
			retention.Options{})
		if err := svc.Open(); err != nil {
			t.Fatalf("open: %v", err)
		}
		if err := svc.Open(); !errors.Is(err, retention.ErrAlreadyOpen) {
			t.Fatalf("second open: %v, want %v", err, retention.ErrAlreadyOpen)
		}
		time.Sleep(29 * time.Minute)
		synctest.Wait()
		if g := e.groupInfo(t, "db", "rp", gid); g.Deleted() {
			t.Fatalf("group deleted before the first interval")
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if g := e.groupInfo(t, "db", "rp", gid); !g.Deleted() {
			t.Fatalf("group not deleted after the first interval")
		}
		if e.store.Shard(sid) != nil {
			t.Fatalf("shard not deleted after the first interval")
		}
		if err := svc.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		if err := svc.Close(); err != nil {
			t.Fatalf("second close: %v", err)
		}
	})
}

func TestOpenConfig(t *testing.T) {
	e := newEnv(t)
	off := retention.New(retention.Config{Enabled: false}, e.meta, e.store, retention.Options{})
	if err := off.Open(); err != nil {
		t.Fatalf("disabled service: open: %v", err)
	}
	if err := off.Close(); err != nil {
		t.Fatalf("disabled service: close: %v", err)
	}
	bad := retention.New(retention.Config{Enabled: true}, e.meta, e.store, retention.Options{})
	if err := bad.Open(); !errors.Is(err, retention.ErrInvalidCheckInterval) {
		t.Fatalf("zero interval: open: %v, want %v", err, retention.ErrInvalidCheckInterval)
	}
}
