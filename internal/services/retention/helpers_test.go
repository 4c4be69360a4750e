package retention_test

import (
	"context"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage"
	"github.com/stratadb/strata/internal/vfs"
)

// t0 is the tests' "now": noon, so that hourly groups line up on the hour.
var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// env is a real meta store and a real storage store in a temporary
// directory.
type env struct {
	dir   string
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
	return &env{dir: dir, meta: m, store: s}
}

// createDB creates db with a default policy rp lasting d, in 1-hour
// groups (d = 0: infinite).
func (e *env) createDB(t testing.TB, db, rp string, d time.Duration) {
	t.Helper()
	_, err := e.meta.CreateDatabaseWithRetentionPolicy(db, &meta.RetentionPolicySpec{
		Name: rp, Duration: &d, ShardGroupDuration: time.Hour,
	})
	if err != nil {
		t.Fatalf("create database %s: %v", db, err)
	}
}

// group creates (in meta and storage) the group of db.rp holding at and
// returns its id and its shard's id.
func (e *env) group(t testing.TB, db, rp string, at time.Time) (groupID, shardID uint64) {
	t.Helper()
	sg, err := e.meta.CreateShardGroupIfNotExists(db, rp, at)
	if err != nil {
		t.Fatalf("create shard group at %s: %v", at, err)
	}
	id := sg.Shards[0].ID
	if _, err := e.store.CreateShard(db, rp, id, e.shardExists(id)); err != nil {
		t.Fatalf("create shard %d: %v", id, err)
	}
	return sg.ID, id
}

func (e *env) shardExists(id uint64) func() bool {
	return func() bool {
		_, _, sg := e.meta.Data().ShardOwner(id)
		return sg != nil
	}
}

// writeShard writes n points of series cpu,host=h<k> at times from start,
// one second apart, straight into a shard.
func (e *env) writeShard(t testing.TB, id uint64, start time.Time, series, n int) {
	t.Helper()
	pts := make([]models.Point, 0, n)
	for s := range series {
		pts = pts[:0]
		host := []byte("h" + strconv.Itoa(s))
		for i := range n {
			pts = append(pts, point("cpu", host, float64(i), start.Add(time.Duration(i)*time.Second)))
		}
		if err := e.store.WriteToShard(context.Background(), id, pts); err != nil {
			t.Fatalf("write shard %d: %v", id, err)
		}
	}
}

func point(m string, host []byte, v float64, at time.Time) models.Point {
	return models.Point{
		Measurement: []byte(m),
		Tags:        []models.Tag{{Key: []byte("host"), Value: host}},
		Fields:      []models.Field{models.FloatField([]byte("value"), v)},
		Time:        at.UnixNano(),
	}
}

// groupInfo returns a group of db.rp by id, deleted or not, or nil.
func (e *env) groupInfo(t testing.TB, db, rp string, id uint64) *meta.ShardGroupInfo {
	t.Helper()
	rpi, err := e.meta.Data().RetentionPolicy(db, rp)
	if err != nil {
		t.Fatalf("retention policy %s.%s: %v", db, rp, err)
	}
	for i := range rpi.ShardGroups {
		if rpi.ShardGroups[i].ID == id {
			return &rpi.ShardGroups[i]
		}
	}
	return nil
}
