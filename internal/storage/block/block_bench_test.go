package block_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stratadb/strata/internal/storage/block"
)

// Raw size of one point as the cache holds it: a timestamp and an 8-byte value.
const rawPointBytes = 16

func benchFloats(n int) block.Array[float64] {
	r := rand.New(rand.NewPCG(1, 2))
	v := 20.0
	return gen(n, func(int) float64 { v += r.NormFloat64() * 0.1; return v })
}

func BenchmarkEncodeFloat(b *testing.B) {
	a := benchFloats(1000)
	b.ReportAllocs()
	b.SetBytes(int64(a.Len() * rawPointBytes))
	var dst []byte
	for b.Loop() {
		var err error
		if dst, err = block.Encode(dst[:0], a); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(dst))/float64(a.Len()), "bytes/point")
}

func BenchmarkDecodeFloat(b *testing.B) {
	a := benchFloats(1000)
	blk, err := block.Encode(nil, a)
	if err != nil {
		b.Fatal(err)
	}
	var dst block.Array[float64]
	b.ReportAllocs()
	b.SetBytes(int64(a.Len() * rawPointBytes))
	for b.Loop() {
		if err := block.Decode(blk, &dst); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeTimes(b *testing.B) {
	a := benchFloats(1000)
	blk, err := block.Encode(nil, a)
	if err != nil {
		b.Fatal(err)
	}
	var ts []int64
	b.ReportAllocs()
	b.SetBytes(int64(a.Len() * 8))
	for b.Loop() {
		if ts, err = block.DecodeTimes(blk, ts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMergeInterleaved(b *testing.B) {
	older := gen(1000, func(i int) int64 { return int64(i) })
	newer := block.Array[int64]{}
	for i := 0; i < older.Len(); i += 2 {
		newer.Append(older.Times[i]+1, int64(i))
	}
	b.ReportAllocs()
	b.SetBytes(int64((older.Len() + newer.Len()) * rawPointBytes))
	for b.Loop() {
		block.Merge(older, newer)
	}
}

func BenchmarkMergeDisjoint(b *testing.B) {
	older := gen(1000, func(i int) int64 { return int64(i) })
	newer := block.Array[int64]{}
	for i := range 1000 {
		newer.Append(older.MaxTime()+int64(i)+1, int64(i))
	}
	b.ReportAllocs()
	b.SetBytes(int64((older.Len() + newer.Len()) * rawPointBytes))
	for b.Loop() {
		block.Merge(older, newer)
	}
}

func BenchmarkSortDedupSorted(b *testing.B) {
	a := gen(1000, func(i int) int64 { return int64(i) })
	b.ReportAllocs()
	b.SetBytes(int64(a.Len() * rawPointBytes))
	for b.Loop() {
		a.SortDedup()
	}
}

func BenchmarkSortDedupShuffled(b *testing.B) {
	src := gen(1000, func(i int) int64 { return int64(i) })
	r := rand.New(rand.NewPCG(3, 4))
	r.Shuffle(src.Len(), func(i, j int) {
		src.Times[i], src.Times[j] = src.Times[j], src.Times[i]
		src.Values[i], src.Values[j] = src.Values[j], src.Values[i]
	})
	a := block.Array[int64]{Times: make([]int64, src.Len()), Values: make([]int64, src.Len())}
	b.ReportAllocs()
	b.SetBytes(int64(a.Len() * rawPointBytes))
	for b.Loop() {
		a.Times, a.Values = a.Times[:src.Len()], a.Values[:src.Len()]
		copy(a.Times, src.Times)
		copy(a.Values, src.Values)
		a.SortDedup()
	}
}
