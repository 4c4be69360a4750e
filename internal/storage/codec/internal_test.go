package codec

import (
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/klauspost/compress/s2"
)

func TestBitStream(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	type item struct {
		v uint64
		k uint
	}
	var items []item
	for range 5000 {
		k := uint(r.IntN(65))
		v := r.Uint64() & (1<<k - 1)
		if k == 64 {
			v = r.Uint64()
		}
		items = append(items, item{v, k})
	}
	w := bitWriter{dst: []byte{0xaa}}
	total := 0
	for _, it := range items {
		w.writeWide(it.v, it.k)
		total += int(it.k)
	}
	out := w.finish()
	if out[0] != 0xaa || len(out) != 1+(total+7)/8 {
		t.Fatalf("writer produced %d bytes for %d bits", len(out), total)
	}
	rd := newBitReader(out[1:])
	for i, it := range items {
		got, ok := rd.readWide(it.k)
		if !ok || got != it.v {
			t.Fatalf("item %d (%d bits): got %#x ok=%v, want %#x", i, it.k, got, ok, it.v)
		}
	}
	if !rd.done() {
		t.Fatalf("reader not done after all items")
	}
	if _, ok := rd.read(8); ok {
		t.Fatalf("read past the end succeeded")
	}
}

func TestSimple8b(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := range 700 {
		v := make([]uint64, n)
		for i := range v {
			switch r.IntN(4) {
			case 0: // zero runs
			case 1:
				v[i] = uint64(r.IntN(2))
			default:
				v[i] = r.Uint64() >> (4 + r.IntN(61))
			}
		}
		if n%7 == 0 {
			clear(v[n/3:])
		}
		b := appendS8(nil, v)
		if len(b) != s8Size(v) {
			t.Fatalf("n=%d: size %d, s8Size %d", n, len(b), s8Size(v))
		}
		got := make([]uint64, n)
		if err := unpackS8(got, b); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if !slices.Equal(got, v) {
			t.Fatalf("n=%d: round trip differs", n)
		}
	}
	// Each selector's capacity.
	if b := appendS8(nil, make([]uint64, 720)); len(b) != 24 || b[7]>>4 != 0 {
		t.Fatalf("720 zeros: %d bytes, first selector %d", len(b), b[7]>>4)
	}
	if b := appendS8(nil, append(make([]uint64, 120), 1)); len(b) != 16 || b[7]>>4 != 1 {
		t.Fatalf("120 zeros and a one: %d bytes, first selector %d", len(b), b[7]>>4)
	}
	for sel := 2; sel < 16; sel++ {
		k := s8Count[sel]
		v := make([]uint64, 3*k)
		for i := range v {
			if s8Bits[sel] > 0 {
				v[i] = 1<<s8Bits[sel] - 1
			}
		}
		if b := appendS8(nil, v); len(b) != 24 || b[7]>>4 != byte(sel) {
			t.Fatalf("selector %d: %d bytes, first selector %d", sel, len(b), b[7]>>4)
		}
	}
	bad := map[string]struct {
		n   int
		src []byte
	}{
		"partial word":   {1, []byte{1, 2, 3}},
		"unused word":    {1, binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 15<<60|7), 15<<60)},
		"too few words":  {3, binary.LittleEndian.AppendUint64(nil, 15<<60|7)},
		"capacity check": {241, make([]byte, 8)},
	}
	for name, c := range bad {
		if err := unpackS8(make([]uint64, c.n), c.src); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
}

func TestHuffLengthsLimit(t *testing.T) {
	// Fibonacci frequencies give the deepest unconstrained tree.
	freq := make([]int, 40)
	a, b := 1, 1
	for i := range freq {
		freq[i] = a
		a, b = b, a+b
		if a > 1<<40 {
			a = 1 << 40
		}
	}
	lens := make([]uint8, len(freq))
	huffLengths(freq, lens)
	kraft := 0.0
	for s, l := range lens {
		if l == 0 || l > huffMaxLen {
			t.Fatalf("symbol %d: length %d", s, l)
		}
		kraft += math.Ldexp(1, -int(l))
	}
	if kraft > 1 {
		t.Fatalf("Kraft sum %v > 1", kraft)
	}
	// A two-symbol skewed distribution still gets one bit each.
	lens = make([]uint8, 3)
	huffLengths([]int{1000, 0, 1}, lens)
	if !slices.Equal(lens, []uint8{1, 0, 1}) {
		t.Fatalf("lengths %v", lens)
	}
}

func TestHuffmanRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for n := 1; n < 2000; n += 1 + n/3 {
		u := make([]uint64, n)
		for i := range u {
			u[i] = uint64(r.ExpFloat64() * 3)
			if r.IntN(50) == 0 {
				u[i] = r.Uint64() >> r.IntN(64)
			}
		}
		p := planHuff(u, maxOf(u))
		b := appendHuff(nil, u, &p)
		if len(b) != p.size() {
			t.Fatalf("n=%d: size %d, planned %d", n, len(b), p.size())
		}
		got := make([]uint64, n)
		if err := unpackHuff(got, b); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if !slices.Equal(got, u) {
			t.Fatalf("n=%d: round trip differs", n)
		}
	}
}

func TestWidthCodeRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for n := 1; n < 3000; n += 1 + n/2 {
		u := make([]uint64, n)
		var hist [65]int
		maxU := uint64(0)
		for i := range u {
			u[i] = r.Uint64() >> r.IntN(65)
			if r.IntN(3) == 0 {
				u[i] = uint64(r.IntN(3))
			}
			hist[bits.Len64(u[i])]++
			maxU = max(maxU, u[i])
		}
		p := planWidths(&hist, widthOf(maxU))
		b := appendWidths(nil, u, &p)
		if len(b) != p.size() {
			t.Fatalf("n=%d: size %d, planned %d", n, len(b), p.size())
		}
		got := make([]uint64, n)
		if err := unpackWidths(got, b); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if !slices.Equal(got, u) {
			t.Fatalf("n=%d: round trip differs", n)
		}
	}
}

func TestExactDivider(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 10000 {
		g := r.Uint64() >> r.IntN(64)
		g = max(g, 1)
		q := r.Uint64() >> bits.Len64(g) // q*g < 2^64
		d := newExactDivider(g)
		if got := d.unsigned(q * g); got != q {
			t.Fatalf("unsigned %d*%d / %d = %d", q, g, g, got)
		}
		sq := int64(q >> 1) // |sq*g| < 2^63
		if r.IntN(2) == 0 {
			sq = -sq
		}
		if got := d.signed(sq * int64(g)); got != sq {
			t.Fatalf("signed %d*%d / %d = %d", sq, g, g, got)
		}
	}
}

func TestGCD(t *testing.T) {
	cases := [][3]uint64{{0, 0, 0}, {0, 5, 5}, {12, 18, 6}, {1 << 63, 1 << 40, 1 << 40}, {1e9, 3e9, 1e9}, {17, 5, 1}}
	for _, c := range cases {
		if got := gcd(c[0], c[1]); got != c[2] {
			t.Fatalf("gcd(%d, %d) = %d, want %d", c[0], c[1], got, c[2])
		}
	}
}

