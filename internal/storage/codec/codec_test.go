package codec_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stratadb/strata/internal/storage/codec"
)

// column bundles one column type's functions for the generic checks.
type column[T any] struct {
	enc func([]byte, []T) []byte
	dec func([]T, []byte) ([]T, error)
	eq  func(a, b T) bool
	// filler is a value decoders must leave alone when appending after it.
	filler T
}

var (
	intCol   = column[int64]{codec.AppendIntegers, codec.DecodeIntegers, eqComparable[int64], 42}
	timeCol  = column[int64]{codec.AppendTimestamps, codec.DecodeTimestamps, eqComparable[int64], 42}
	uintCol  = column[uint64]{codec.AppendUnsigneds, codec.DecodeUnsigneds, eqComparable[uint64], 42}
	floatCol = column[float64]{codec.AppendFloats, codec.DecodeFloats, eqFloatBits, 4.2}
	boolCol  = column[bool]{codec.AppendBooleans, codec.DecodeBooleans, eqComparable[bool], true}
	strCol   = column[string]{codec.AppendStrings, codec.DecodeStrings, eqComparable[string], "filler"}
)

func eqComparable[T comparable](a, b T) bool { return a == b }

// eqFloatBits compares floats bit for bit: NaN payloads and -0 included.
func eqFloatBits(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

// roundTrip encodes v, checks that decoding gives v back (into an empty and
// into a non-empty dst), that encoding appends, and that every truncation
// and a trailing byte are reported as corruption. It returns the encoding.
func roundTrip[T any](t *testing.T, c column[T], v []T) []byte {
	t.Helper()
	enc := c.enc(nil, v)
	if prefixed := c.enc([]byte("prefix"), v); !bytes.Equal(prefixed, append([]byte("prefix"), enc...)) {
		t.Fatalf("encoding after a prefix differs from encoding alone")
	}
	got, err := c.dec(nil, enc)
	if err != nil {
		t.Fatalf("decode: %v (encoding % x)", err, head(enc))
	}
	checkEqual(t, c, got, v)

	pre := []T{c.filler, c.filler}
	got, err = c.dec(pre, enc)
	if err != nil {
		t.Fatalf("decode after prefix: %v", err)
	}
	if len(got) != len(v)+2 || !c.eq(got[0], c.filler) || !c.eq(got[1], c.filler) {
		t.Fatalf("decode after prefix: lost the prefix (len %d)", len(got))
	}
	checkEqual(t, c, got[2:], v)

	// Reuse of a dst with spare capacity must not depend on its contents.
	got, err = c.dec(got[:0], enc)
	if err != nil {
		t.Fatalf("decode into reused dst: %v", err)
	}
	checkEqual(t, c, got, v)

	for _, k := range cuts(len(enc)) {
		if _, err := c.dec(nil, enc[:k]); !errors.Is(err, codec.ErrCorrupt) {
			t.Fatalf("decode of the first %d of %d bytes: err = %v, want ErrCorrupt", k, len(enc), err)
		}
	}
	for _, extra := range []byte{0, 0xff} {
		if _, err := c.dec(nil, append(slices.Clip(enc), extra)); !errors.Is(err, codec.ErrCorrupt) {
			t.Fatalf("decode with trailing byte %#x: err = %v, want ErrCorrupt", extra, err)
		}
	}
	return enc
}

// cuts lists the truncation lengths to try: all of them for short
// encodings, the start and the end of long ones.
func cuts(n int) []int {
	if n <= 300 {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	var out []int
	for i := range 100 {
		out = append(out, i, n-1-i)
	}
	for i := 100; i < n-100; i += n / 50 {
		out = append(out, i)
	}
	return out
}

func checkEqual[T any](t *testing.T, c column[T], got, want []T) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("decoded %d values, want %d", len(got), len(want))
	}
	for i := range got {
		if !c.eq(got[i], want[i]) {
			t.Fatalf("value %d: got %v, want %v", i, got[i], want[i])
		}
	}
}

func head(b []byte) []byte { return b[:min(len(b), 32)] }

