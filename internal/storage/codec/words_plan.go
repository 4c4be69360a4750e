package codec

import "math/bits"

// Choosing how to encode a 64-bit column: candidate transforms, their
// parameters, and the packing of their numbers.

// wordPlan is one way to encode a column that is not run-length.
type wordPlan struct {
	enc    byte   // encDelta or encFrame
	zz     bool   // delta only: zig-zag around base
	base   uint64 // subtracted before dividing
	slope  uint64 // frame only: subtracted i times from value i
	g      uint64 // greatest common divisor, ≥ 1
	width  uint   // width of the widest number, an estimate before packing
	pack   byte
	size   int // whole column in bytes
	huff   huffPlan
	widths widthPlan
}

// packPlan sizes the packings of candidate p and makes it best if one of
// them is smaller. u is scratch space for the numbers.
func packPlan(best *wordPlan, p wordPlan, u, x []uint64) {
	h := headerLen(len(x)) + uvarintLen(p.g) + varintLen(int64(p.base))
	if p.enc == encDelta {
		h += varintLen(int64(x[0]))
	} else if p.slope != 0 {
		h += varintLen(int64(p.slope))
	}
	if h >= best.size {
		return
	}
	m := transform(u, x, &p)
	// Statistics for exact bit packing and lower bounds of the others.
	var hist [65]int
	maxU := uint64(0)
	for _, v := range m {
		hist[bits.Len64(v)]++
		maxU = max(maxU, v)
	}
	width := widthOf(maxU)
	if width > 0 {
		if s := h + bitpackSize(len(m), width); s < best.size {
			p.pack, p.size = packBits, s
			*best = p
		}
		// The width code's size follows from the histogram alone.
		if wp := planWidths(&hist, width); h+wp.size() < best.size {
			p.pack, p.size, p.widths = packWidths, h+wp.size(), wp
			*best = p
		}
	}
	// Huffman spends a bit on every number, and an escape's code plus the
	// full width on numbers from 63 up.
	lowBits := len(m)
	if maxU >= huffMaxSymbols {
		esc := 0
		for w := 7; w <= 64; w++ { // from 64 up: a lower bound of the escapes
			esc += hist[w]
		}
		lowBits += esc * int(width)
	}
	if h+2+lowBits/8 < best.size {
		hp := planHuff(m, maxU)
		if s := h + hp.size(); s < best.size {
			p.pack, p.size, p.huff = packHuff, s, hp
			*best = p
		}
	}
	// Simple8b spends at least 64/capacity bits on a number of each width
	// (a zero may sit in a run of 240).
	if maxU < s8Max {
		low := float64(hist[0]) * 64 / 240
		for w := 1; w <= int(width); w++ {
			low += float64(hist[w]) * 64 / float64(s8Count[s8SelOf[w]])
		}
		if h+int(low/8) < best.size {
			if s := h + s8Size(m); s < best.size {
				p.pack, p.size = packS8, s
				*best = p
			}
		}
	}
}

// transform fills u with the numbers plan p packs and returns them.
func transform(u, x []uint64, p *wordPlan) []uint64 {
	div := newExactDivider(p.g)
	if p.enc == encFrame {
		u = u[:len(x)]
		line := p.base
		for i, v := range x {
			u[i] = div.unsigned(v - line)
			line += p.slope
		}
		return u
	}
	u = u[:len(x)-1]
	if p.zz {
		for i := range u {
			u[i] = zigzag(div.signed(int64(x[i+1] - x[i] - p.base)))
		}
		return u
	}
	for i := range u {
		u[i] = div.unsigned(x[i+1] - x[i] - p.base)
	}
	return u
}

// gcdDelta returns the greatest common divisor of the differences minus
// base (of their absolute values when signed), at least 1.
func gcdDelta(x []uint64, base uint64, signed bool) uint64 {
	var a gcdAcc
	for i := 1; i < len(x) && a.g != 1; i++ {
		e := x[i] - x[i-1] - base
		if signed && int64(e) < 0 {
			e = -e
		}
		a.add(e)
	}
	return max(a.g, 1)
}