// col builds a column from a header byte, a count and payload parts.
func col(hdr byte, n uint64, parts ...[]byte) []byte {
	b := binary.AppendUvarint([]byte{hdr}, n)
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func uv(v uint64) []byte { return binary.AppendUvarint(nil, v) }
func sv(v int64) []byte  { return binary.AppendVarint(nil, v) }

func TestDecodeHostile(t *testing.T) {
	word := func(w uint64) []byte { return binary.LittleEndian.AppendUint64(nil, w) }
	ints := map[string][]byte{
		"empty":               {},
		"no count":            {0x10},
		"bad count varint":    {0x10, 0x80},
		"count above limit":   col(0x10, MaxValues+1),
		"zero nibble":         col(0x00, 0),
		"float nibble":        col(0x50, 1, word(0)),
		"raw short":           col(0x10, 2, word(1)),
		"raw param":           col(0x11, 1, word(1)),
		"run trailing":        col(0x20, 3, sv(1), sv(1), []byte{0}),
		"run short":           col(0x20, 3, sv(1)),
		"delta gcd zero":      col(0x30, 3, sv(0), sv(0), uv(0), word(2<<60)),
		"delta packing 3":     col(0x33, 3, sv(0), sv(0), uv(1), word(0)),
		"delta param 8":       col(0x38, 3, sv(0), sv(0), uv(1), word(0)),
		"frame zigzag":        col(0x44, 3, sv(0), uv(1), word(0)),
		"s8 count huge":       col(0x30, MaxValues, sv(0), sv(0), uv(1), word(0)),
		"s8 count short":      col(0x30, 500, sv(0), sv(0), uv(1), word(0), word(0)),
		"empty with payload":  col(0x30, 0, sv(0)),
		"bitpack width 0":     col(0x31, 9, sv(0), sv(0), uv(1), []byte{0}),
		"bitpack width 65":    col(0x31, 2, sv(0), sv(0), uv(1), []byte{65}, word(0), word(0), word(0)),
		"bitpack short":       col(0x31, 9, sv(0), sv(0), uv(1), []byte{8}, make([]byte, 7)),
		"bitpack padding":     col(0x31, 2, sv(0), sv(0), uv(1), []byte{4, 0xf0}),
		"huff alphabet 0":     col(0x32, 2, sv(0), sv(0), uv(1), []byte{0, 0}),
		"huff alphabet 65":    col(0x32, 2, sv(0), sv(0), uv(1), []byte{65, 0}),
		"huff escape 65":      col(0x32, 2, sv(0), sv(0), uv(1), []byte{2, 65, 0x11, 0}),
		"huff length 13":      col(0x32, 2, sv(0), sv(0), uv(1), []byte{2, 0, 0x1d, 0}),
		"huff oversubscribed": col(0x32, 2, sv(0), sv(0), uv(1), []byte{3, 0, 0x11, 0x01, 0}),
		"huff no code":        col(0x32, 2, sv(0), sv(0), uv(1), []byte{2, 0, 0x00, 0}),
		"huff table padding":  col(0x32, 2, sv(0), sv(0), uv(1), []byte{1, 0, 0x11, 0}),
		"huff count huge":     col(0x32, 100, sv(0), sv(0), uv(1), []byte{2, 0, 0x11, 0}),
		"huff incomplete":     col(0x32, 2, sv(0), sv(0), uv(1), []byte{2, 0, 0x20, 0x03}),
		"huff padding":        col(0x32, 2, sv(0), sv(0), uv(1), []byte{2, 0, 0x11, 0xf2}),
	}
	for name, src := range ints {
		if _, err := DecodeIntegers(nil, src); !errors.Is(err, ErrCorrupt) {
			t.Errorf("integers %s: err = %v, want ErrCorrupt", name, err)
		}
	}
	floats := map[string][]byte{
		"decimal count differs": col(0x62, 2, col(0x20, 3, sv(1), sv(0))),
		"decimal of floats":     col(0x62, 1, col(0x50, 1, word(0))),
		"decimal trailing":      col(0x62, 1, col(0x20, 1, sv(1), sv(0)), []byte{0}),
		"gorilla count huge":    col(0x50, MaxValues, word(0), word(0)),
		"gorilla short":         col(0x50, 1, []byte{1, 2, 3}),
		"gorilla window":        col(0x50, 2, word(0), []byte{0xff, 0x1f}),
		"boolean nibble":        col(0x70, 1, []byte{1}),
		"gorilla param":         col(0x51, 1, word(0)),
	}
	for name, src := range floats {
		if _, err := DecodeFloats(nil, src); !errors.Is(err, ErrCorrupt) {
			t.Errorf("floats %s: err = %v, want ErrCorrupt", name, err)
		}
	}
	bools := map[string][]byte{
		"bitmap short":    col(0x70, 9, []byte{0xff}),
		"bitmap padding":  col(0x70, 3, []byte{0x08}),
		"runs zero run":   col(0x80, 3, []byte{1}, uv(3), uv(0)),
		"runs overflow":   col(0x80, 3, []byte{1}, uv(2), uv(2)),
		"runs short":      col(0x80, 3, []byte{1}, uv(2)),
		"runs first 2":    col(0x80, 3, []byte{2}, uv(3)),
		"runs no first":   col(0x80, 3),
		"runs bad varint": col(0x80, 3, []byte{1, 0x80}),
		"runs huge":       col(0x80, MaxValues, []byte{1}, uv(MaxValues-1)),
		"runs empty tail": col(0x80, 0, []byte{1}),
	}
	for name, src := range bools {
		if _, err := DecodeBooleans(nil, src); !errors.Is(err, ErrCorrupt) {
			t.Errorf("booleans %s: err = %v, want ErrCorrupt", name, err)
		}
	}
	lens := func(ls ...int64) []byte {
		c := AppendIntegers(nil, ls)
		return append(uv(uint64(len(c))), c...)
	}
	snappyOf := func(s string) []byte { return appendSnappyForTest([]byte(s)) }
	strs := map[string][]byte{
		"nested too long":    col(0x90, 1, uv(50), []byte{1}),
		"lengths count":      col(0x90, 2, lens(1), []byte("a")),
		"data short":         col(0x90, 1, lens(5), []byte("abc")),
		"data long":          col(0x90, 1, lens(2), []byte("abc")),
		"negative length":    col(0x90, 2, lens(-1, 2), []byte("a")),
		"lengths overflow":   col(0x90, 2, lens(math.MaxInt64, math.MaxInt64), []byte("ab")),
		"snappy ratio":       col(0xa0, 1, lens(1<<30), snappyOf("aaaa")),
		"snappy size":        col(0xa0, 1, lens(5), snappyOf("abcd")),
		"snappy garbage":     col(0xa0, 1, lens(4), []byte{4, 0xff, 0xff, 0xff, 0xff}),
		"dict in dict":       col(0xb0, 1, nestedDictForTest(), AppendUnsigneds(nil, []uint64{0})),
		"dict index":         col(0xb0, 2, nestedStringsForTest("a"), AppendUnsigneds(nil, []uint64{0, 1})),
		"dict count":         col(0xb0, 2, nestedStringsForTest("a"), AppendUnsigneds(nil, []uint64{0})),
		"dict bad nested":    col(0xb0, 2, uv(3), []byte{0x90, 5, 0}),
		"strings param":      col(0x91, 1, lens(1), []byte("a")),
		"strings integer":    col(0x20, 1, sv(0), sv(0)),
		"empty with payload": col(0x90, 0, []byte{0}),
	}
	for name, src := range strs {
		if _, err := DecodeStrings(nil, src); !errors.Is(err, ErrCorrupt) {
			t.Errorf("strings %s: err = %v, want ErrCorrupt", name, err)
		}
	}
}

// appendSnappyForTest returns a snappy block as the encoder writes them.
func appendSnappyForTest(b []byte) []byte { return s2.EncodeSnappyBetter(nil, b) }

func nestedStringsForTest(v ...string) []byte {
	c := appendStrings(nil, v, false)
	return append(uv(uint64(len(c))), c...)
}

func nestedDictForTest() []byte {
	c := col(0xb0, 1, nestedStringsForTest("a"), AppendUnsigneds(nil, []uint64{0}))
	return append(uv(uint64(len(c))), c...)
}

// TestHostileCountsDoNotAllocate checks that a tiny input claiming many
// values is rejected before anything is allocated for them.
func TestHostileCountsDoNotAllocate(t *testing.T) {
	word := binary.LittleEndian.AppendUint64(nil, 0)
	inputs := [][]byte{
		col(0x30, MaxValues, sv(0), sv(0), uv(1), word),
		col(0x32, MaxValues, sv(0), sv(0), uv(1), []byte{2, 0, 0x11, 0}),
		col(0x10, MaxValues, word),
		col(0x50, MaxValues, word, word),
		col(0x70, MaxValues, word),
		col(0x80, MaxValues, []byte{1}, uv(5)),
		col(0xa0, 1, uv(10), col(0x20, 1, sv(1<<40), sv(0)), []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x10, 0}),
	}
	for i, src := range inputs {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err1 := DecodeIntegers(nil, src)
		_, err2 := DecodeFloats(nil, src)
		_, err3 := DecodeBooleans(nil, src)
		_, err4 := DecodeStrings(nil, src)
		runtime.ReadMemStats(&after)
		if err1 == nil && err2 == nil && err3 == nil && err4 == nil {
			t.Fatalf("input %d decoded", i)
		}
		if d := after.TotalAlloc - before.TotalAlloc; d > 64<<10 {
			t.Fatalf("input %d: decoders allocated %d bytes", i, d)
		}
	}
}