func TestIntegersRoundTrip(t *testing.T) {
	r := newRand(1)
	cases := map[string][]int64{
		"empty":            {},
		"one zero":         {0},
		"one min":          {math.MinInt64},
		"one max":          {math.MaxInt64},
		"two":              {5, -7},
		"min max":          {math.MinInt64, math.MaxInt64},
		"max min":          {math.MaxInt64, math.MinInt64},
		"constant":         slices.Repeat([]int64{-3}, 1000),
		"constant step":    seq(1000, func(i int) int64 { return 100 - 7*int64(i) }),
		"alternating sign": seq(1000, func(i int) int64 { return int64(1 - 2*(i%2)) }),
		"alternating extremes": seq(1000, func(i int) int64 {
			if i%2 == 0 {
				return math.MinInt64
			}
			return math.MaxInt64
		}),
		"extremes and zero": seq(999, func(i int) int64 { return []int64{math.MinInt64, 0, math.MaxInt64}[i%3] }),
		"huge deltas":       seq(1000, func(int) int64 { return int64(r.Uint64()) }),
		"random walk":       walkInts(r, 1000),
		"counter":           counterInts(r, 1000),
		"counter reset": func() []int64 {
			v := counterInts(r, 1000)
			for i := 500; i < len(v); i++ {
				v[i] -= v[499]
			}
			return v
		}(),
		"one outlier":  seq(1000, func(i int) int64 { return int64(i/999) << 62 }),
		"noise band":   seq(1000, func(int) int64 { return 1_000_000 + r.Int64N(16) }),
		"multiples":    seq(1000, func(int) int64 { return r.Int64N(1000) * 1000 }),
		"powers of 2":  seq(64, func(i int) int64 { return 1 << i }),
		"zero runs":    seq(1000, func(i int) int64 { return int64(i / 300) }),
		"sparse":       seq(1000, func(i int) int64 { return int64(boolInt(i%97 == 0)) }),
		"wide escapes": seq(1000, func(i int) int64 { return int64(i%2) + int64(boolInt(i%100 == 0))<<40 }),
		"above stack":  walkInts(r, 3000),
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) { roundTrip(t, intCol, v) })
	}
	// Every length up to 300 crosses every simple8b and bit-packing tail.
	for n := range 300 {
		roundTrip(t, intCol, walkInts(r, n))
		roundTrip(t, intCol, seq(n, func(int) int64 { return r.Int64N(1 << (n % 63)) }))
	}
}

func TestTimestampsRoundTrip(t *testing.T) {
	r := newRand(2)
	cases := map[string][]int64{
		"empty":       {},
		"one":         {1_700_000_000_000_000_000},
		"regular":     regularTimes(1000),
		"jitter":      jitterTimes(r, 1000),
		"jitter ms":   jitterMsTimes(r, 1000),
		"descending":  seq(1000, func(i int) int64 { return 1e18 - int64(i)*1e9 }),
		"duplicates":  seq(1000, func(i int) int64 { return 1e18 + int64(i/3)*1e9 }),
		"all equal":   slices.Repeat([]int64{1e18}, 1000),
		"gap":         seq(1000, func(i int) int64 { return int64(i)*1e9 + int64(i/500)*86400e9 }),
		"unsorted":    seq(1000, func(int) int64 { return r.Int64N(1e18) }),
		"full range":  {math.MinInt64 + 2, -1, 0, 1, math.MaxInt64},
		"second prec": seq(1000, func(i int) int64 { return 1.6e18 + int64(i)*10e9 + r.Int64N(3)*1e9 }),
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) { roundTrip(t, timeCol, v) })
	}
}

func TestUnsignedsRoundTrip(t *testing.T) {
	r := newRand(3)
	cases := map[string][]uint64{
		"empty":      {},
		"one max":    {math.MaxUint64},
		"zero max":   {0, math.MaxUint64, 0, math.MaxUint64},
		"above 2^63": seq(1000, func(i int) uint64 { return 1<<63 + uint64(i)*3 + uint64(r.IntN(2)) }),
		"random":     seq(1000, func(int) uint64 { return r.Uint64() }),
		"counter":    seq(1000, func(i int) uint64 { return uint64(i) * 1500 }),
		"small":      seq(1000, func(int) uint64 { return uint64(r.IntN(4)) }),
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) { roundTrip(t, uintCol, v) })
	}
}

