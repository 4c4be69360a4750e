package codec

import (
	"fmt"
	"math/bits"
)

// Canonical Huffman codes over small numbers, in two packings.
//
// Direct: the symbols are the numbers themselves. Random walks and jittery
// counters produce differences whose distribution is far from uniform (for
// the TSBS cpu data, 0 ±1 ±2 are 95% of them), and a prefix code gets within
// 10% of their entropy (0.29 against 0.27 bytes per value, table included)
// where simple8b needs a third more (0.39).
//
//	byte  k      alphabet size, 1..64
//	byte  w      0: symbols 0..k-1 are the numbers themselves;
//	             1..64: symbol k-1 is an escape followed by the number in w bits
//	(k+1)/2 bytes code lengths
//	bit stream   codes and escaped numbers
//
// Widths: the symbols are the bit widths of the numbers (0..64), each
// followed by the number's bits below its leading one. It suits numbers too
// wide for direct symbols but still unevenly spread, such as the increments
// of a counter, where it saves most of the bits simple8b and bit packing
// spend on the width of the widest.
//
//	byte  k      alphabet size: widest width + 1, 1..65
//	(k+1)/2 bytes code lengths
//	bit stream   per number: the code of its width w, then its low w-1 bits
//
// Code lengths are one nibble per symbol (symbol 2i in the low nibble of
// byte i), 0 for unused symbols, at most huffMaxLen. Codes are canonical
// (ordered by length, then symbol) and written first bit first into the
// little-endian bit stream.

const (
	huffMaxSymbols = 65 // widths 0..64; direct codes use at most 64
	huffMaxDirect  = 64
	huffMaxLen     = 12 // bounds the decoding table to 4096 entries
)

// prefixCode is a canonical code for up to huffMaxSymbols symbols.
type prefixCode struct {
	k     int                    // alphabet size
	lens  [huffMaxSymbols]uint8  // code length per symbol, 0 if unused
	codes [huffMaxSymbols]uint16 // code per symbol, bit-reversed for LSB-first output
}

// build makes the code for symbols with the given frequencies (len ≤ 65).
func (c *prefixCode) build(freq []int) {
	c.k = len(freq)
	huffLengths(freq, c.lens[:c.k])
	var next [huffMaxLen + 1]uint16
	canonicalStarts(c.lens[:c.k], &next)
	for s, l := range c.lens[:c.k] {
		if l > 0 {
			c.codes[s] = bits.Reverse16(next[l]) >> (16 - l)
			next[l]++
		}
	}
}

// cost returns the bits the codes of symbols with these frequencies take.
func (c *prefixCode) cost(freq []int) int {
	n := 0
	for s, f := range freq {
		n += f * int(c.lens[s])
	}
	return n
}

// appendLengths appends the code lengths, two per byte.
func (c *prefixCode) appendLengths(dst []byte) []byte {
	for s := 0; s < c.k; s += 2 {
		b := c.lens[s]
		if s+1 < c.k {
			b |= c.lens[s+1] << 4
		}
		dst = append(dst, b)
	}
	return dst
}

// canonicalStarts sets next[l] to the first canonical code of length l.
func canonicalStarts(lens []uint8, next *[huffMaxLen + 1]uint16) {
	var count [huffMaxLen + 1]uint16
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0 // unused symbols
	code := uint16(0)
	for l := 1; l <= huffMaxLen; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
}

// huffLengths sets the code length of each symbol with a nonzero frequency,
// at most huffMaxLen. A lone symbol gets length 1 so that every value costs
// at least one bit, which lets the decoder bound the count by the input.
func huffLengths(freq []int, lens []uint8) {
	var sym [huffMaxSymbols]int // symbols with nonzero frequency, by weight
	var weight [2*huffMaxSymbols - 1]int
	m := 0
	for s, f := range freq {
		if f > 0 {
			sym[m] = s
			weight[m] = f
			m++
		}
	}
	switch m {
	case 0:
		return
	case 1:
		lens[sym[0]] = 1
		return
	}
	for {
		// Insertion sort of the leaves by weight (m ≤ 65).
		for i := 1; i < m; i++ {
			for j := i; j > 0 && weight[j] < weight[j-1]; j-- {
				weight[j], weight[j-1] = weight[j-1], weight[j]
				sym[j], sym[j-1] = sym[j-1], sym[j]
			}
		}
		// Inner nodes are created in nondecreasing weight order, so the
		// leaves and the inner nodes form two sorted queues: no heap needed.
		var parent [2*huffMaxSymbols - 1]int
		leaf, inner, next := 0, m, m
		pick := func() int {
			if leaf < m && (inner == next || weight[leaf] <= weight[inner]) {
				leaf++
				return leaf - 1
			}
			inner++
			return inner - 1
		}
		for next < 2*m-1 {
			a, b := pick(), pick()
			weight[next] = weight[a] + weight[b]
			parent[a], parent[b] = next, next
			next++
		}
		var depth [2*huffMaxSymbols - 1]uint8
		deepest := uint8(0)
		for i := 2*m - 3; i >= 0; i-- {
			depth[i] = depth[parent[i]] + 1
			if i < m {
				deepest = max(deepest, depth[i])
			}
		}
		if deepest <= huffMaxLen {
			for i := range m {
				lens[sym[i]] = depth[i]
			}
			return
		}
		// Too deep: flatten the distribution and build again. Halving
		// (rounding up) keeps every symbol and converges to equal weights.
		for i := range m {
			weight[i] = (weight[i] + 1) / 2
		}
	}
}

