package storage_test

// Memory per series and start-up time at a million series (see
// store_bench_test.go for how to run them).

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage"
	"github.com/stratadb/strata/internal/storage/engine"
	"github.com/stratadb/strata/internal/storage/index"
	"github.com/stratadb/strata/internal/storage/tsm"
	"github.com/stratadb/strata/internal/vfs"
)

// procStatus returns fields of /proc/self/status in bytes.
func procStatus(tb testing.TB) map[string]int64 {
	tb.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Skipf("no /proc/self/status: %v", err)
	}
	out := map[string]int64{}
	for _, line := range bytes.Split(data, []byte("\n")) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		f := strings.Fields(string(v))
		if len(f) == 2 && f[1] == "kB" {
			n, _ := strconv.ParseInt(f[0], 10, 64)
			out[string(k)] = n << 10
		}
	}
	return out
}

type memSample struct {
	rss, anon, file, heapInuse, heapAlloc int64
}

func sampleMem(tb testing.TB) memSample {
	runtime.GC()
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st := procStatus(tb)
	return memSample{rss: st["VmRSS"], anon: st["RssAnon"], file: st["RssFile"], heapInuse: int64(ms.HeapInuse), heapAlloc: int64(ms.HeapAlloc)}
}

func (a memSample) minus(b memSample) memSample {
	return memSample{a.rss - b.rss, a.anon - b.anon, a.file - b.file, a.heapInuse - b.heapInuse, a.heapAlloc - b.heapAlloc}
}

func (a memSample) per(n int64) string {
	f := func(x int64) float64 { return float64(x) / float64(n) }
	return fmt.Sprintf("RSS %.0f (anon %.0f, file %.0f), HeapInuse %.0f, HeapAlloc %.0f bytes/series",
		f(a.rss), f(a.anon), f(a.file), f(a.heapInuse), f(a.heapAlloc))
}

// BenchmarkMemoryPerSeries writes one point (10 fields) to each of a
// million TSBS series, snapshots the cache, and reports the growth of RSS
// and of the Go heap per series; index-only creates the same series in a
// bare index, to split the total into index and shard.
func BenchmarkMemoryPerSeries(b *testing.B) {
	series := benchEnvInt("STRATA_BENCH_SERIES", 1_000_000)
	b.Run("store", func(b *testing.B) {
		for range b.N {
			benchMemoryStore(b, series)
		}
	})
	b.Run("index-only", func(b *testing.B) {
		for range b.N {
			benchMemoryIndex(b, series)
		}
	})
}

func benchMemoryStore(b *testing.B, series int64) {
	dir := b.TempDir()
	m0 := sampleMem(b)
	st, sh := openBenchStore(b, dir, engine.Options{})
	g := newTSBSGen(int(series), false)
	n, took := writeDataset(b, st, g, 1)
	g = nil
	m1 := sampleMem(b)
	if err := sh.Flush(); err != nil {
		b.Fatal(err)
	}
	m2 := sampleMem(b)
	runtime.KeepAlive(st)
	b.ReportMetric(float64(m2.rss-m0.rss)/float64(n), "RSS-B/series")
	b.ReportMetric(float64(m2.anon-m0.anon)/float64(n), "RssAnon-B/series")
	b.ReportMetric(float64(m2.heapInuse-m0.heapInuse)/float64(n), "HeapInuse-B/series")
	b.Logf("%d series written in %v (%.0f points/s)", n, took.Round(time.Millisecond), float64(n)/took.Seconds())
	b.Logf("after the writes (cache partly full): %s", m1.minus(m0).per(n))
	b.Logf("after the snapshot (cache empty):     %s", m2.minus(m0).per(n))
	b.Logf("the cache's share before the snapshot: %s", m1.minus(m2).per(n))
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
}

