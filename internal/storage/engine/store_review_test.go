package engine_test

// Store-level review tests: dropping a database, a retention policy or a
// shard while writes and queries are in flight (1.x #4538) must not panic,
// must fail the in-flight writes cleanly and must never recreate what was
// dropped. They live here (an external test package of the engine) because
// the review may only add test files under internal/storage/engine.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage"
	"github.com/stratadb/strata/internal/storage/engine"
	"github.com/stratadb/strata/internal/storage/index"
	"github.com/stratadb/strata/internal/vfs"
)

func reviewPoints(host string, base int64, n int) []models.Point {
	pts := make([]models.Point, n)
	for i := range pts {
		pts[i] = models.Point{
			Measurement: []byte("cpu"),
			Tags:        []models.Tag{{Key: []byte("host"), Value: []byte(host)}},
			Fields:      []models.Field{models.FloatField([]byte("v"), float64(i))},
			Time:        base + int64(i),
		}
	}
	return pts
}

// expectedDropError reports whether err is one of the clean failures a
// write racing a drop may get.
func expectedDropError(err error) bool {
	return err == nil || errors.Is(err, storage.ErrShardNotFound) || errors.Is(err, engine.ErrShardClosed) ||
		errors.Is(err, index.ErrClosed) || errors.Is(err, storage.ErrStoreClosed)
}

func TestReviewDropWhileWriting(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, what := range []string{"database", "retention policy", "shard"} {
		t.Run(what, func(t *testing.T) { reviewDropWhileWriting(t, what) })
	}
}

func reviewDropWhileWriting(t *testing.T, what string) {
	dir := t.TempDir()
	dataDir, walDir := filepath.Join(dir, "data"), filepath.Join(dir, "wal")
	st, err := storage.Open(vfs.Default, dataDir, walDir, storage.Options{
		Engine: engine.Options{CacheSnapshotMemorySize: 32 << 10, CheckInterval: 2 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// meta: the shards that exist. The drop removes them from "meta" first,
	// as the coordinator does, then from the store.
	var inMeta [4]atomic.Bool
	for i := range inMeta {
		inMeta[i].Store(true)
	}
	shardRP := func(id uint64) string { return fmt.Sprintf("rp%d", id%2) }

	var wg sync.WaitGroup
	var acked, failed atomic.Int64
	stop := make(chan struct{})
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := uint64(1 + (w+i)%4)
				_, err := st.CreateShard("db", shardRP(id), id, func() bool { return inMeta[id-1].Load() })
				if err == nil {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					err = st.WriteToShard(ctx, id, reviewPoints(fmt.Sprintf("h%d_%d", w, i%50), int64(i)*100, 20))
					cancel()
				}
				if !expectedDropError(err) {
					t.Errorf("write to shard %d racing the drop: unexpected error %v", id, err)
					return
				}
				if err == nil {
					acked.Add(1)
				} else {
					failed.Add(1)
				}
			}
		}()
	}
	// Queries racing the drop.
	wg.Add(1)
	go func() {
		defer wg.Done()
		key := models.AppendSeriesKey(nil, []byte("cpu"), []models.Tag{{Key: []byte("host"), Value: []byte("h0_1")}})
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, sh := range st.Shards([]uint64{1, 2, 3, 4}) {
				id := sh.Index().SeriesID(key)
				if id == 0 {
					continue
				}
				c := engine.NewCursor[float64](sh, key, id, "v", models.MinNanoTime, models.MaxNanoTime, true)
				for {
					b, err := c.Next(false)
					if err != nil || b.Len() == 0 {
						break
					}
				}
				c.Close()
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)

	var victims []uint64
	var dropErr error
	switch what {
	case "database":
		victims = []uint64{1, 2, 3, 4}
		for _, id := range victims {
			inMeta[id-1].Store(false)
		}
		dropErr = st.DeleteDatabase("db")
	case "retention policy":
		victims = []uint64{2, 4} // rp0
		for _, id := range victims {
			inMeta[id-1].Store(false)
		}
		dropErr = st.DeleteRetentionPolicy("db", "rp0")
	case "shard":
		victims = []uint64{3}
		inMeta[2].Store(false)
		dropErr = st.DeleteShard(3)
	}
	if dropErr != nil {
		t.Errorf("drop %s: %v", what, dropErr)
	}
	time.Sleep(200 * time.Millisecond) // writes go on against the dropped shards
	close(stop)
	wg.Wait()
	if acked.Load() == 0 {
		t.Fatal("no write was acknowledged before the drop")
	}
	t.Logf("%d writes acknowledged, %d failed cleanly", acked.Load(), failed.Load())

	for _, id := range victims {
		if st.Shard(id) != nil {
			t.Errorf("dropped shard %d is open again", id)
		}
		for _, root := range []string{dataDir, walDir} {
			p := filepath.Join(root, "db", shardRP(id), fmt.Sprint(id))
			if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("dropped shard %d: %s exists again (%v)", id, p, err)
			}
		}
	}
	if what == "database" {
		if _, err := os.Stat(filepath.Join(dataDir, "db")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("dropped database directory exists again (%v)", err)
		}
		if st.Index("db") != nil {
			t.Errorf("dropped database's index is open again")
		}
	}
	// The shards that were not dropped still take writes and serve them
	// after a restart.
	for id := uint64(1); id <= 4; id++ {
		if !inMeta[id-1].Load() {
			continue
		}
		if err := st.WriteToShard(context.Background(), id, reviewPoints("after", 1e12, 5)); err != nil {
			t.Errorf("shard %d after the drop of another: %v", id, err)
		}
	}
	if err := st.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	st2, err := storage.Open(vfs.Default, dataDir, walDir, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	for id := uint64(1); id <= 4; id++ {
		if got, want := st2.Shard(id) != nil, inMeta[id-1].Load(); got != want {
			t.Errorf("after restart shard %d open=%v, want %v", id, got, want)
		}
	}
}
