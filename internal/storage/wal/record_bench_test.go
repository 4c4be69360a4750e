package wal

import (
	"encoding/binary"
	"math"
	"testing"
)

// columnsPayload approximates an engine record of 5,000 points: varint
// timestamp deltas and raw float64 words of a slow random walk.
func columnsPayload() []byte {
	var b []byte
	x := uint32(88172645)
	v := 100.0
	for s := range 100 {
		b = binary.AppendUvarint(b, uint64(1_000_000+s*7919))
		for i := range 50 {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			b = binary.AppendVarint(b, int64(i%7)*int64(x%1000))
		}
		for range 50 {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			v += float64(int(x%200)-100) / 100
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	return b
}

// BenchmarkAppendRecord is the CPU cost a writer pays before it queues its
// record: s2 compression plus CRC32C.
func BenchmarkAppendRecord(b *testing.B) {
	p := columnsPayload()
	var dst []byte
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		dst = appendRecord(dst[:0], 1, p)
	}
	b.ReportMetric(float64(len(dst))/float64(len(p)), "stored/payload")
}

// BenchmarkReadRecord is the matching replay cost: CRC32C plus s2 decoding.
func BenchmarkReadRecord(b *testing.B) {
	p := columnsPayload()
	seg := appendRecord(appendSegmentHeader(nil), 1, p)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		recs, err := readAll(seg)
		if err != nil || len(recs) != 1 {
			b.Fatal(err)
		}
	}
}