// gcdFrame returns the greatest common divisor of the values minus the line
// base + i×slope, at least 1.
func gcdFrame(x []uint64, base, slope uint64) uint64 {
	var a gcdAcc
	line := base
	for i := 0; i < len(x) && a.g != 1; i++ {
		a.add(x[i] - line)
		line += slope
	}
	return max(a.g, 1)
}

// gcdAcc accumulates a greatest common divisor. Most numbers are already
// multiples of the divisor so far (timestamps of millisecond precision all
// divide by 1e6), and that test is a multiplication, while the gcd itself
// takes dozens of steps.
type gcdAcc struct {
	g    uint64
	mask uint64 // the low bits that must be zero: g's factor of two, minus 1
	div  exactDivider
	lim  uint64 // y is a multiple of g's odd part iff y×inverse ≤ lim
}

func (a *gcdAcc) add(x uint64) {
	if a.g == 0 {
		if x == 0 {
			return
		}
	} else if x&a.mask == 0 && (x>>a.div.shift)*a.div.inv <= a.lim {
		return
	}
	a.g = gcd(a.g, x)
	a.div = newExactDivider(a.g)
	a.mask = 1<<a.div.shift - 1
	a.lim = ^uint64(0) / (a.g >> a.div.shift)
}

// slopePlan is the frame around the line through x[0] with the given
// slope, lowered to pass under every value; it returns the plan, the span of
// the offsets above the line and no extra width, for add.
func slopePlan(x []uint64, slope uint64) (wordPlan, uint64, uint) {
	low, high := int64(x[0]), int64(x[0])
	line := uint64(0)
	for _, v := range x {
		low, high = min(low, int64(v-line)), max(high, int64(v-line))
		line += slope
	}
	p := wordPlan{enc: encFrame, base: uint64(low), slope: slope, g: gcdFrame(x, uint64(low), slope)}
	return p, uint64(high - low), 0
}

// roundSignificant rounds v to two significant decimal digits.
func roundSignificant(v uint64) uint64 {
	s := int64(v)
	neg := s < 0
	if neg {
		s = -s
	}
	if s < 100 { // also MinInt64, whose negation overflows
		return v
	}
	p := int64(1)
	for s/p >= 100 {
		p *= 10
	}
	r := (s + p/2) / p * p
	if neg {
		r = -r
	}
	return uint64(r)
}

// gcd is Stein's binary algorithm; gcd(0, b) = b.
func gcd(a, b uint64) uint64 {
	if a == 0 {
		return b
	}
	if b == 0 {
		return a
	}
	shift := bits.TrailingZeros64(a | b)
	a >>= bits.TrailingZeros64(a)
	for b != 0 {
		b >>= bits.TrailingZeros64(b)
		if a > b {
			a, b = b, a
		}
		b -= a
	}
	return a << shift
}

// medianDelta estimates the median difference from a sample of at most 31.
func medianDelta(x []uint64) int64 {
	var s [31]int64
	n := len(x) - 1
	stride := max(1, n/len(s))
	k := 0
	for i := 1; i < len(x) && k < len(s); i += stride {
		s[k] = int64(x[i] - x[i-1])
		k++
	}
	for i := 1; i < k; i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[k/2]
}

// exactDivider divides by g numbers known to be multiples of g, with a
// shift and a multiplication by the inverse of g's odd part modulo 2^64.
type exactDivider struct {
	shift uint
	inv   uint64
}

func newExactDivider(g uint64) exactDivider {
	s := uint(bits.TrailingZeros64(g))
	o := g >> s
	inv := o // correct to 3 bits for odd o; Newton doubles that each step
	for range 5 {
		inv *= 2 - o*inv
	}
	return exactDivider{shift: s, inv: inv}
}

func (d exactDivider) unsigned(v uint64) uint64 { return (v >> d.shift) * d.inv }
func (d exactDivider) signed(v int64) int64     { return int64(uint64(v>>d.shift) * d.inv) }