func TestFloatsRoundTrip(t *testing.T) {
	r := newRand(4)
	nan := math.NaN()
	quietNaN := math.Float64frombits(0x7ff8000000000001)
	signalNaN := math.Float64frombits(0x7ff0000000000001)
	negNaN := math.Float64frombits(0xfff8000000000000)
	negZero := math.Copysign(0, -1)
	sub := math.SmallestNonzeroFloat64
	cases := map[string][]float64{
		"empty":           {},
		"one":             {1.5},
		"one NaN":         {nan},
		"NaN payloads":    {quietNaN, signalNaN, negNaN, nan, 1, quietNaN},
		"infinities":      {math.Inf(1), math.Inf(-1), 0, math.Inf(1)},
		"zeros":           {0, negZero, 0, negZero, negZero},
		"only neg zero":   {negZero, negZero},
		"subnormals":      {sub, 2 * sub, 3 * sub, math.Float64frombits(0x000fffffffffffff), -sub},
		"extremes":        {math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, 1e308, -1e-308},
		"NaN in decimals": {1.25, 2.5, nan, 3.75},
		"decimals":        {12.34, 0.01, -7.5, 100, 0},
		"integral":        seq(1000, func(i int) float64 { return float64(i * 3) }),
		"mantissa limit":  {9e15, 0.1},
		"2^53 edge":       {1 << 53, -(1 << 53), 1<<53 + 2},
		"tiny decimals":   {1e-15, 2e-15, 3e-15},
		"gauge":           gaugeFloats(r, 1000),
		"walk":            walkFloats(r, 1000),
		"constant":        slices.Repeat([]float64{0.1}, 1000),
		"random bits":     seq(1000, func(int) float64 { return math.Float64frombits(r.Uint64()) }),
		"NaN walk": func() []float64 {
			v := walkFloats(r, 1000)
			for i := 0; i < len(v); i += 7 {
				v[i] = nan
			}
			return v
		}(),
		"above stack": gaugeFloats(r, 2000),
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) { roundTrip(t, floatCol, v) })
	}
	for n := range 200 {
		roundTrip(t, floatCol, walkFloats(r, n))
		roundTrip(t, floatCol, gaugeFloats(r, n))
	}
}

func TestBooleansRoundTrip(t *testing.T) {
	r := newRand(5)
	cases := map[string][]bool{
		"empty":       {},
		"one true":    {true},
		"one false":   {false},
		"nine":        {true, false, true, true, false, false, true, false, true},
		"all true":    slices.Repeat([]bool{true}, 1000),
		"all false":   slices.Repeat([]bool{false}, 1000),
		"alternating": seq(1000, func(i int) bool { return i%2 == 0 }),
		"random":      randomBools(r, 1000),
		"flag":        flagBools(r, 1000),
		"long runs":   seq(100_000, func(i int) bool { return i/30_000%2 == 1 }),
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) { roundTrip(t, boolCol, v) })
	}
	for n := range 100 {
		roundTrip(t, boolCol, randomBools(r, n))
		roundTrip(t, boolCol, flagBools(r, n))
	}
}

func TestStringsRoundTrip(t *testing.T) {
	r := newRand(6)
	cases := map[string][]string{
		"empty":        {},
		"one empty":    {""},
		"many empty":   slices.Repeat([]string{""}, 1000),
		"one":          {"hello"},
		"unicode":      {"héllo", "世界", "🙂", "\u0000", "a\"b\\c"},
		"binary":       {"\x00\x01\xff", string([]byte{0xc3, 0x28}), "\xff\xfe\xfd"},
		"long":         {strings.Repeat("abcdefghij", 10_000), "x", strings.Repeat("z", 70_000)},
		"log":          logStrings(r, 1000),
		"enum":         enumStrings(r, 1000),
		"all same":     slices.Repeat([]string{"same value"}, 1000),
		"all distinct": seq(1000, func(i int) string { return fmt.Sprintf("host-%d.example.com", i) }),
		"two values":   {"a", "b"},
		"above stack":  enumStrings(r, 3000),
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) { roundTrip(t, strCol, v) })
	}
	for n := range 60 {
		roundTrip(t, strCol, logStrings(r, n))
		roundTrip(t, strCol, enumStrings(r, n))
	}
}

// TestMaxValues checks the largest column that decoders accept.
func TestMaxValues(t *testing.T) {
	if testing.Short() {
		t.Skip("large columns")
	}
	r := newRand(7)
	roundTripNoCuts(t, intCol, walkInts(r, codec.MaxValues))
	roundTripNoCuts(t, floatCol, gaugeFloats(r, codec.MaxValues))
	roundTripNoCuts(t, boolCol, randomBools(r, codec.MaxValues))
	roundTripNoCuts(t, timeCol, regularTimes(codec.MaxValues))
}

func roundTripNoCuts[T any](t *testing.T, c column[T], v []T) {
	t.Helper()
	got, err := c.dec(nil, c.enc(nil, v))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	checkEqual(t, c, got, v)
}

// TestEncodersPanicAboveMaxValues pins the documented contract: more values
// than a decoder accepts is a caller bug, not a column.
func TestEncodersPanicAboveMaxValues(t *testing.T) {
	defer func() {
		msg, _ := recover().(string)
		if !strings.HasPrefix(msg, "BUG:") {
			t.Fatalf("recover() = %q, want a BUG panic", msg)
		}
	}()
	codec.AppendBooleans(nil, make([]bool, codec.MaxValues+1))
}

func seq[T any](n int, f func(int) T) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
