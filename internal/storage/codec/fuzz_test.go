package codec_test

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"

	"github.com/stratadb/strata/internal/storage/codec"
)

// Every fuzz target does two things with its input: it builds values from
// the bytes and checks that they round-trip, and it decodes the bytes as a
// column, which must give ErrCorrupt or values that round-trip in turn.

// fuzzWords turns data into 64-bit words. The first byte picks a shape so
// the fuzzer reaches every transform: raw words, small deltas (walks,
// counters, timestamps), or values in a narrow band.
func fuzzWords(data []byte) []uint64 {
	if len(data) == 0 {
		return nil
	}
	mode, data := data[0], data[1:]
	var out []uint64
	switch mode % 4 {
	case 0: // raw little-endian words
		for len(data) >= 8 {
			out = append(out, binary.LittleEndian.Uint64(data))
			data = data[8:]
		}
	case 1: // a walk of signed byte steps, scaled
		x, scale := uint64(int64(mode)<<50), uint64(1)+uint64(mode>>2)*999_999
		for _, b := range data {
			x += uint64(int64(int8(b))) * scale
			out = append(out, x)
		}
	case 2: // a band: base plus a byte
		base := uint64(mode) << 56
		for _, b := range data {
			out = append(out, base+uint64(b%(mode|1)))
		}
	default: // runs: value and repeat count
		for len(data) >= 2 {
			for range data[1] % 40 {
				out = append(out, uint64(data[0])<<(data[1]%64))
			}
			data = data[2:]
		}
	}
	return out
}

func checkArbitrary[T any](t *testing.T, c column[T], data []byte) {
	v, err := c.dec(nil, data)
	if err != nil {
		if !errors.Is(err, codec.ErrCorrupt) {
			t.Fatalf("decode error does not wrap ErrCorrupt: %v", err)
		}
		return
	}
	got, err := c.dec(nil, c.enc(nil, v))
	if err != nil {
		t.Fatalf("re-encoded column does not decode: %v", err)
	}
	checkEqual(t, c, got, v)
}

func checkValues[T any](t *testing.T, c column[T], v []T) {
	got, err := c.dec(nil, c.enc(nil, v))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	checkEqual(t, c, got, v)
}

func addSeeds(f *testing.F, encoded ...[]byte) {
	for _, e := range encoded {
		f.Add(e)
	}
	f.Add([]byte{})
	f.Add([]byte{1, 0x80, 0x7f, 0, 0xff, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3})
	f.Add([]byte{2, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22})
	f.Add([]byte{3, 1, 30, 2, 30, 1, 30, 0, 5, 0xff, 63})
}

func FuzzIntegers(f *testing.F) {
	r := newRand(10)
	addSeeds(f,
		codec.AppendIntegers(nil, walkInts(r, 100)),
		codec.AppendIntegers(nil, counterInts(r, 50)),
		codec.AppendIntegers(nil, []int64{math.MinInt64, math.MaxInt64, 0}),
		codec.AppendIntegers(nil, seq(100, func(i int) int64 { return int64(i % 3) })),
		codec.AppendIntegers(nil, seq(64, func(i int) int64 { return 1 << i })),
		codec.AppendIntegers(nil, []int64{7}))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkValues(t, intCol, int64sOf(fuzzWords(data)))
		checkArbitrary(t, intCol, data)
	})
}

func FuzzTimestamps(f *testing.F) {
	r := newRand(11)
	addSeeds(f,
		codec.AppendTimestamps(nil, regularTimes(100)),
		codec.AppendTimestamps(nil, jitterTimes(r, 60)),
		codec.AppendTimestamps(nil, jitterMsTimes(r, 60)))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkValues(t, timeCol, int64sOf(fuzzWords(data)))
		checkArbitrary(t, timeCol, data)
	})
}

func FuzzUnsigneds(f *testing.F) {
	addSeeds(f,
		codec.AppendUnsigneds(nil, []uint64{0, math.MaxUint64, 1 << 63}),
		codec.AppendUnsigneds(nil, seq(200, func(i int) uint64 { return uint64(i * i) })))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkValues(t, uintCol, fuzzWords(data))
		checkArbitrary(t, uintCol, data)
	})
}

func FuzzFloats(f *testing.F) {
	r := newRand(12)
	addSeeds(f,
		codec.AppendFloats(nil, gaugeFloats(r, 100)),
		codec.AppendFloats(nil, walkFloats(r, 50)),
		codec.AppendFloats(nil, []float64{math.NaN(), math.Inf(1), math.Copysign(0, -1), math.SmallestNonzeroFloat64}),
		codec.AppendFloats(nil, []float64{1.5, 1.5, 1.5, 2}))
	f.Fuzz(func(t *testing.T, data []byte) {
		w := fuzzWords(data)
		v := make([]float64, len(w))
		for i, x := range w {
			v[i] = math.Float64frombits(x)
			if len(data) > 0 && data[0]&4 != 0 {
				// Decimals: the word as an integer over a power of ten.
				v[i] = float64(int64(x)>>11) / math.Pow10(int(data[0]>>3)%17)
			}
		}
		checkValues(t, floatCol, v)
		checkArbitrary(t, floatCol, data)
	})
}

func FuzzBooleans(f *testing.F) {
	r := newRand(13)
	addSeeds(f,
		codec.AppendBooleans(nil, randomBools(r, 100)),
		codec.AppendBooleans(nil, flagBools(r, 300)))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v []bool
		for i, b := range data {
			if i == 0 {
				continue
			}
			if data[0]&1 == 0 {
				for j := range 8 { // bits
					v = append(v, b>>j&1 == 1)
				}
			} else { // runs
				for range b % 70 {
					v = append(v, i%2 == 0)
				}
			}
		}
		checkValues(t, boolCol, v)
		checkArbitrary(t, boolCol, data)
	})
}

func FuzzStrings(f *testing.F) {
	r := newRand(14)
	addSeeds(f,
		codec.AppendStrings(nil, logStrings(r, 20)),
		codec.AppendStrings(nil, enumStrings(r, 100)),
		codec.AppendStrings(nil, []string{"", "a", "", "\x00\xff"}))
	f.Add([]byte("a,b,a,b,a,b,a,b,a,b,a,b,cc,cc,cc,cc,cc"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Strings split at a separator byte, the first byte of the input.
		var v []string
		if len(data) > 0 {
			sep := data[0]
			start := 1
			for i := 1; i <= len(data); i++ {
				if i == len(data) || data[i] == sep {
					v = append(v, string(data[start:i]))
					start = i + 1
				}
			}
		}
		checkValues(t, strCol, v)
		checkArbitrary(t, strCol, data)
	})
}

func int64sOf(w []uint64) []int64 {
	out := make([]int64, len(w))
	for i, x := range w {
		out[i] = int64(x)
	}
	return out
}
