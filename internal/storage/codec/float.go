package codec

import (
	"fmt"
	"math"
)

// Float columns are stored bit-exactly in one of:
//
//	words    0x1–0x4: the IEEE 754 bits as a 64-bit column (see words.go)
//	gorilla  0x5: the Gorilla XOR bit stream (see gorilla.go)
//	decimal  0x6, param e: an integer column of m[i], where v[i] = m[i] / 10^e
//
// The encoder keeps the smallest. Decimal wins by far for gauges written
// with a few decimals (12.34 is 1234/10^2 exactly in float64 arithmetic),
// whose binary mantissas look random to the others. For full-precision
// values the differences of the bit patterns, read as integers, cost about
// 8% less than Gorilla's XORs on random walks: within a binade the
// difference of two patterns is the difference of the values in ulps, which
// the width code packs tightly, while an XOR spends bits on every carry.

// maxDecimalExp bounds e: 10^15 is exact and m stays within 2^53.
const maxDecimalExp = 15

// gorillaSample is how many values the encoder tries with Gorilla before
// deciding whether to encode the whole column.
const gorillaSample = 128

// AppendFloats encodes floats. NaN (any payload), ±Inf, -0 and subnormals
// round-trip bit-exactly: nothing is a sentinel.
func AppendFloats(dst []byte, v []float64) []byte {
	n := len(v)
	w := floatWords(v)
	if n == 0 {
		return appendHeader(dst, encRaw, 0, 0)
	}
	start := len(dst)
	decimal := false
	if d, ok := appendDecimal(dst, v); ok {
		dst, decimal = d, true
	} else {
		dst = appendWords(dst, w)
	}
	best := len(dst) - start
	mid := len(dst)
	if n > 2*gorillaSample {
		// Gorilla rarely wins by much; try it on a sample first and skip
		// the whole column when the sample is well behind.
		dst = appendGorilla(dst, w[:gorillaSample])
		sample := len(dst) - mid
		dst = dst[:mid]
		if sample*n > best*gorillaSample*5/4 {
			return dst
		}
	}
	dst = appendHeader(dst, encGorilla, 0, n)
	dst = appendGorilla(dst, w)
	if g := len(dst) - mid; g < best {
		copy(dst[start:], dst[mid:])
		return dst[:start+g]
	}
	dst = dst[:mid]
	if decimal && best > headerLen(n)+8*n {
		return appendRaw(dst[:start], w)
	}
	return dst
}

// DecodeFloats decodes what AppendFloats encoded.
func DecodeFloats(dst []float64, src []byte) ([]float64, error) {
	const kind = "floats"
	h, p, err := readHeader(src, kind)
	if err != nil {
		return dst, err
	}
	w := floatWords(dst)
	switch {
	case h.enc == encRaw || h.enc == encRun || h.enc == encDelta || h.enc == encFrame:
		w, err = decodeWordsBody(w, h, p, kind)
		return wordsFloat(w), err

	case h.enc == encGorilla && h.param == 0:
		if h.n == 0 {
			if len(p) != 0 {
				return dst, fmt.Errorf("decode %s: gorilla: payload after an empty column: %w", kind, ErrCorrupt)
			}
			return dst, nil
		}
		if h.n-1 > 8*len(p)-64 {
			return dst, fmt.Errorf("decode %s: gorilla: %d bytes cannot hold %d values: %w", kind, len(p), h.n, ErrCorrupt)
		}
		w, out := grow(w, h.n)
		if err := unpackGorilla(out, p); err != nil {
			return dst, fmt.Errorf("decode %s: %w", kind, err)
		}
		return wordsFloat(w), nil

	case h.enc == encDecimal:
		start := len(w)
		w, err = decodeWordsN(w, p, h.n, "decimal mantissas")
		if err != nil {
			return dst, fmt.Errorf("decode %s: %w", kind, err)
		}
		p10 := math.Pow10(int(h.param))
		m := w[start:]
		for i, x := range m {
			m[i] = math.Float64bits(float64(int64(x)) / p10)
		}
		return wordsFloat(w), nil
	}
	return dst, errEncoding(kind, h)
}

// appendDecimal appends the decimal column of v if there is one: the
// smallest e ≤ maxDecimalExp such that every value is m / 10^e for an
// integer |m| ≤ 2^53. With m and 10^e exact, the division is the correctly
// rounded m/10^e, so when e must grow for a later value the mantissas so far
// only need scaling by a power of ten, as long as they stay within 2^53.
// It appends nothing and returns false when v has no decimal column.
func appendDecimal(dst []byte, v []float64) ([]byte, bool) {
	var stack [wordStackLen]uint64
	var m []uint64
	if len(v) <= wordStackLen {
		m = stack[:len(v)]
	} else {
		m = make([]uint64, len(v))
	}
	e := 0
	p10 := 1.0
	for i, f := range v {
		x, ok := decimalMantissa(f, p10)
		if !ok {
			e0 := e
			for !ok {
				if e++; e > maxDecimalExp {
					return dst, false
				}
				p10 = math.Pow10(e)
				x, ok = decimalMantissa(f, p10)
			}
			scale := int64(math.Pow10(e - e0))
			for j := range m[:i] {
				s := int64(m[j]) * scale
				if s > 1<<53 || s < -1<<53 {
					return dst, false
				}
				m[j] = uint64(s)
			}
		}
		m[i] = uint64(x)
	}
	dst = appendHeader(dst, encDecimal, byte(e), len(v))
	return appendWords(dst, m), true
}

// decimalMantissa returns m with m / p10 == f, bit-exactly, if there is one
// with |m| ≤ 2^53.
func decimalMantissa(f, p10 float64) (int64, bool) {
	s := f * p10
	if !(math.Abs(s) <= 1<<53) || (f == 0 && math.Signbit(f)) {
		return 0, false // NaN, ±Inf, too large, or -0 (0/10^e is +0)
	}
	m := int64(math.Round(s))
	return m, float64(m)/p10 == f
}
