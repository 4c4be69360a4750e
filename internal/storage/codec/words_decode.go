package codec

import (
	"encoding/binary"
	"fmt"
)

// decodeWords appends the 64-bit column src to dst. kind names the column
// type in errors.
func decodeWords(dst []uint64, src []byte, kind string) ([]uint64, error) {
	h, p, err := readHeader(src, kind)
	if err != nil {
		return dst, err
	}
	return decodeWordsBody(dst, h, p, kind)
}

// decodeWordsN is decodeWords for a nested column that must hold n values;
// the count is checked before anything is decoded.
func decodeWordsN(dst []uint64, src []byte, n int, kind string) ([]uint64, error) {
	h, p, err := readHeader(src, kind)
	if err != nil {
		return dst, err
	}
	if h.n != n {
		return dst, fmt.Errorf("decode %s: %d values where %d belong: %w", kind, h.n, n, ErrCorrupt)
	}
	return decodeWordsBody(dst, h, p, kind)
}

// decodeWordsBody decodes the payload p of a column with header h.
func decodeWordsBody(dst []uint64, h header, p []byte, kind string) ([]uint64, error) {
	n := h.n
	switch h.enc {
	case encRaw:
		if h.param != 0 {
			break
		}
		if len(p) != 8*n {
			return dst, fmt.Errorf("decode %s: raw: %d values need %d bytes, have %d: %w", kind, n, 8*n, len(p), ErrCorrupt)
		}
		dst, out := grow(dst, n)
		for i := range out {
			out[i] = binary.LittleEndian.Uint64(p[8*i:])
		}
		return dst, nil

	case encRun:
		if h.param != 0 {
			break
		}
		first, p, ok1 := readVarint(p)
		step, p, ok2 := readVarint(p)
		if !ok1 || !ok2 || len(p) != 0 {
			return dst, fmt.Errorf("decode %s: run-length: bad first value or step: %w", kind, ErrCorrupt)
		}
		// The one encoding whose count is not bounded by its size.
		dst, out := grow(dst, n)
		x := uint64(first)
		for i := range out {
			out[i] = x
			x += uint64(step)
		}
		return dst, nil

	case encDelta, encFrame:
		if h.param&8 != 0 {
			break
		}
		if n == 0 {
			if len(p) != 0 {
				return dst, fmt.Errorf("decode %s: %s: payload after an empty column: %w", kind, encodingNames[h.enc], ErrCorrupt)
			}
			return dst, nil
		}
		return decodePacked(dst, h, p, kind)
	}
	return dst, errEncoding(kind, h)
}

// decodePacked decodes a delta or frame column of n ≥ 1 values.
func decodePacked(dst []uint64, h header, p []byte, kind string) ([]uint64, error) {
	n := h.n
	var first int64
	ok := true
	if h.enc == encDelta {
		first, p, ok = readVarint(p)
	}
	base, p, ok2 := readVarint(p)
	var slope int64
	if h.enc == encFrame && h.param&paramSlope != 0 {
		slope, p, ok = readVarint(p)
	}
	g, p, ok3 := readUvarint(p)
	if !ok || !ok2 || !ok3 || g == 0 {
		return dst, fmt.Errorf("decode %s: %s: bad first value, base or divisor: %w", kind, encodingNames[h.enc], ErrCorrupt)
	}
	m := n // numbers packed
	if h.enc == encDelta {
		m = n - 1
	}
	// Bound the count by what the packing can hold before allocating:
	// simple8b holds at most 240 numbers per 8 bytes, the others at least
	// one bit per number.
	pack := h.param & 3
	limit := 8 * len(p)
	if pack == packS8 {
		limit = 30 * len(p)
	}
	if m > limit {
		return dst, fmt.Errorf("decode %s: %s: %d bytes cannot hold %d values: %w", kind, encodingNames[h.enc], len(p), m, ErrCorrupt)
	}
	start := len(dst)
	dst, out := grow(dst, n)
	u := out[n-m:]
	var err error
	switch pack {
	case packS8:
		err = unpackS8(u, p)
	case packBits:
		err = unpackBitpack(u, p)
	case packHuff:
		err = unpackHuff(u, p)
	default:
		err = unpackWidths(u, p)
	}
	if err != nil {
		return dst[:start], fmt.Errorf("decode %s: %s: %w", kind, encodingNames[h.enc], err)
	}
	b := uint64(base)
	switch {
	case h.enc == encFrame:
		line := b
		for i, v := range out {
			out[i] = line + g*v
			line += uint64(slope)
		}
	case h.param&paramZZ != 0:
		x := uint64(first)
		out[0] = x
		for i := 1; i < n; i++ {
			x += b + g*uint64(unzigzag(out[i]))
			out[i] = x
		}
	default:
		x := uint64(first)
		out[0] = x
		for i := 1; i < n; i++ {
			x += b + g*out[i]
			out[i] = x
		}
	}
	return dst, nil
}