// TestS8NextMatchesReference checks the table-driven selector choice
// against the plain definition: the first selector, in order of capacity,
// whose values all fit (a partly used word only at the end).
func TestS8NextMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for range 20000 {
		n := 1 + r.IntN(300)
		v := make([]uint64, n)
		maxBits := r.IntN(61)
		for i := range v {
			if r.IntN(3) > 0 {
				v[i] = r.Uint64() >> (64 - r.IntN(maxBits+1)) & (1<<60 - 1)
			}
		}
		want := -1
		for sel := range 16 {
			k := min(s8Count[sel], n)
			ok := true
			for _, x := range v[:k] {
				ok = ok && bits.Len64(x) <= int(s8Bits[sel])
			}
			if ok {
				want = k
				break
			}
		}
		sel, k := s8Next(v)
		if k != want {
			t.Fatalf("%v: s8Next took %d values, want %d", v, k, want)
		}
		for _, x := range v[:k] {
			if bits.Len64(x) > int(s8Bits[sel]) || k > s8Count[sel] {
				t.Fatalf("%v: selector %d cannot hold the %d values", v, sel, k)
			}
		}
	}
}

func TestGCDAcc(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for range 2000 {
		unit := max(1, r.Uint64()>>r.IntN(64))
		var a gcdAcc
		want := uint64(0)
		for range 1 + r.IntN(20) {
			x := unit * (r.Uint64() >> (bits.Len64(unit) + r.IntN(8)))
			if r.IntN(10) == 0 {
				x = r.Uint64()
			}
			a.add(x)
			want = gcd(want, x)
			if a.g != want {
				t.Fatalf("gcdAcc = %d, want %d", a.g, want)
			}
		}
	}
}
