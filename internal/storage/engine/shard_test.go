package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/index"
	"github.com/stratadb/strata/internal/vfs"
)

// testShard is a shard with its database index, reopenable on the same
// directories.
type testShard struct {
	t    *testing.T
	dir  string
	fs   vfs.FS
	opts Options
	idx  *index.Index
	*Shard
}

func openTestShard(t *testing.T, fsys vfs.FS, dir string, opts Options) *testShard {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	if fsys == nil {
		fsys = vfs.Default
	}
	if opts.CheckInterval == 0 {
		opts.CheckInterval = time.Hour // background work only when a test asks
	}
	idx, err := index.Open(fsys, filepath.Join(dir, "_series"), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sh, err := OpenShard(fsys, 1, "db", "rp", filepath.Join(dir, "data"), filepath.Join(dir, "wal"), idx, opts)
	if err != nil {
		idx.Close()
		t.Fatal(err)
	}
	ts := &testShard{t: t, dir: dir, fs: fsys, opts: opts, idx: idx, Shard: sh}
	t.Cleanup(func() { ts.close() })
	return ts
}

func (ts *testShard) close() {
	if ts.Shard == nil {
		return
	}
	if err := ts.Shard.Close(); err != nil {
		ts.t.Errorf("close shard: %v", err)
	}
	if err := ts.idx.Close(); err != nil {
		ts.t.Errorf("close index: %v", err)
	}
	ts.Shard = nil
}

func (ts *testShard) reopen() *testShard {
	ts.t.Helper()
	ts.close()
	return openTestShard(ts.t, ts.fs, ts.dir, ts.opts)
}

func point(m string, tags map[string]string, field string, v models.Field, t int64) models.Point {
	p := models.Point{Measurement: []byte(m), Time: t}
	for k, val := range tags {
		p.Tags = append(p.Tags, models.Tag{Key: []byte(k), Value: []byte(val)})
	}
	sortTags(p.Tags)
	v.Key = []byte(field)
	p.Fields = []models.Field{v}
	return p
}

func sortTags(tags []models.Tag) {
	for i := 1; i < len(tags); i++ {
		for j := i; j > 0 && string(tags[j].Key) < string(tags[j-1].Key); j-- {
			tags[j], tags[j-1] = tags[j-1], tags[j]
		}
	}
}

func floatPoint(host string, v float64, t int64) models.Point {
	return point("cpu", map[string]string{"host": host}, "value", models.FloatField(nil, v), t)
}

// readFloats reads every value of cpu,host=<host> value in [min, max].
func (ts *testShard) readFloats(host string, min, max int64, asc bool) ([]int64, []float64) {
	ts.t.Helper()
	key := models.AppendSeriesKey(nil, []byte("cpu"), []models.Tag{{Key: []byte("host"), Value: []byte(host)}})
	id := ts.idx.SeriesID(key)
	if id == 0 {
		return nil, nil
	}
	c := NewCursor[float64](ts.Shard, key, id, "value", min, max, asc)
	defer c.Close()
	var times []int64
	var vals []float64
	for {
		b, err := c.Next(false)
		if err != nil {
			ts.t.Fatal(err)
		}
		if b.Len() == 0 {
			return times, vals
		}
		times = append(times, b.Times...)
		vals = append(vals, b.Values...)
	}
}

func (ts *testShard) write(points ...models.Point) {
	ts.t.Helper()
	if err := ts.WritePoints(context.Background(), points); err != nil {
		ts.t.Fatal(err)
	}
}

func checkSeries(t *testing.T, gotT []int64, gotV []float64, want map[int64]float64, asc bool) {
	t.Helper()
	if len(gotT) != len(want) {
		t.Fatalf("got %d values, want %d", len(gotT), len(want))
	}
	for i, tm := range gotT {
		if i > 0 && (asc && tm <= gotT[i-1] || !asc && tm >= gotT[i-1]) {
			t.Fatalf("times out of order at %d: %d after %d", i, tm, gotT[i-1])
		}
		if w, ok := want[tm]; !ok || w != gotV[i] {
			t.Fatalf("at t=%d got %v, want %v (present %v)", tm, gotV[i], w, ok)
		}
	}
}

func TestWriteReadCacheFilesAndRestart(t *testing.T) {
	ts := openTestShard(t, nil, "", Options{})
	want := map[int64]float64{}
	for i := range 2500 {
		ts.write(floatPoint("a", float64(i), int64(i)*10))
		want[int64(i)*10] = float64(i)
	}
	gt, gv := ts.readFloats("a", models.MinNanoTime, models.MaxNanoTime, true)
	checkSeries(t, gt, gv, want, true)

	// Half in a file, the rest (with overwrites) in the cache.
	if err := ts.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := 2000; i < 3000; i++ {
		ts.write(floatPoint("a", float64(-i), int64(i)*10))
		want[int64(i)*10] = float64(-i)
	}
	gt, gv = ts.readFloats("a", models.MinNanoTime, models.MaxNanoTime, true)
	checkSeries(t, gt, gv, want, true)
	gt, gv = ts.readFloats("a", models.MinNanoTime, models.MaxNanoTime, false)
	checkSeries(t, gt, gv, want, false)

	// A sub-range.
	gt, _ = ts.readFloats("a", 995, 20005, true)
	if len(gt) != 1901 || gt[0] != 1000 || gt[len(gt)-1] != 20000 {
		t.Fatalf("range read: %d values from %v to %v", len(gt), gt[0], gt[len(gt)-1])
	}

	// Restart: files plus WAL replay give the same answer.
	ts = ts.reopen()
	gt, gv = ts.readFloats("a", models.MinNanoTime, models.MaxNanoTime, true)
	checkSeries(t, gt, gv, want, true)
}

func TestFieldTypeConflictIsPartial(t *testing.T) {
	ts := openTestShard(t, nil, "", Options{})
	ts.write(floatPoint("a", 1, 1))
	err := ts.WritePoints(context.Background(), []models.Point{
		point("cpu", map[string]string{"host": "b"}, "value", models.StringField(nil, []byte("x")), 2),
		floatPoint("b", 2, 3),
	})
	var pe *models.PartialWriteError
	if !errors.As(err, &pe) || pe.Dropped != 1 {
		t.Fatalf("got %v, want a partial write dropping 1", err)
	}
	want := `partial write: field type conflict: input field "value" on measurement "cpu" is type string, already exists as type float dropped=1`
	if err.Error() != want {
		t.Fatalf("got %q\nwant %q", err.Error(), want)
	}
	gt, _ := ts.readFloats("b", models.MinNanoTime, models.MaxNanoTime, true)
	if len(gt) != 1 || gt[0] != 3 {
		t.Fatalf("the valid point was not written: %v", gt)
	}
}

func TestDeleteRangeEverywhereAndAfterRestart(t *testing.T) {
	ts := openTestShard(t, nil, "", Options{})
	want := map[int64]float64{}
	for i := range 100 {
		ts.write(floatPoint("a", float64(i), int64(i)))
		want[int64(i)] = float64(i)
		if i == 49 {
			if err := ts.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	key := models.AppendSeriesKey(nil, []byte("cpu"), []models.Tag{{Key: []byte("host"), Value: []byte("a")}})
	id := ts.idx.SeriesID(key)
	// Delete across the file and the cache.
	if err := ts.DeleteRange(context.Background(), []uint64{id}, 40, 59); err != nil {
		t.Fatal(err)
	}
	for i := int64(40); i <= 59; i++ {
		delete(want, i)
	}
	gt, gv := ts.readFloats("a", models.MinNanoTime, models.MaxNanoTime, true)
	checkSeries(t, gt, gv, want, true)

	ts = ts.reopen()
	gt, gv = ts.readFloats("a", models.MinNanoTime, models.MaxNanoTime, true)
	checkSeries(t, gt, gv, want, true)

	// Compaction removes the tombstoned data for good.
	if err := ts.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := ts.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	gt, gv = ts.readFloats("a", models.MinNanoTime, models.MaxNanoTime, true)
	checkSeries(t, gt, gv, want, true)
	ts = ts.reopen()
	gt, gv = ts.readFloats("a", models.MinNanoTime, models.MaxNanoTime, true)
	checkSeries(t, gt, gv, want, true)
}

func TestCompactionNewestWins(t *testing.T) {
	ts := openTestShard(t, nil, "", Options{})
	want := map[int64]float64{}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 6 {
		for range 300 {
			tm := rng.Int64N(2000)
			v := float64(round*10000) + float64(tm)
			ts.write(floatPoint("a", v, tm))
			want[tm] = v
		}
		if err := ts.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	ts.maybeCompact() // 6 level-1 files: a level compaction
	ts.mu.RLock()
	nfiles := len(ts.mu.files)
	ts.mu.RUnlock()
	if nfiles >= 6 {
		t.Fatalf("level compaction did not run: %d files", nfiles)
	}
	gt, gv := ts.readFloats("a", models.MinNanoTime, models.MaxNanoTime, true)
	checkSeries(t, gt, gv, want, true)
	if err := ts.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts = ts.reopen()
	ts.mu.RLock()
	nfiles = len(ts.mu.files)
	ts.mu.RUnlock()
	if nfiles != 1 {
		t.Fatalf("after full compaction and restart: %d files", nfiles)
	}
	gt, gv = ts.readFloats("a", models.MinNanoTime, models.MaxNanoTime, true)
	checkSeries(t, gt, gv, want, true)
}

func TestConcurrentWritesSnapshotsAndReads(t *testing.T) {
	ts := openTestShard(t, nil, "", Options{CacheSnapshotMemorySize: 16 << 10, CheckInterval: 5 * time.Millisecond})
	const writers, perWriter = 4, 400
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			host := fmt.Sprintf("h%d", w)
			for i := range perWriter {
				if err := ts.WritePoints(context.Background(), []models.Point{floatPoint(host, float64(i), int64(i))}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	stop := make(chan struct{})
	var rg sync.WaitGroup
	rg.Add(1)
	go func() {
		defer rg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				ts.readFloats("h0", models.MinNanoTime, models.MaxNanoTime, true)
			}
		}
	}()
	wg.Wait()
	close(stop)
	rg.Wait()
	for w := range writers {
		gt, _ := ts.readFloats(fmt.Sprintf("h%d", w), models.MinNanoTime, models.MaxNanoTime, true)
		if len(gt) != perWriter {
			t.Fatalf("writer %d: %d values, want %d", w, len(gt), perWriter)
		}
	}
	if ts.stats.snapshots.Load() == 0 {
		t.Fatal("no snapshot was taken")
	}
	ts = ts.reopen()
	for w := range writers {
		gt, _ := ts.readFloats(fmt.Sprintf("h%d", w), models.MinNanoTime, models.MaxNanoTime, true)
		if len(gt) != perWriter {
			t.Fatalf("after restart writer %d: %d values, want %d", w, len(gt), perWriter)
		}
	}
}

func TestFailedWALSyncIsAnErrorAndLosesNothingAcknowledged(t *testing.T) {
	efs := vfs.NewErrorFS(vfs.Default, nil)
	ts := openTestShard(t, efs, "", Options{})
	acked := map[int64]float64{}
	for i := range 200 {
		fail := i%7 == 3
		if fail {
			efs.SetInjector(func(op vfs.Op, path string) error {
				if op == vfs.OpSync && filepath.Ext(path) == ".wal" {
					return vfs.ErrInjected
				}
				return nil
			})
		}
		err := ts.WritePoints(context.Background(), []models.Point{floatPoint("a", float64(i), int64(i))})
		efs.SetInjector(nil)
		if fail {
			if err == nil {
				t.Fatalf("write %d: failed fsync was acknowledged", i)
			}
			continue
		}
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		acked[int64(i)] = float64(i)
	}
	ts = ts.reopen()
	gt, gv := ts.readFloats("a", models.MinNanoTime, models.MaxNanoTime, true)
	got := map[int64]float64{}
	for i, tm := range gt {
		got[tm] = gv[i]
	}
	for tm, v := range acked {
		if got[tm] != v {
			t.Fatalf("acknowledged point t=%d lost after restart", tm)
		}
	}
}

func TestBackPressureTimesOut(t *testing.T) {
	efs := vfs.NewErrorFS(vfs.Default, nil)
	ts := openTestShard(t, efs, "", Options{CacheMaxMemorySize: 1024, CacheSnapshotMemorySize: 1 << 30})
	// Snapshots cannot be written: the data file cannot be created.
	efs.SetInjector(func(op vfs.Op, path string) error {
		if op == vfs.OpOpen && filepath.Ext(path) == ".tmp" {
			return vfs.ErrInjected
		}
		return nil
	})
	var pts []models.Point
	for i := range 100 {
		pts = append(pts, floatPoint("a", 1, int64(i)))
	}
	ts.write(pts...) // fills the cache past its bound
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := ts.WritePoints(ctx, []models.Point{floatPoint("a", 1, 1000)})
	var cf *CacheFullError
	if !errors.As(err, &cf) {
		t.Fatalf("got %v, want a cache-full error", err)
	}
	// Once snapshots work again, the writer gets through.
	efs.SetInjector(nil)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if err := ts.WritePoints(ctx2, []models.Point{floatPoint("a", 1, 1001)}); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}
