package codec

import (
	"encoding/binary"
	"fmt"
)

// Boolean columns:
//
//	bitmap  0x7: (n+7)/8 bytes, value i in bit i%8 of byte i/8, zero padding
//	runs    0x8: byte first value (0 or 1), then uvarint run lengths (≥ 1)
//	        of alternating values, summing to n
//
// The encoder keeps the smaller; runs win for flags that rarely change.

// AppendBooleans encodes booleans.
func AppendBooleans(dst []byte, v []bool) []byte {
	n := len(v)
	runsSize := 1
	for i := 0; i < n; {
		j := i + 1
		for j < n && v[j] == v[i] {
			j++
		}
		runsSize += uvarintLen(uint64(j - i))
		i = j
	}
	if n == 0 || runsSize >= (n+7)/8 {
		dst = appendHeader(dst, encBitmap, 0, n)
		for i := 0; i < n; i += 8 {
			var b byte
			for j, x := range v[i:min(i+8, n)] {
				if x {
					b |= 1 << j
				}
			}
			dst = append(dst, b)
		}
		return dst
	}
	dst = appendHeader(dst, encBoolRun, 0, n)
	dst = append(dst, boolByte(v[0]))
	for i := 0; i < n; {
		j := i + 1
		for j < n && v[j] == v[i] {
			j++
		}
		dst = binary.AppendUvarint(dst, uint64(j-i))
		i = j
	}
	return dst
}

// DecodeBooleans decodes what AppendBooleans encoded.
func DecodeBooleans(dst []bool, src []byte) ([]bool, error) {
	const kind = "booleans"
	h, p, err := readHeader(src, kind)
	if err != nil {
		return dst, err
	}
	n := h.n
	switch {
	case h.enc == encBitmap && h.param == 0:
		if len(p) != (n+7)/8 {
			return dst, fmt.Errorf("decode %s: bitmap: %d values need %d bytes, have %d: %w", kind, n, (n+7)/8, len(p), ErrCorrupt)
		}
		if n%8 != 0 && p[len(p)-1]>>(n%8) != 0 {
			return dst, fmt.Errorf("decode %s: bitmap: nonzero padding: %w", kind, ErrCorrupt)
		}
		dst, out := grow(dst, n)
		for i := range out {
			out[i] = p[i>>3]>>(i&7)&1 != 0
		}
		return dst, nil

	case h.enc == encBoolRun && h.param == 0:
		if n == 0 {
			if len(p) != 0 {
				return dst, fmt.Errorf("decode %s: runs: payload after an empty column: %w", kind, ErrCorrupt)
			}
			return dst, nil
		}
		if len(p) == 0 || p[0] > 1 {
			return dst, fmt.Errorf("decode %s: runs: bad first value: %w", kind, ErrCorrupt)
		}
		value := p[0] == 1
		p = p[1:]
		// Check the runs before allocating: the count of a run-length
		// column is not bounded by its size, but it must match the runs.
		total := uint64(0)
		for q := p; len(q) > 0; {
			r, rest, ok := readUvarint(q)
			if !ok || r == 0 || r > uint64(n)-total {
				return dst, fmt.Errorf("decode %s: runs: bad run at offset %d: %w", kind, len(p)-len(q), ErrCorrupt)
			}
			total += r
			q = rest
		}
		if total != uint64(n) {
			return dst, fmt.Errorf("decode %s: runs cover %d of %d values: %w", kind, total, n, ErrCorrupt)
		}
		dst, out := grow(dst, n)
		for len(p) > 0 {
			r, rest, _ := readUvarint(p)
			for i := range out[:r] {
				out[i] = value
			}
			out = out[r:]
			value = !value
			p = rest
		}
		return dst, nil
	}
	return dst, errEncoding(kind, h)
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}
