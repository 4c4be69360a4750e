package index_test

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/storage/index"
	"github.com/stratadb/strata/internal/vfs"
)

// createTSBS creates TSBS cpu series [from, to) in batches of 10,000 (one
// fsync each) and returns the total length of their keys.
func createTSBS(tb testing.TB, ix *index.Index, from, to int) int {
	tb.Helper()
	total := 0
	specs := make([]index.SeriesSpec, 0, 10000)
	for i := from; i < to; {
		specs = specs[:0]
		for ; i < to && len(specs) < cap(specs); i++ {
			s := tsbsSpec(i)
			total += len(s.Key)
			specs = append(specs, s)
		}
		if err := ix.CreateSeries(specs); err != nil {
			tb.Fatal(err)
		}
		for j := range specs {
			if specs[j].Err != nil {
				tb.Fatal(specs[j].Err)
			}
		}
	}
	return total
}

func BenchmarkSeriesID(b *testing.B) {
	ix := openIndex(b, b.TempDir(), index.Options{})
	const n = 100_000
	total := createTSBS(b, ix, 0, n)
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = tsbsSpec(i).Key
	}
	b.SetBytes(int64(total / n))
	b.ReportAllocs()
	b.ResetTimer()
	c := startCPU()
	for i := 0; i < b.N; i++ {
		if ix.SeriesID(keys[i%n]) == 0 {
			b.Fatal("miss")
		}
	}
	c.report(b, b.N)
}

func BenchmarkSeriesIDParallel(b *testing.B) {
	ix := openIndex(b, b.TempDir(), index.Options{})
	const n = 100_000
	total := createTSBS(b, ix, 0, n)
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = tsbsSpec(i).Key
	}
	b.SetBytes(int64(total / n))
	b.ReportAllocs()
	b.ResetTimer()
	c := startCPU()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if ix.SeriesID(keys[i%n]) == 0 {
				b.Fatal("miss")
			}
			i += 7
		}
	})
	c.report(b, b.N)
}

func BenchmarkSeriesIDMiss(b *testing.B) {
	ix := openIndex(b, b.TempDir(), index.Options{})
	createTSBS(b, ix, 0, 100_000)
	key := tsbsSpec(1 << 30).Key
	b.ReportAllocs()
	c, n := startCPU(), 0
	for b.Loop() {
		if ix.SeriesID(key) != 0 {
			b.Fatal("hit")
		}
		n++
	}
	c.report(b, n)
}

// BenchmarkCreateSeries creates new TSBS series in batches of 1,000; one
// op is one series, including its share of the batch's fsync.
func BenchmarkCreateSeries(b *testing.B) {
	ix := openIndex(b, b.TempDir(), index.Options{SnapshotBytes: -1})
	specs := make([]index.SeriesSpec, 0, 1000)
	b.ReportAllocs()
	b.ResetTimer()
	var cpu time.Duration
	for i := 0; i < b.N; {
		b.StopTimer()
		specs = specs[:0]
		for ; i < b.N && len(specs) < cap(specs); i++ {
			specs = append(specs, tsbsSpec(i))
		}
		b.StartTimer()
		c := cpuNow()
		if err := ix.CreateSeries(specs); err != nil {
			b.Fatal(err)
		}
		cpu += cpuNow() - c
	}
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
}

// cpuClock measures the CPU time of the process: the machine the
// benchmarks run on is shared, so wall-clock ns/op includes time spent
// waiting for a core; cpu-ns/op does not.
type cpuClock time.Duration

func startCPU() cpuClock { return cpuClock(cpuNow()) }

func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// report adds cpu-ns per op (n ops) to b's results.
func (c cpuClock) report(b *testing.B, n int) {
	b.ReportMetric(float64(cpuNow()-time.Duration(c))/float64(n), "cpu-ns/op")
}