// huffPlan is a direct code built for one column.
type huffPlan struct {
	w    int // escape width, 0 without escapes
	code prefixCode
	bits int // size of the bit stream
}

// size is the payload size in bytes.
func (p *huffPlan) size() int { return 2 + (p.code.k+1)/2 + (p.bits+7)/8 }

// planHuff builds the direct code for u, whose largest value is maxU.
func planHuff(u []uint64, maxU uint64) huffPlan {
	var p huffPlan
	k := huffMaxDirect
	if maxU < huffMaxDirect {
		k = int(maxU) + 1
	} else {
		p.w = int(widthOf(maxU))
	}
	var freq [huffMaxDirect]int
	escapes := 0
	if p.w == 0 {
		for _, x := range u {
			freq[x]++
		}
	} else {
		esc := uint64(k - 1)
		for _, x := range u {
			if x >= esc {
				escapes++
				x = esc
			}
			freq[x]++
		}
	}
	p.code.build(freq[:k])
	p.bits = escapes*p.w + p.code.cost(freq[:k])
	return p
}

// appendHuff writes the direct payload for u with plan p.
func appendHuff(dst []byte, u []uint64, p *huffPlan) []byte {
	c := &p.code
	dst = append(dst, byte(c.k), byte(p.w))
	dst = c.appendLengths(dst)
	w := bitWriter{dst: dst}
	if p.w == 0 {
		for _, x := range u {
			w.write(uint64(c.codes[x]), uint(c.lens[x]))
		}
	} else {
		esc := uint64(c.k - 1)
		for _, x := range u {
			if x >= esc {
				w.write(uint64(c.codes[esc]), uint(c.lens[esc]))
				w.writeWide(x, uint(p.w))
				continue
			}
			w.write(uint64(c.codes[x]), uint(c.lens[x]))
		}
	}
	return w.finish()
}

// widthPlan is a code over the widths of a column's numbers.
type widthPlan struct {
	code prefixCode
	bits int
}

func (p *widthPlan) size() int { return 1 + (p.code.k+1)/2 + (p.bits+7)/8 }

// planWidths builds the width code from a histogram of the numbers'
// widths, hist[w] numbers of width w, the widest being width.
func planWidths(hist *[65]int, width uint) widthPlan {
	var p widthPlan
	freq := hist[:width+1]
	p.code.build(freq)
	p.bits = p.code.cost(freq)
	for w := 2; w < len(freq); w++ {
		p.bits += freq[w] * (w - 1)
	}
	return p
}

// appendWidths writes the width payload for u with plan p.
func appendWidths(dst []byte, u []uint64, p *widthPlan) []byte {
	c := &p.code
	dst = append(dst, byte(c.k))
	dst = c.appendLengths(dst)
	w := bitWriter{dst: dst}
	for _, x := range u {
		n := bits.Len64(x)
		w.write(uint64(c.codes[n]), uint(c.lens[n]))
		if n > 1 {
			w.writeWide(x, uint(n-1)) // the leading one is implied
		}
	}
	return w.finish()
}

// decodeTable maps the next tableBits bits of a stream to symbol<<4 | length;
// 0 marks bit patterns that start no code.
type decodeTable struct {
	t         [1 << huffMaxLen]uint16
	tableBits uint
}

