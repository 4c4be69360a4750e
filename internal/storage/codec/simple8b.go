package codec

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// Simple8b (Anh & Moffat, "Index compression using 64-bit words", 2010)
// packs as many small numbers as fit into one 64-bit word: the top four bits
// select how many numbers of which width the other 60 bits hold. Selectors 0
// and 1 hold runs of zeros without spending payload bits. Numbers are packed
// from bit 0 upward; the last word of a column may be partly used.

// s8Max is the first value simple8b cannot hold.
const s8Max = 1 << 60

// s8Count and s8Bits give, per selector, how many numbers of what width a
// word holds.
var (
	s8Count = [16]int{240, 120, 60, 30, 20, 15, 12, 10, 8, 7, 6, 5, 4, 3, 2, 1}
	s8Bits  = [16]uint{0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 30, 60}
)

// s8SelOf is the narrowest selector for values of each width 0..60.
var s8SelOf = [61]uint8{
	2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 11, 11, 12, 12, 12, 13, 13, 13, 13, 13,
	14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
	15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
}

// s8ByCount is, for 1..60 values, the selector holding the most numbers
// but no more than that.
var s8ByCount = [61]uint8{
	0, 15, 14, 13, 12, 11, 10, 9, 8, 8, 7, 7, 6, 6, 6, 5, 5, 5, 5, 5,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2,
}

// s8Next picks the selector for the next word of v: the one that holds the
// most leading values. A final, partly used word is allowed, since the
// column count says where the values stop. Every v[i] must be < s8Max.
func s8Next(v []uint64) (sel int, k int) {
	// Zero runs first: they are free.
	z := 0
	for z < len(v) && z < 240 && v[z] == 0 {
		z++
	}
	if z == len(v) || z == 240 {
		if z > 120 {
			return 0, z
		}
		return 1, z
	}
	if z >= 120 {
		return 1, 120
	}
	// Take values while the widest so far still leaves room for them all:
	// capacity only shrinks as the width grows, so the first value that
	// does not fit ends the word.
	maxw, i := 0, 0
	for i < len(v) && i < 60 {
		w := max(maxw, bits.Len64(v[i]))
		if w > 60 {
			panic(fmt.Sprintf("BUG: codec: simple8b value %#x does not fit in 60 bits", v[i]))
		}
		if i >= s8Count[s8SelOf[w]] {
			break
		}
		maxw = w
		i++
	}
	if i == len(v) {
		return int(s8SelOf[maxw]), i // the last word, possibly not full
	}
	// The selector holding the most values, at most i: its values are a
	// prefix of the i that fit, and its width is at least theirs.
	sel = int(s8ByCount[i])
	return sel, s8Count[sel]
}

// s8Size returns the packed size of v in bytes.
func s8Size(v []uint64) int {
	words := 0
	for len(v) > 0 {
		_, k := s8Next(v)
		v = v[k:]
		words++
	}
	return 8 * words
}

// appendS8 packs v, every value < s8Max.
func appendS8(dst []byte, v []uint64) []byte {
	for len(v) > 0 {
		sel, k := s8Next(v)
		w := uint64(sel) << 60
		b := s8Bits[sel]
		for j := k - 1; j >= 0 && b > 0; j-- {
			w |= v[j] << (uint(j) * b)
		}
		dst = binary.LittleEndian.AppendUint64(dst, w)
		v = v[k:]
	}
	return dst
}

// unpackS8 fills out from the words of src, which must be used up exactly.
func unpackS8(out []uint64, src []byte) error {
	if len(src)%8 != 0 {
		return fmt.Errorf("simple8b: %d bytes is not whole words: %w", len(src), ErrCorrupt)
	}
	if (len(out)+239)/240 > len(src)/8 {
		return fmt.Errorf("simple8b: %d words cannot hold %d values: %w", len(src)/8, len(out), ErrCorrupt)
	}
	for off := 0; off < len(src); off += 8 {
		if len(out) == 0 {
			return fmt.Errorf("simple8b: unused word at offset %d: %w", off, ErrCorrupt)
		}
		w := binary.LittleEndian.Uint64(src[off:])
		sel := w >> 60
		k := min(s8Count[sel], len(out))
		b := s8Bits[sel]
		o := out[:k]
		if b == 0 {
			clear(o)
		} else {
			mask := uint64(1)<<b - 1
			for j := range o {
				o[j] = w & mask
				w >>= b
			}
		}
		out = out[k:]
	}
	if len(out) != 0 {
		return fmt.Errorf("simple8b: words end %d values short: %w", len(out), ErrCorrupt)
	}
	return nil
}
