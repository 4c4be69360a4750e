package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/index"
	"github.com/stratadb/strata/internal/vfs"
)

// Engine benchmarks of the review (issue 3): cache inserts, cursor reads
// (files, cache, statistics), snapshots and full compactions, on integer
// random walks like the TSBS cpu fields.

func benchShard(b *testing.B, opts Options) (*Shard, *index.Index) {
	b.Helper()
	dir := b.TempDir()
	idx, err := index.Open(vfs.Default, filepath.Join(dir, "_series"), index.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if opts.CheckInterval == 0 {
		opts.CheckInterval = time.Hour
	}
	sh, err := OpenShard(vfs.Default, 1, "db", "rp", filepath.Join(dir, "data"), filepath.Join(dir, "wal"), idx, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		sh.Close()
		idx.Close()
	})
	return sh, idx
}

var benchFieldNames = func() [][]byte {
	out := make([][]byte, 10)
	for i := range out {
		out[i] = []byte(fmt.Sprintf("usage_%d", i))
	}
	return out
}()

// benchPoints returns hosts×epochs points of 10 integer fields, a random
// walk per field, epoch-major like TSBS.
func benchPoints(hosts, epochs int, t0 int64) []models.Point {
	pts := make([]models.Point, 0, hosts*epochs)
	walk := make([][10]int64, hosts)
	x := uint64(1)
	for e := range epochs {
		for h := range hosts {
			fs := make([]models.Field, 10)
			for f := range fs {
				x = x*6364136223846793005 + 1442695040888963407
				walk[h][f] = min(max(walk[h][f]+int64(x>>62)-1, 0), 100)
				fs[f] = models.IntegerField(benchFieldNames[f], walk[h][f])
			}
			pts = append(pts, models.Point{
				Measurement: []byte("cpu"),
				Tags:        []models.Tag{{Key: []byte("hostname"), Value: []byte(fmt.Sprintf("host_%d", h))}},
				Fields:      fs,
				Time:        t0 + int64(e)*int64(10*time.Second),
			})
		}
	}
	return pts
}

func BenchmarkCacheWritePoint(b *testing.B) {
	pts := benchPoints(1000, 10, 0)
	c := newCache()
	b.ReportAllocs()
	b.SetBytes(10 * 16)
	b.ResetTimer()
	for i := range b.N {
		p := &pts[i%len(pts)]
		c.WritePoint(uint64(i%1000)+1, p.Fields, p.Time+int64(i/len(pts))*int64(100*time.Second))
		if c.Size() > 256<<20 {
			b.StopTimer()
			c = newCache()
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkCursor reads one series of 100k values from data files (after a
// snapshot and a full compaction) or from the cache, in each direction,
// with and without block statistics.
func BenchmarkCursor(b *testing.B) {
	for _, where := range []string{"files", "cache"} {
		sh, idx := benchShard(b, Options{})
		pts := benchPoints(1, 100_000, 0)
		for i := 0; i < len(pts); i += 5000 {
			if err := sh.WritePoints(context.Background(), pts[i:i+5000]); err != nil {
				b.Fatal(err)
			}
		}
		if where == "files" {
			if err := sh.Flush(); err != nil {
				b.Fatal(err)
			}
			if err := sh.Compact(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
		key := models.AppendSeriesKey(nil, pts[0].Measurement, pts[0].Tags)
		id := idx.SeriesID(key)
		for _, asc := range []bool{true, false} {
			for _, stats := range []bool{false, true} {
				if stats && where == "cache" {
					continue
				}
				name := fmt.Sprintf("%s/asc=%v/stats=%v", where, asc, stats)
				b.Run(name, func(b *testing.B) {
					b.ReportAllocs()
					b.SetBytes(100_000 * 16)
					var n int64
					for range b.N {
						c := NewCursor[int64](sh, key, id, "usage_0", models.MinNanoTime, models.MaxNanoTime, asc)
						for {
							bt, err := c.Next(stats)
							if err != nil {
								b.Fatal(err)
							}
							if bt.Stats != nil {
								n += int64(bt.Stats.Count)
								continue
							}
							if bt.Len() == 0 {
								break
							}
							n += int64(bt.Len())
						}
						c.Close()
					}
					if n != int64(b.N)*100_000 {
						b.Fatalf("read %d values, want %d", n, int64(b.N)*100_000)
					}
					b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "values/s")
				})
			}
		}
	}
}

// BenchmarkSnapshot writes a cache of 1000 series × 10 fields × 100 points
// (1M values) into a data file.
func BenchmarkSnapshot(b *testing.B) {
	sh, _ := benchShard(b, Options{})
	b.ReportAllocs()
	b.SetBytes(1_000_000 * 16)
	for i := range b.N {
		b.StopTimer()
		pts := benchPoints(1000, 100, int64(i)*int64(time.Hour))
		for k := 0; k < len(pts); k += 5000 {
			if err := sh.WritePoints(context.Background(), pts[k:k+5000]); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		if err := sh.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*1e6/b.Elapsed().Seconds(), "values/s")
}

// BenchmarkCompactFull merges four files of 1000 series × 10 fields × 250
// points (1M values).
func BenchmarkCompactFull(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(1_000_000 * 16)
	for i := range b.N {
		b.StopTimer()
		sh, _ := benchShard(b, Options{})
		for f := range 4 {
			pts := benchPoints(1000, 25, int64(i*4+f)*int64(time.Hour))
			for k := 0; k < len(pts); k += 5000 {
				if err := sh.WritePoints(context.Background(), pts[k:k+5000]); err != nil {
					b.Fatal(err)
				}
			}
			if err := sh.Flush(); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		if err := sh.Compact(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*1e6/b.Elapsed().Seconds(), "values/s")
}

// BenchmarkOpenReplay reopens a shard whose WAL holds 100k points of 10
// fields (1M values) of 10k series: the start-up cost of an unsnapshotted
// cache.
func BenchmarkOpenReplay(b *testing.B) {
	dir := b.TempDir()
	idx, err := index.Open(vfs.Default, filepath.Join(dir, "_series"), index.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer idx.Close()
	opts := Options{CheckInterval: time.Hour}
	open := func() *Shard {
		sh, err := OpenShard(vfs.Default, 1, "db", "rp", filepath.Join(dir, "data"), filepath.Join(dir, "wal"), idx, opts)
		if err != nil {
			b.Fatal(err)
		}
		return sh
	}
	sh := open()
	pts := benchPoints(10_000, 10, 0)
	for k := 0; k < len(pts); k += 5000 {
		if err := sh.WritePoints(context.Background(), pts[k:k+5000]); err != nil {
			b.Fatal(err)
		}
	}
	if err := sh.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(1_000_000 * 16)
	b.ResetTimer()
	for range b.N {
		sh := open()
		b.StopTimer()
		if err := sh.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N)*100_000/b.Elapsed().Seconds(), "points/s")
}
