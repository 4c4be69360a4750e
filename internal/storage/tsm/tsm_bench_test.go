package tsm_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/block"
	"github.com/stratadb/strata/internal/storage/tsm"
	"github.com/stratadb/strata/internal/vfs"
)

// rawPointBytes is a point as the cache holds it: timestamp and value.
const rawPointBytes = 16

// benchKeys returns n engine-style keys in ascending order.
func benchKeys(n int) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = fieldKey(fmt.Sprintf("cpu,host=server%06d,region=eu-west-%d", i, i%4), "usage_idle")
	}
	return keys
}

// benchArray is a gauge sampled every 10s with a little jitter.
func benchArray(n int, start int64, seed uint64) block.Array[float64] {
	rng := rand.New(rand.NewPCG(seed, 1))
	a := block.Array[float64]{Times: make([]int64, n), Values: make([]float64, n)}
	v := 50.0
	for i := range n {
		v += rng.NormFloat64()
		a.Times[i] = start + int64(i)*10_000_000_000
		a.Values[i] = float64(int(v*100)) / 100
	}
	return a
}

// writeBench writes keys × points into dir/name on the real file system.
func writeBench(tb testing.TB, dir, name string, keys [][]byte, points int, start int64) string {
	tb.Helper()
	path := filepath.Join(dir, name)
	f, err := vfs.Create(vfs.OS{}, path)
	if err != nil {
		tb.Fatal(err)
	}
	w := tsm.NewWriter(f)
	for i, k := range keys {
		if err := w.WriteArray(k, benchArray(points, start, uint64(i))); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

func BenchmarkWrite(b *testing.B) {
	keys := benchKeys(100)
	arrays := make([]block.Array[float64], len(keys))
	for i := range arrays {
		arrays[i] = benchArray(10_000, 1_700_000_000_000_000_000, uint64(i))
	}
	dir := b.TempDir()
	points := len(keys) * 10_000
	b.ReportAllocs()
	b.SetBytes(int64(points * rawPointBytes))
	var size int64
	for b.Loop() {
		f, err := vfs.Create(vfs.OS{}, filepath.Join(dir, "w.tsm"))
		if err != nil {
			b.Fatal(err)
		}
		w := tsm.NewWriter(f)
		for i, k := range keys {
			if err := w.WriteArray(k, arrays[i]); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		size = w.Size()
	}
	b.ReportMetric(float64(size)/float64(points), "bytes/point")
}

func BenchmarkReadBlockDecode(b *testing.B) {
	keys := benchKeys(50)
	path := writeBench(b, b.TempDir(), "r.tsm", keys, 10_000, 0)
	r, err := tsm.Open(vfs.OS{}, path)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	var entries []tsm.IndexEntry
	for _, k := range keys {
		entries = append(entries, r.Entries(k, nil)...)
	}
	var a block.Array[float64]
	b.ReportAllocs()
	b.SetBytes(tsm.MaxPointsPerBlock * rawPointBytes)
	i := 0
	for b.Loop() {
		blk, err := r.ReadBlock(entries[i%len(entries)])
		if err != nil {
			b.Fatal(err)
		}
		if err := block.Decode(blk, &a); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// bigFile is shared by the lookup and open benchmarks: 100k keys.
func bigFile(b *testing.B) (string, [][]byte) {
	b.Helper()
	keys := benchKeys(100_000)
	return writeBench(b, b.TempDir(), "big.tsm", keys, 2, 0), keys
}

func BenchmarkEntries(b *testing.B) {
	path, keys := bigFile(b)
	r, err := tsm.Open(vfs.OS{}, path)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	rng := rand.New(rand.NewPCG(7, 7))
	order := rng.Perm(len(keys))
	var es []tsm.IndexEntry
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		es = r.Entries(keys[order[i%len(order)]], es)
		if len(es) != 1 {
			b.Fatal("key not found")
		}
		i++
	}
}

func BenchmarkEntriesAbsent(b *testing.B) {
	path, keys := bigFile(b)
	r, err := tsm.Open(vfs.OS{}, path)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	absent := make([][]byte, 1000)
	for i := range absent {
		absent[i] = append(append([]byte(nil), keys[i*97]...), 'x')
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if es := r.Entries(absent[i%len(absent)], nil); len(es) != 0 {
			b.Fatal("absent key found")
		}
		i++
	}
}

// BenchmarkOpen100kKeys measures Open on a file of 100k keys; B/op is the
// heap an open file costs.
func BenchmarkOpen100kKeys(b *testing.B) {
	path, _ := bigFile(b)
	r, err := tsm.Open(vfs.OS{}, path)
	if err != nil {
		b.Fatal(err)
	}
	indexBytes := r.IndexSize()
	r.Close()
	b.ReportAllocs()
	for b.Loop() {
		r, err := tsm.Open(vfs.OS{}, path)
		if err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
	// Keys are ~60 bytes; prefix compression and delta-coded entries
	// bring a key with one block to this many index bytes.
	b.ReportMetric(float64(indexBytes)/100_000, "index-bytes/key")
}

func BenchmarkIterate100kKeys(b *testing.B) {
	path, _ := bigFile(b)
	r, err := tsm.Open(vfs.OS{}, path)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Iterate(func([]byte, models.FieldType, []tsm.IndexEntry) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// benchCompact compacts inputs that each hold every key; overlap picks
// whether their time ranges interleave (decode path) or follow each other
// (copy path).
func benchCompact(b *testing.B, overlap bool) {
	keys := benchKeys(200)
	dir := b.TempDir()
	var readers []*tsm.Reader
	var inBytes int64
	for i := range 3 {
		start := int64(i) * 3000 * 10_000_000_000
		if overlap {
			start = int64(i) * 5_000_000_000 // half a step: interleaved
		}
		path := writeBench(b, dir, fmt.Sprintf("in%d.tsm", i), keys, 3000, start)
		r, err := tsm.Open(vfs.OS{}, path)
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		readers = append(readers, r)
		inBytes += r.Size()
	}
	points := int64(3 * len(keys) * 3000)
	b.ReportAllocs()
	b.SetBytes(points * rawPointBytes)
	var res tsm.CompactResult
	for b.Loop() {
		f, err := vfs.Create(vfs.OS{}, filepath.Join(dir, "out.tsm"))
		if err != nil {
			b.Fatal(err)
		}
		w := tsm.NewWriter(f)
		if res, err = tsm.CompactWithResult(context.Background(), w, readers, nil); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(inBytes)/1e6*float64(b.N)/b.Elapsed().Seconds(), "file-MB/s")
	b.ReportMetric(float64(res.BlocksCopied), "copied-blocks")
}

func BenchmarkCompactDisjoint(b *testing.B)    { benchCompact(b, false) }
func BenchmarkCompactInterleaved(b *testing.B) { benchCompact(b, true) }