func benchMemoryIndex(b *testing.B, series int64) {
	dir := b.TempDir()
	m0 := sampleMem(b)
	idx, err := index.Open(vfs.Default, filepath.Join(dir, "_series"), index.Options{})
	if err != nil {
		b.Fatal(err)
	}
	g := newTSBSGen(int(series), false)
	var specs []index.SeriesSpec
	var keys []byte
	for {
		pts := g.batch(benchBatch, 1)
		if len(pts) == 0 {
			break
		}
		specs, keys = specs[:0], keys[:0]
		ends := make([]int, 0, len(pts))
		for i := range pts {
			keys = models.AppendSeriesKey(keys, pts[i].Measurement, pts[i].Tags)
			ends = append(ends, len(keys))
		}
		from := 0
		for i := range pts {
			specs = append(specs, index.SeriesSpec{Key: keys[from:ends[i]], Measurement: pts[i].Measurement, Tags: pts[i].Tags})
			from = ends[i]
		}
		if err := idx.CreateSeries(specs); err != nil {
			b.Fatal(err)
		}
	}
	g, specs, keys = nil, nil, nil
	m1 := sampleMem(b)
	runtime.KeepAlive(idx)
	b.ReportMetric(float64(m1.rss-m0.rss)/float64(series), "RSS-B/series")
	b.ReportMetric(float64(m1.heapInuse-m0.heapInuse)/float64(series), "HeapInuse-B/series")
	b.Logf("index only: %s", m1.minus(m0).per(series))
	if err := idx.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkStartup builds a store with a million series (STRATA_BENCH_SERIES)
// and STRATA_BENCH_STARTUP_POINTS points per series on disk, compacted, plus
// a WAL of unsnapshotted writes, closes it, and times opening it again until
// the first successful write and the first successful read.
func BenchmarkStartup(b *testing.B) {
	series := benchEnvInt("STRATA_BENCH_SERIES", 1_000_000)
	perSeries := benchEnvInt("STRATA_BENCH_STARTUP_POINTS", 10)
	dir := b.TempDir()
	// A lower cache bound than the default keeps the build's memory in
	// check (writers wait for snapshots: a million series with one or two
	// points each is mostly per-series overhead); the timed reopen uses
	// the defaults.
	st, sh := openBenchStore(b, dir, engine.Options{CacheMaxMemorySize: 64 << 20})
	// Host by host: each snapshot then holds every point of its series, so
	// the level-1 files are not mostly index (in TSBS order a snapshot of a
	// million series holds 1-2 points per key, ~190 bytes per value). The
	// compacted result is the same.
	g := newTSBSGen(int(series), true)
	g.seriesMajor = true
	n, took := writeDataset(b, st, g, perSeries)
	if err := sh.Flush(); err != nil {
		b.Fatal(err)
	}
	cstart := time.Now()
	compactFully(b, sh)
	ctook := time.Since(cstart)
	// Writes that stay in the WAL (less than a snapshot's worth), in TSBS
	// order: the next epoch of the first hosts.
	tail := newTSBSGen(int(series), false)
	tail.epoch = perSeries
	var walPoints int64
	for walPoints < min(150_000, series) {
		pts := tail.batch(benchBatch, perSeries+1)
		if len(pts) == 0 {
			break
		}
		if err := st.WriteToShard(context.Background(), benchShard, pts); err != nil {
			b.Fatal(err)
		}
		walPoints += int64(len(pts))
	}
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	sizes := dirSize(b, dir)
	var disk int64
	for _, v := range sizes {
		disk += v
	}
	b.Logf("built %d series x %d points = %d points (+%d in the WAL) in %v, compacted in %v; %d bytes on disk",
		series, perSeries, n, walPoints, took.Round(time.Millisecond), ctook.Round(time.Millisecond), disk)
	// Where the time goes: the series index alone, the data files alone
	// (page cache warm: they were just written).
	t0 := time.Now()
	idx, err := index.Open(vfs.Default, filepath.Join(dir, "data", benchDB, "_series"), index.Options{})
	if err != nil {
		b.Fatal(err)
	}
	idxOpen := time.Since(t0)
	if err := idx.Close(); err != nil {
		b.Fatal(err)
	}
	shardDir := filepath.Join(dir, "data", benchDB, benchRP, strconv.Itoa(benchShard))
	es, err := os.ReadDir(shardDir)
	if err != nil {
		b.Fatal(err)
	}
	t0 = time.Now()
	var tsmBytes int64
	for _, e := range es {
		if !strings.HasSuffix(e.Name(), ".tsm") {
			continue
		}
		r, err := tsm.Open(vfs.Default, filepath.Join(shardDir, e.Name()))
		if err != nil {
			b.Fatal(err)
		}
		tsmBytes += r.Size()
		r.Close()
	}
	tsmOpen := time.Since(t0)
	b.Logf("alone: series index open %v; data files (%d bytes) open %v; WAL %d bytes",
		idxOpen.Round(time.Millisecond), tsmBytes, tsmOpen.Round(time.Millisecond), sizesUnder(dir, "wal"))
	key := models.AppendSeriesKey(nil, []byte("cpu"), newTSBSGen(1, false).batch(1, 1)[0].Tags)
	one := newTSBSGen(1, false).batch(1, 1)
	one[0].Time = 1 << 62
	b.ResetTimer()
	for range b.N {
		runtime.GC()
		start := time.Now()
		st, err := storage.Open(vfs.Default, filepath.Join(dir, "data"), filepath.Join(dir, "wal"), storage.Options{})
		if err != nil {
			b.Fatal(err)
		}
		opened := time.Since(start)
		if err := st.WriteToShard(context.Background(), benchShard, one); err != nil {
			b.Fatal(err)
		}
		wrote := time.Since(start)
		sh := st.Shard(benchShard)
		id := sh.Index().SeriesID(key)
		c := engine.NewCursor[int64](sh, key, id, "usage_user", models.MinNanoTime, models.MaxNanoTime, true)
		got := 0
		for {
			bt, err := c.Next(false)
			if err != nil {
				b.Fatal(err)
			}
			if bt.Len() == 0 {
				break
			}
			got += bt.Len()
		}
		c.Close()
		read := time.Since(start)
		if got != int(perSeries)+1 && got != int(perSeries)+2 {
			b.Fatalf("read %d values of host_0, want %d", got, perSeries+1)
		}
		b.StopTimer()
		b.ReportMetric(float64(opened.Milliseconds()), "open-ms")
		b.ReportMetric(float64(wrote.Milliseconds()), "first-write-ms")
		b.ReportMetric(float64(read.Milliseconds()), "first-read-ms")
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
