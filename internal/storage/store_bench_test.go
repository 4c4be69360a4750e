package storage_test

// The storage figures of issue 3: ingest points/s, bytes per point on disk
// after a full compaction, memory per series at a million series, and
// start-up time with a million series on disk, all on a TSBS cpu-only data
// set (10 tags per host, 10 integer fields as random walks in 0..100, one
// point per host every 10 s) written through storage.Store.WriteToShard in
// batches of 5,000 points. The big ones do their whole work once whatever
// b.N is; run them one at a time with -benchtime 1x, e.g.
//
//	go test -run '^$' -bench 'BenchmarkDiskBytesPerPoint' -benchtime 1x ./internal/storage/
//
// Sizes can be changed with STRATA_BENCH_POINTS (points per data set of the
// bytes-per-point benchmark), STRATA_BENCH_SERIES (series of the memory and
// start-up benchmarks) and STRATA_BENCH_STARTUP_POINTS (points per series
// on disk for the start-up benchmark).

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage"
	"github.com/stratadb/strata/internal/storage/engine"
	"github.com/stratadb/strata/internal/storage/tsm"
	"github.com/stratadb/strata/internal/vfs"
)

func openBenchStore(tb testing.TB, dir string, eng engine.Options) (*storage.Store, *engine.Shard) {
	tb.Helper()
	st, err := storage.Open(vfs.Default, filepath.Join(dir, "data"), filepath.Join(dir, "wal"), storage.Options{Engine: eng})
	if err != nil {
		tb.Fatal(err)
	}
	sh, err := st.CreateShard(benchDB, benchRP, benchShard, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return st, sh
}

// BenchmarkIngestTSBS measures ingest through Store.WriteToShard, one
// batch of 5,000 points per op. With writers=1 a batch is built outside
// the timer; with more writers one goroutine builds the batches while the
// writers write them (building is then part of the cost, on the same
// cores).
func BenchmarkIngestTSBS(b *testing.B) {
	for _, hosts := range []int{100, 4000} {
		for _, writers := range []int{1, 4} {
			b.Run(fmt.Sprintf("hosts=%d/writers=%d", hosts, writers), func(b *testing.B) {
				benchIngest(b, hosts, writers)
			})
		}
	}
}

func benchIngest(b *testing.B, hosts, writers int) {
	st, _ := openBenchStore(b, b.TempDir(), engine.Options{})
	defer st.Close()
	g := newTSBSGen(hosts, true)
	epochs := int64(b.N*benchBatch/hosts + 2)
	b.ReportAllocs()
	b.SetBytes(lineBytes(g.batch(benchBatch, epochs)))
	g = newTSBSGen(hosts, true)
	ctx := context.Background()
	var points int64
	var elapsed time.Duration
	if writers == 1 {
		b.ResetTimer()
		for range b.N {
			b.StopTimer()
			pts := g.batch(benchBatch, epochs)
			b.StartTimer()
			start := time.Now()
			if err := st.WriteToShard(ctx, benchShard, pts); err != nil {
				b.Fatal(err)
			}
			elapsed += time.Since(start)
			points += int64(len(pts))
		}
	} else {
		// Batches are copied into per-batch buffers so that several can be
		// in flight.
		ch := make(chan []models.Point, writers)
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		b.ResetTimer()
		start := time.Now()
		for range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for pts := range ch {
					if err := st.WriteToShard(ctx, benchShard, pts); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		for range b.N {
			pts := clonePoints(g.batch(benchBatch, epochs))
			points += int64(len(pts))
			ch <- pts
		}
		close(ch)
		wg.Wait()
		elapsed = time.Since(start)
		select {
		case err := <-errs:
			b.Fatal(err)
		default:
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(points)/elapsed.Seconds(), "points/s")
	b.ReportMetric(float64(points*10)/elapsed.Seconds(), "values/s")
}

// writeDataset writes epochs×hosts points and returns how many.
func writeDataset(tb testing.TB, st *storage.Store, g *tsbsGen, epochs int64) (int64, time.Duration) {
	tb.Helper()
	var n int64
	start := time.Now()
	for {
		pts := g.batch(benchBatch, epochs)
		if len(pts) == 0 {
			return n, time.Since(start)
		}
		if err := st.WriteToShard(context.Background(), benchShard, pts); err != nil {
			tb.Fatal(err)
		}
		n += int64(len(pts))
	}
}

// compactFully runs a full compaction.
func compactFully(tb testing.TB, sh *engine.Shard) {
	tb.Helper()
	if err := sh.Compact(context.Background()); err != nil {
		tb.Fatal(err)
	}
}

// diskParts breaks the shard's data files down.
type diskParts struct {
	files, tsmBytes, indexBytes, blockBytes, crcBytes, blockHeader int64
	tsBytes, valueBytes, entries, keys, keyBytes, entryBytes       int64
	other                                                          int64 // tombstones, fields.json, series.roaring
}

func uvarintLen(x uint64) int64 { return int64(binary.PutUvarint(make([]byte, 10), x)) }
func varintLen(x int64) int64   { return int64(binary.PutVarint(make([]byte, 10), x)) }

func measureShard(tb testing.TB, dir string) diskParts {
	tb.Helper()
	var d diskParts
	es, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range es {
		fi, err := e.Info()
		if err != nil {
			tb.Fatal(err)
		}
		if !strings.HasSuffix(e.Name(), ".tsm") {
			d.other += fi.Size()
			continue
		}
		d.files++
		d.tsmBytes += fi.Size()
		r, err := tsm.Open(vfs.Default, filepath.Join(dir, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		d.indexBytes += r.IndexSize()
		err = r.Iterate(func(key []byte, typ models.FieldType, ents []tsm.IndexEntry) error {
			d.keys++
			d.keyBytes += int64(len(key))
			for i, en := range ents {
				d.entries++
				// The entry's encoded size, from the documented layout
				// (docs/format/tsm.md, "Index").
				if i == 0 {
					d.entryBytes += varintLen(en.MinTime) + uvarintLen(en.Offset)
				} else {
					d.entryBytes += uvarintLen(uint64(en.MinTime)-uint64(ents[i-1].MaxTime)) + uvarintLen(en.Offset-(ents[i-1].Offset+uint64(ents[i-1].Size)))
				}
				d.entryBytes += uvarintLen(uint64(en.MaxTime)-uint64(en.MinTime)) + uvarintLen(uint64(en.Size)) + uvarintLen(uint64(en.Stats.Count))
				if typ == models.Integer {
					d.entryBytes += varintLen(int64(en.Stats.Min)) + varintLen(int64(en.Stats.Max)) + varintLen(int64(en.Stats.Sum))
				}
				blk, err := r.ReadBlock(en)
				if err != nil {
					return err
				}
				d.crcBytes += int64(en.Size) - int64(len(blk))
				d.blockBytes += int64(en.Size)
				tsLen, k := binary.Uvarint(blk[1:])
				d.blockHeader += 1 + int64(k)
				d.tsBytes += int64(tsLen)
				d.valueBytes += int64(len(blk)) - 1 - int64(k) - int64(tsLen)
			}
			return nil
		})
		r.Close()
		if err != nil {
			tb.Fatal(err)
		}
	}
	return d
}

// sizesUnder sums the sizes of the files under dir/sub.
func sizesUnder(dir, sub string) int64 {
	var n int64
	filepath.WalkDir(filepath.Join(dir, sub), func(_ string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if fi, err := e.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

func dirSize(tb testing.TB, dir string) map[string]int64 {
	tb.Helper()
	out := map[string]int64{}
	filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		out[filepath.Base(p)] += fi.Size()
		return nil
	})
	return out
}

// BenchmarkDiskBytesPerPoint writes a few million TSBS points, flushes,
// compacts fully and measures the shard's data files plus the database's
// series index, per point (a point is one line: 10 values), and what the
// bytes go to.
func BenchmarkDiskBytesPerPoint(b *testing.B) {
	for _, hosts := range []int{100, 4000} {
		b.Run(fmt.Sprintf("hosts=%d", hosts), func(b *testing.B) {
			for range b.N {
				benchDiskBytes(b, hosts)
			}
		})
	}
}

func benchDiskBytes(b *testing.B, hosts int) {
	total := benchEnvInt("STRATA_BENCH_POINTS", 3_000_000)
	epochs := (total + int64(hosts) - 1) / int64(hosts)
	dir := b.TempDir()
	st, sh := openBenchStore(b, dir, engine.Options{})
	g := newTSBSGen(hosts, true)
	n, took := writeDataset(b, st, g, epochs)
	if err := sh.Flush(); err != nil {
		b.Fatal(err)
	}
	cstart := time.Now()
	compactFully(b, sh)
	ctook := time.Since(cstart)
	if err := st.Close(); err != nil { // the index writes its snapshot
		b.Fatal(err)
	}
	d := measureShard(b, filepath.Join(dir, "data", benchDB, benchRP, strconv.Itoa(benchShard)))
	idx := dirSize(b, filepath.Join(dir, "data", benchDB, "_series"))
	var idxBytes int64
	for _, v := range idx {
		idxBytes += v
	}
	per := func(x int64) float64 { return float64(x) / float64(n) }
	b.ReportMetric(per(d.tsmBytes+idxBytes), "B/point")
	b.ReportMetric(per(d.tsmBytes), "tsm-B/point")
	b.ReportMetric(per(d.tsBytes), "timestamps-B/point")
	b.ReportMetric(per(d.valueBytes), "values-B/point")
	b.ReportMetric(per(d.blockHeader+d.crcBytes), "blockhdr+crc-B/point")
	b.ReportMetric(per(d.indexBytes), "tsmindex-B/point")
	b.ReportMetric(per(idxBytes), "seriesindex-B/point")
	b.ReportMetric(float64(n), "points")
	b.Logf("hosts=%d: %d points (%d epochs) written in %v (%.0f points/s), compacted in %v", hosts, n, epochs, took.Round(time.Millisecond),
		float64(n)/took.Seconds(), ctook.Round(time.Millisecond))
	b.Logf("data files: %d, %d bytes (%.3f B/point): blocks %d (timestamps %d, values %d, type+length %d, CRC %d), index %d, header+footer %d; other shard files %d",
		d.files, d.tsmBytes, per(d.tsmBytes), d.blockBytes, d.tsBytes, d.valueBytes, d.blockHeader, d.crcBytes, d.indexBytes,
		d.tsmBytes-d.blockBytes-d.indexBytes, d.other)
	restart := (d.keys + 15) / 16 * 4
	b.Logf("tsm index: %d keys (%.1f bytes each uncompressed, %d bytes in all), %d entries (%.1f points per block); entries ~%d bytes, restart table %d, key records ~%d bytes (%.1f per key)",
		d.keys, float64(d.keyBytes)/float64(max(d.keys, 1)), d.keyBytes, d.entries, float64(n*10)/float64(max(d.entries, 1)),
		d.entryBytes, restart, d.indexBytes-d.entryBytes-restart, float64(d.indexBytes-d.entryBytes-restart)/float64(max(d.keys, 1)))
	b.Logf("series index: %v (%.3f B/point, %.0f B/series)", idx, per(idxBytes), float64(idxBytes)/float64(hosts))
}