// readCode reads k code lengths from src and builds the table; it returns
// the rest of src.
func (d *decodeTable) readCode(src []byte, k int) ([]byte, error) {
	if len(src) < (k+1)/2 {
		return nil, fmt.Errorf("short code table: %w", ErrCorrupt)
	}
	var lens [huffMaxSymbols]uint8
	var count [16]int
	maxLen := uint8(0)
	for s := range k {
		l := src[s/2] >> (4 * (s % 2)) & 0xf
		if l > huffMaxLen {
			return nil, fmt.Errorf("code length %d: %w", l, ErrCorrupt)
		}
		lens[s] = l
		count[l]++
		maxLen = max(maxLen, l)
	}
	if k%2 == 1 && src[k/2]>>4 != 0 {
		return nil, fmt.Errorf("nonzero code table padding: %w", ErrCorrupt)
	}
	if maxLen == 0 {
		return nil, fmt.Errorf("empty code: %w", ErrCorrupt)
	}
	// Kraft: an over-subscribed code is corrupt; an incomplete one leaves
	// entries 0, and a stream that hits one is corrupt.
	left := 1
	for l := 1; l <= huffMaxLen; l++ {
		left = left<<1 - count[l]
		if left < 0 {
			return nil, fmt.Errorf("over-subscribed code: %w", ErrCorrupt)
		}
	}
	var next [huffMaxLen + 1]uint16
	canonicalStarts(lens[:k], &next)
	size := 1 << maxLen
	for s := range k {
		l := lens[s]
		if l == 0 {
			continue
		}
		rev := int(bits.Reverse16(next[l]) >> (16 - l))
		next[l]++
		e := uint16(s)<<4 | uint16(l)
		for j := rev; j < size; j += 1 << l {
			d.t[j] = e
		}
	}
	d.tableBits = uint(maxLen)
	return src[(k+1)/2:], nil
}

// next decodes one symbol; ok is false at a bad code or the stream's end.
func (d *decodeTable) next(r *bitReader) (sym uint, ok bool) {
	if r.n < d.tableBits {
		r.refill()
	}
	e := d.t[r.buf&(1<<d.tableBits-1)]
	l := uint(e & 0xf)
	if l == 0 || l > r.n {
		return 0, false
	}
	r.buf >>= l
	r.n -= l
	return uint(e >> 4), true
}

// unpackHuff fills out from a direct payload, which must be used up exactly.
func unpackHuff(out []uint64, src []byte) error {
	if len(src) < 2 {
		return fmt.Errorf("huffman: short header: %w", ErrCorrupt)
	}
	k, w := int(src[0]), uint(src[1])
	if k == 0 || k > huffMaxDirect || w > 64 {
		return fmt.Errorf("huffman: alphabet %d escape width %d: %w", k, w, ErrCorrupt)
	}
	var d decodeTable
	src, err := d.readCode(src[2:], k)
	if err != nil {
		return fmt.Errorf("huffman: %w", err)
	}
	// Every code is at least one bit long.
	if len(out) > 8*len(src) {
		return fmt.Errorf("huffman: %d bytes cannot hold %d values: %w", len(src), len(out), ErrCorrupt)
	}
	esc := uint(huffMaxSymbols) // no symbol
	if w > 0 {
		esc = uint(k - 1)
	}
	r := newBitReader(src)
	for i := range out {
		s, ok := d.next(&r)
		if !ok {
			return fmt.Errorf("huffman: bad code at value %d: %w", i, ErrCorrupt)
		}
		if s != esc {
			out[i] = uint64(s)
			continue
		}
		v, ok := r.readWide(w)
		if !ok {
			return fmt.Errorf("huffman: stream ends in escaped value %d: %w", i, ErrCorrupt)
		}
		out[i] = v
	}
	if !r.done() {
		return fmt.Errorf("huffman: trailing bits after %d values: %w", len(out), ErrCorrupt)
	}
	return nil
}

// unpackWidths fills out from a width payload, which must be used up exactly.
func unpackWidths(out []uint64, src []byte) error {
	if len(src) < 1 || src[0] == 0 || src[0] > huffMaxSymbols {
		return fmt.Errorf("width code: bad alphabet: %w", ErrCorrupt)
	}
	var d decodeTable
	src, err := d.readCode(src[1:], int(src[0]))
	if err != nil {
		return fmt.Errorf("width code: %w", err)
	}
	if len(out) > 8*len(src) {
		return fmt.Errorf("width code: %d bytes cannot hold %d values: %w", len(src), len(out), ErrCorrupt)
	}
	r := newBitReader(src)
	mask := uint64(1)<<d.tableBits - 1
	for i := range out {
		// One refill serves the code and, for numbers up to 2^45, the
		// number's bits too.
		if r.n < 56 {
			r.refill()
		}
		e := d.t[r.buf&mask]
		l := uint(e & 0xf)
		if l == 0 || l > r.n {
			return fmt.Errorf("width code: bad code at value %d: %w", i, ErrCorrupt)
		}
		r.buf >>= l
		r.n -= l
		w := uint(e >> 4)
		if w <= 1 {
			out[i] = uint64(w)
			continue
		}
		k := w - 1 // bits below the leading one
		if k > r.n {
			r.refill()
			if k > r.n {
				low, ok := r.readWide(k)
				if !ok {
					return fmt.Errorf("width code: stream ends in value %d: %w", i, ErrCorrupt)
				}
				out[i] = 1<<k | low
				continue
			}
		}
		out[i] = 1<<k | r.buf&(1<<k-1)
		r.buf >>= k
		r.n -= k
	}
	if !r.done() {
		return fmt.Errorf("width code: trailing bits after %d values: %w", len(out), ErrCorrupt)
	}
	return nil
}
