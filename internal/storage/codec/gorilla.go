package codec

import (
	"fmt"
	"math/bits"
)

// Gorilla XOR (Pelkonen et al., "Gorilla: A Fast, Scalable, In-Memory Time
// Series Database", VLDB 2015), over a count-delimited stream: nothing is an
// end marker, so every bit pattern (NaN payloads included) is a value.
//
// Stream (little-endian bit order), after the first value in 64 bits, per
// value the XOR with the previous value:
//
//	0                       XOR is zero: same value
//	1 0 <bits>              XOR fits the current window: its meaningful bits
//	1 1 <lz:5> <len-1:6> <bits>  new window: lz leading zeros (capped at 31),
//	                        len meaningful bits; trailing zeros = 64-lz-len
//
// The window starts as all 64 bits. Unlike the paper, the encoder opens a
// new window when that is cheaper than reusing a much wider one.

// appendGorilla appends the bit stream for v (len ≥ 1).
func appendGorilla(dst []byte, v []uint64) []byte {
	w := bitWriter{dst: dst}
	w.writeWide(v[0], 64)
	prev := v[0]
	winL, winT := 0, 0
	haveWin := false
	for _, x := range v[1:] {
		xor := x ^ prev
		prev = x
		if xor == 0 {
			w.write(0, 1)
			continue
		}
		l := min(bits.LeadingZeros64(xor), 31)
		t := bits.TrailingZeros64(xor)
		sig := 64 - l - t
		if haveWin && l >= winL && t >= winT {
			if winSig := 64 - winL - winT; winSig <= sig+11 {
				w.write(0b01, 2)
				w.writeWide(xor>>uint(winT), uint(winSig))
				continue
			}
		}
		w.write(0b11, 2)
		w.write(uint64(l)|uint64(sig-1)<<5, 11)
		w.writeWide(xor>>uint(t), uint(sig))
		winL, winT, haveWin = l, t, true
	}
	return w.finish()
}

// unpackGorilla fills out (len ≥ 1) from src, which must be used up exactly.
func unpackGorilla(out []uint64, src []byte) error {
	if len(out)-1 > 8*len(src)-64 {
		return fmt.Errorf("gorilla: %d bytes cannot hold %d values: %w", len(src), len(out), ErrCorrupt)
	}
	r := newBitReader(src)
	prev, ok := r.readWide(64)
	if !ok {
		return fmt.Errorf("gorilla: short first value: %w", ErrCorrupt)
	}
	out[0] = prev
	winL, winT := uint(0), uint(0)
	for i := 1; i < len(out); i++ {
		// One refill covers the control bits and the window header; the
		// meaningful bits usually fit in what is left.
		if r.n < 13 {
			r.refill()
		}
		b := r.buf
		switch {
		case r.n >= 1 && b&1 == 0:
			r.buf >>= 1
			r.n--
			out[i] = prev
			continue
		case r.n >= 2 && b&2 == 0:
			r.buf >>= 2
			r.n -= 2
		case r.n >= 13:
			l, sig := uint(b>>2&31), uint(b>>7&63)+1
			if l+sig > 64 {
				return fmt.Errorf("gorilla: window of %d+%d bits at value %d: %w", l, sig, i, ErrCorrupt)
			}
			winL, winT = l, 64-l-sig
			r.buf >>= 13
			r.n -= 13
		default:
			return fmt.Errorf("gorilla: stream ends at value %d: %w", i, ErrCorrupt)
		}
		sig := 64 - winL - winT
		var x uint64
		if sig <= r.n {
			x = r.buf & (1<<sig - 1)
			r.buf >>= sig
			r.n -= sig
		} else {
			var ok bool
			if x, ok = r.readWide(sig); !ok {
				return fmt.Errorf("gorilla: stream ends at value %d: %w", i, ErrCorrupt)
			}
		}
		prev ^= x << winT
		out[i] = prev
	}
	if !r.done() {
		return fmt.Errorf("gorilla: trailing bits after %d values: %w", len(out), ErrCorrupt)
	}
	return nil
}
