package codec_test

import (
	"testing"
)

// Each series has its own seed, so a benchmark measures the same data
// whichever others a -bench pattern selects.
//
// Benchmarks encode and decode one block of blockLen values of a realistic
// series. SetBytes counts the raw values (8 bytes per number, 1 per boolean,
// the string bytes), so MB/s is raw throughput; B/value is the encoded size.

const blockLen = 1000

func benchColumn[T any](b *testing.B, c column[T], v []T, rawBytes int) {
	enc := c.enc(nil, v)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(rawBytes))
		buf := make([]byte, 0, 2*len(enc)+64)
		for b.Loop() {
			buf = c.enc(buf[:0], v)
		}
		b.ReportMetric(float64(len(enc))/float64(len(v)), "B/value")
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(rawBytes))
		out := make([]T, 0, len(v))
		for b.Loop() {
			var err error
			if out, err = c.dec(out[:0], enc); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(enc))/float64(len(v)), "B/value")
	})
}

func BenchmarkTimestamps(b *testing.B) {
	b.Run("regular10s", func(b *testing.B) { benchColumn(b, timeCol, regularTimes(blockLen), 8*blockLen) })
	b.Run("jitterNs", func(b *testing.B) { benchColumn(b, timeCol, jitterTimes(newRand(40), blockLen), 8*blockLen) })
	b.Run("jitterMs", func(b *testing.B) { benchColumn(b, timeCol, jitterMsTimes(newRand(41), blockLen), 8*blockLen) })
}

func BenchmarkIntegers(b *testing.B) {
	b.Run("walk0to100", func(b *testing.B) { benchColumn(b, intCol, walkInts(newRand(42), blockLen), 8*blockLen) })
	b.Run("counter", func(b *testing.B) { benchColumn(b, intCol, counterInts(newRand(43), blockLen), 8*blockLen) })
}

func BenchmarkUnsigneds(b *testing.B) {
	c := counterInts(newRand(44), blockLen)
	u := make([]uint64, len(c))
	for i, x := range c {
		u[i] = uint64(x)
	}
	b.Run("counter", func(b *testing.B) { benchColumn(b, uintCol, u, 8*blockLen) })
}

func BenchmarkFloats(b *testing.B) {
	b.Run("gauge2dec", func(b *testing.B) { benchColumn(b, floatCol, gaugeFloats(newRand(45), blockLen), 8*blockLen) })
	b.Run("usage0to100", func(b *testing.B) { benchColumn(b, floatCol, walkFloats(newRand(46), blockLen), 8*blockLen) })
}

func BenchmarkBooleans(b *testing.B) {
	b.Run("flag", func(b *testing.B) { benchColumn(b, boolCol, flagBools(newRand(47), blockLen), blockLen) })
	b.Run("random", func(b *testing.B) { benchColumn(b, boolCol, randomBools(newRand(48), blockLen), blockLen) })
}

func BenchmarkStrings(b *testing.B) {
	size := func(v []string) int {
		n := 0
		for _, s := range v {
			n += len(s)
		}
		return n
	}
	logs, enums := logStrings(newRand(49), blockLen), enumStrings(newRand(50), blockLen)
	b.Run("log", func(b *testing.B) { benchColumn(b, strCol, logs, size(logs)) })
	b.Run("enum", func(b *testing.B) { benchColumn(b, strCol, enums, size(enums)) })
}
