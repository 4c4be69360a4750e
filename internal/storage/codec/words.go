package codec

import (
	"encoding/binary"
)

// The 64-bit column encoder shared by timestamps, integers, unsigned
// integers and decimal mantissas. Values are handled as bit patterns; the
// signed view matters only for choosing bases and for zig-zag.
//
// Payloads after the header (all varints of signed quantities are zig-zag):
//
//	raw    0x1, param 0:  n × 8 bytes little endian
//	run    0x2, param 0:  varint first, varint step
//	delta  0x3, param zpp: varint first, varint base, uvarint gcd, packing of
//	       the n-1 numbers u[i] where x[i]-x[i-1] = base + gcd×f(u[i]),
//	       f = identity (z=0) or un-zig-zag (z=1)
//	frame  0x4, param 0spp: varint base, [varint slope if s=1], uvarint gcd,
//	       packing of the n numbers u[i] where x[i] = base + i×slope + gcd×u[i]
//	       (slope 0 when s=0)
//
// pp names the packing: 0 simple8b, 1 bit packing, 2 Huffman over the
// numbers, 3 Huffman over their widths. A frame with
// a slope is the offset of each value from a line: for timestamps on a
// schedule with jitter it needs half the range of the differences, which
// subtract one jitter from the next.

// Packings, the low two bits of the delta and frame parameters.
const (
	packS8     = 0
	packBits   = 1
	packHuff   = 2
	packWidths = 3
	paramZZ    = 0x4 // delta: numbers are zig-zagged
	paramSlope = 0x4 // frame: a slope follows the base
)

// wordStackLen is the column length up to which the encoder's scratch space
// lives on the stack; data blocks hold about 1000 values.
const wordStackLen = 1024

// appendWords encodes x.
func appendWords(dst []byte, x []uint64) []byte {
	n := len(x)
	if n == 0 {
		return appendHeader(dst, encRaw, 0, 0)
	}
	rawSize := headerLen(n) + 8*n

	// Constant step (including constant values and n ≤ 2): run-length.
	step := uint64(0)
	if n > 1 {
		step = x[1] - x[0]
	}
	constant := true
	for i := 2; i < n; i++ {
		if x[i]-x[i-1] != step {
			constant = false
			break
		}
	}
	if constant {
		first, s := int64(x[0]), int64(step)
		if headerLen(n)+varintLen(first)+varintLen(s) <= rawSize {
			dst = appendHeader(dst, encRun, 0, n)
			dst = binary.AppendVarint(dst, first)
			return binary.AppendVarint(dst, s)
		}
		return appendRaw(dst, x)
	}

	// One pass for the bounds that size every candidate.
	minD, maxD := int64(x[1]-x[0]), int64(x[1]-x[0])
	minX, maxX := int64(x[0]), int64(x[0])
	for i := 1; i < n; i++ {
		d := int64(x[i] - x[i-1])
		minD, maxD = min(minD, d), max(maxD, d)
		minX, maxX = min(minX, int64(x[i])), max(maxX, int64(x[i]))
	}
	med := uint64(medianDelta(x))

	// The candidates, each with the width of its numbers (the spans are
	// computed modulo 2^64: a wrapped span only misjudges a candidate).
	var cands [5]wordPlan
	nc := 0
	add := func(p wordPlan, span uint64, extra uint) {
		p.width = widthOf(span/p.g) + extra
		cands[nc] = p
		nc++
	}
	// Delta, frame of reference around the smallest difference: best for
	// counters and timestamps, whose differences are one-sided.
	add(wordPlan{enc: encDelta, base: uint64(minD), g: gcdDelta(x, uint64(minD), false)}, uint64(maxD-minD), 0)
	// Delta, zig-zag around the typical difference: best for random walks,
	// and for counters with a reset (one huge negative difference would
	// widen every number of the frame above).
	add(wordPlan{enc: encDelta, zz: true, base: med, g: gcdDelta(x, med, true)}, max(uint64(maxD)-med, med-uint64(minD)), 1)
	// Frame of reference on the values: best when values are noise in a
	// narrow band, where differences are twice as wide as the values.
	add(wordPlan{enc: encFrame, base: uint64(minX), g: gcdFrame(x, uint64(minX), 0)}, uint64(maxX-minX), 0)
	// The same around a line through the typical difference, and through
	// that difference rounded to two significant digits (the schedule of
	// jittered timestamps, 10 s, rather than the median gap, 10.0004 s).
	if med != 0 {
		add(slopePlan(x, med))
		if nice := roundSignificant(med); nice != med && nice != 0 {
			add(slopePlan(x, nice))
		}
	}
	// Packing is the expensive part: only the candidates whose numbers are
	// nearly as narrow as the narrowest are packed, narrowest first.
	cs := cands[:nc]
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].width < cs[j-1].width; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}

	var stack [wordStackLen]uint64
	var u []uint64
	if n <= wordStackLen {
		u = stack[:n]
	} else {
		u = make([]uint64, n)
	}
	best := wordPlan{size: rawSize}
	for _, c := range cs {
		if c.width > cs[0].width+2 {
			break
		}
		packPlan(&best, c, u, x)
	}

	if best.enc == 0 {
		return appendRaw(dst, x)
	}
	m := transform(u, x, &best)
	param := best.pack
	if best.zz {
		param |= paramZZ
	}
	if best.slope != 0 {
		param |= paramSlope
	}
	dst = appendHeader(dst, best.enc, param, n)
	if best.enc == encDelta {
		dst = binary.AppendVarint(dst, int64(x[0]))
	}
	dst = binary.AppendVarint(dst, int64(best.base))
	if best.slope != 0 {
		dst = binary.AppendVarint(dst, int64(best.slope))
	}
	dst = binary.AppendUvarint(dst, best.g)
	switch best.pack {
	case packS8:
		return appendS8(dst, m)
	case packBits:
		return appendBitpack(dst, m, widthOf(maxOf(m)))
	case packHuff:
		return appendHuff(dst, m, &best.huff)
	default:
		return appendWidths(dst, m, &best.widths)
	}
}

func appendRaw(dst []byte, x []uint64) []byte {
	dst = appendHeader(dst, encRaw, 0, len(x))
	for _, v := range x {
		dst = binary.LittleEndian.AppendUint64(dst, v)
	}
	return dst
}

func maxOf(v []uint64) uint64 {
	m := uint64(0)
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

func varintLen(v int64) int { return uvarintLen(zigzag(v)) }