func rss(tb testing.TB) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		tb.Skip("no /proc/self/statm")
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// BenchmarkMillion measures the index at one million TSBS cpu series: the
// memory it takes (heap, and RSS growth of the process), lookups, matches,
// tag values and Open. It needs about a minute; -short skips it.
func BenchmarkMillion(b *testing.B) {
	if testing.Short() {
		b.Skip("1M series: not in -short")
	}
	const n = 1_000_000
	dir := b.TempDir()
	var ix *index.Index
	built := false
	var mem [3]float64 // heap, RSS and scavenged RSS growth per series
	build := func(b *testing.B) {
		if built {
			return
		}
		built = true
		debug.FreeOSMemory()
		heap0, rss0 := heapInUse(), rss(b)
		var err error
		ix, err = index.Open(vfs.OS{}, dir, index.Options{SnapshotBytes: -1})
		if err != nil {
			b.Fatal(err)
		}
		createTSBS(b, ix, 0, n)
		heap1, rss1 := heapInUse(), rss(b)
		debug.FreeOSMemory()
		rss2 := rss(b)
		mem = [3]float64{float64(heap1-heap0) / n, float64(rss1-rss0) / n, float64(rss2-rss0) / n}
	}
	b.Cleanup(func() {
		if ix != nil {
			ix.Close()
		}
	})

	b.Run("Build", func(b *testing.B) {
		build(b)
		b.ReportMetric(mem[0], "heap-B/series")
		b.ReportMetric(mem[1], "rss-B/series")
		b.ReportMetric(mem[2], "rss-scavenged-B/series")
	})
	b.Run("SeriesID", func(b *testing.B) {
		build(b)
		keys := make([][]byte, 4096)
		for i := range keys {
			keys[i] = tsbsSpec(i * 241).Key
		}
		b.ReportAllocs()
		b.ResetTimer()
		c := startCPU()
		for i := 0; i < b.N; i++ {
			if ix.SeriesID(keys[i%len(keys)]) == 0 {
				b.Fatal("miss")
			}
		}
		c.report(b, b.N)
	})
	b.Run("SeriesKey", func(b *testing.B) {
		build(b)
		b.ReportAllocs()
		var buf []byte
		c := startCPU()
		for i := 0; i < b.N; i++ {
			buf, _ = ix.AppendSeriesKey(buf[:0], uint64(i%n+1))
		}
		c.report(b, b.N)
	})
	cpu := []byte("cpu")
	for _, mc := range []struct {
		name string
		expr *index.Expr
	}{
		{"hostname=host_12345", index.NewLeaf([]byte("hostname"), index.Equal, []byte("host_12345"), nil)},
		{"region=us-east-1", index.NewLeaf([]byte("region"), index.Equal, []byte("us-east-1"), nil)},
		{"region!=us-east-1_AND_os=Ubuntu16.10", index.NewAnd(
			index.NewLeaf([]byte("region"), index.NotEqual, []byte("us-east-1"), nil),
			index.NewLeaf([]byte("os"), index.Equal, []byte("Ubuntu16.10"), nil))},
		{"rack=''", index.NewLeaf([]byte("rack"), index.Equal, nil, nil)},
		{"hostname=~/^host_99/", index.NewLeaf([]byte("hostname"), index.Regex, nil, regexp.MustCompile("^host_99"))},
		{"service=~/^1/", index.NewLeaf([]byte("service"), index.Regex, nil, regexp.MustCompile("^1"))},
	} {
		b.Run("Match/"+mc.name, func(b *testing.B) {
			build(b)
			b.ReportAllocs()
			c, k := startCPU(), 0
			for b.Loop() {
				if _, err := ix.Match(cpu, mc.expr); err != nil {
					b.Fatal(err)
				}
				k++
			}
			c.report(b, k)
		})
	}
	for _, key := range []string{"hostname", "region"} {
		b.Run("TagValues/"+key, func(b *testing.B) {
			build(b)
			ix.TagValues(cpu, []byte(key)) // the first call after a build sorts
			b.ReportAllocs()
			c, k := startCPU(), 0
			for b.Loop() {
				ix.TagValues(cpu, []byte(key))
				k++
			}
			c.report(b, k)
		})
	}
	b.Run("TagKeys", func(b *testing.B) {
		build(b)
		b.ReportAllocs()
		for b.Loop() {
			ix.TagKeys(cpu)
		}
	})
	b.Run("Open", func(b *testing.B) {
		build(b)
		if ix != nil {
			if err := ix.Close(); err != nil { // writes the snapshot
				b.Fatal(err)
			}
			ix = nil
		}
		fi, err := os.Stat(filepath.Join(dir, "index.snap"))
		if err != nil {
			b.Fatal(err)
		}
		c, k := startCPU(), 0
		defer func() {
			c.report(b, k)
			b.ReportMetric(float64(fi.Size())/n, "snapshot-B/series")
		}()
		for b.Loop() {
			k++
			o, err := index.Open(vfs.OS{}, dir, index.Options{SnapshotBytes: -1})
			if err != nil {
				b.Fatal(err)
			}
			if o.SeriesCount() != n {
				b.Fatalf("%d series", o.SeriesCount())
			}
			o.Close()
		}
	})
	b.Run("OpenReplay", func(b *testing.B) {
		build(b)
		if ix != nil {
			ix.Close()
			ix = nil
		}
		snap := filepath.Join(dir, "index.snap")
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			if err := os.Remove(snap); err != nil && !os.IsNotExist(err) {
				b.Fatal(err)
			}
			b.StartTimer()
			o, err := index.Open(vfs.OS{}, dir, index.Options{SnapshotBytes: -1})
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if o.SeriesCount() != n {
				b.Fatalf("%d series", o.SeriesCount())
			}
			o.Close() // writes a snapshot, removed above
			b.StartTimer()
		}
	})
}
