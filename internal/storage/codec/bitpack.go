package codec

import (
	"fmt"
	"math/bits"
)

// Fixed-width bit packing: one width byte (1..64), then every value in that
// many bits, little-endian bit order. It beats simple8b when values are
// uniformly wide (jittered timestamps, noisy counters), because simple8b's
// widths come in steps and each word spends four bits on its selector.

// bitpackSize returns the packed size of n values below 1<<width.
func bitpackSize(n int, width uint) int { return 1 + (n*int(width)+7)/8 }

// appendBitpack packs v in width bits each.
func appendBitpack(dst []byte, v []uint64, width uint) []byte {
	dst = append(dst, byte(width))
	w := bitWriter{dst: dst}
	if width <= 32 {
		for _, x := range v {
			w.write(x, width)
		}
	} else {
		for _, x := range v {
			w.writeWide(x, width)
		}
	}
	return w.finish()
}

// unpackBitpack fills out from src, which must be used up exactly.
func unpackBitpack(out []uint64, src []byte) error {
	if len(src) == 0 {
		return fmt.Errorf("bitpack: missing width: %w", ErrCorrupt)
	}
	width := uint(src[0])
	src = src[1:]
	// Width 0 would let a tiny input claim any count; the encoder uses
	// run-length for constant columns instead.
	if width == 0 || width > 64 {
		return fmt.Errorf("bitpack: width %d: %w", width, ErrCorrupt)
	}
	if want := (len(out)*int(width) + 7) / 8; len(src) != want {
		return fmt.Errorf("bitpack: %d values of %d bits need %d bytes, have %d: %w", len(out), width, want, len(src), ErrCorrupt)
	}
	r := newBitReader(src)
	if width <= 56 {
		mask := uint64(1)<<width - 1
		for i := range out {
			if r.n < width {
				r.refill()
				if r.n < width {
					return fmt.Errorf("bitpack: stream ends at value %d: %w", i, ErrCorrupt)
				}
			}
			out[i] = r.buf & mask
			r.buf >>= width
			r.n -= width
		}
	} else {
		for i := range out {
			var ok bool
			if out[i], ok = r.readWide(width); !ok {
				return fmt.Errorf("bitpack: stream ends at value %d: %w", i, ErrCorrupt)
			}
		}
	}
	if !r.done() {
		return fmt.Errorf("bitpack: nonzero padding: %w", ErrCorrupt)
	}
	return nil
}

// widthOf returns the number of bits needed for values up to max.
func widthOf(max uint64) uint { return uint(bits.Len64(max)) }
