package wal_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/storage/wal"
	"github.com/stratadb/strata/internal/vfs"
)

// batchPayload builds what the engine writes for one 5,000-point request:
// binary columns per series (series id, field, count, timestamps as
// zig-zag delta-of-delta varints, float values as raw 8-byte words of a
// random walk). About 50 KiB, partly compressible, like the real thing.
func batchPayload() []byte {
	r := rand.New(rand.NewPCG(13, 14))
	const series, perSeries = 100, 50
	var b []byte
	for s := range series {
		b = binary.AppendUvarint(b, uint64(1_000_000+s*7919))
		b = binary.AppendUvarint(b, uint64(s%4)) // field index
		b = binary.AppendUvarint(b, perSeries)
		ts := int64(1_700_000_000_000_000_000)
		prevDelta := int64(0)
		v := 50.0 + float64(s)
		for i := range perSeries {
			delta := int64(10_000_000_000) // 10s interval
			if i%7 == 0 {
				delta += int64(r.IntN(1000)) // occasional jitter
			}
			b = binary.AppendVarint(b, delta-prevDelta)
			prevDelta = delta
			ts += delta
		}
		for range perSeries {
			v += math.Round((r.Float64()-0.5)*100) / 100
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	return b
}

// BenchmarkWrite measures acknowledged (fsynced) writes of realistic
// records on this machine's disk (b.TempDir), with 1 and 8 concurrent
// writers sharing group commits, and with a wal-fsync-delay.
func BenchmarkWrite(b *testing.B) {
	payload := batchPayload()
	for _, c := range []struct {
		writers int
		delay   time.Duration
	}{{1, 0}, {8, 0}, {8, 2 * time.Millisecond}} {
		b.Run(fmt.Sprintf("writers=%d/fsyncDelay=%v", c.writers, c.delay), func(b *testing.B) {
			f := newFaults()
			w, _, _ := openReplayed(b, vfs.NewErrorFS(vfs.OS{}, f.inject), b.TempDir(), wal.Options{FsyncDelay: c.delay})
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			b.ResetTimer()
			var next atomic.Int64
			var wg sync.WaitGroup
			for range c.writers {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						if _, err := w.Write(context.Background(), 1, payload); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(f.n(vfs.OpSync))/float64(b.N), "fsyncs/record")
			b.ReportMetric(float64(w.Size())/float64(b.N), "disk-B/record")
		})
	}
}

// BenchmarkReplay measures reading back segments of realistic records.
func BenchmarkReplay(b *testing.B) {
	payload := batchPayload()
	dir := b.TempDir()
	w, _, _ := openReplayed(b, vfs.OS{}, dir, wal.Options{})
	const records = 200
	for range records {
		mustWrite(b, w, 1, payload)
	}
	mustClose(b, w)
	b.SetBytes(int64(records * len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w, err := wal.Open(vfs.OS{}, dir, wal.Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		if _, err := w.Replay(func(byte, []byte) error { n++; return nil }); err != nil || n != records {
			b.Fatalf("replayed %d, %v", n, err)
		}
		w.Close()
	}
	b.ReportMetric(float64(b.N*records)/b.Elapsed().Seconds(), "records/s")
}
