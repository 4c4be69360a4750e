package lineprotocol

import (
	"encoding/binary"
	"math/bits"
)

// Names are scanned eight bytes at a time: a word holds a delimiter when one
// of its bytes equals the delimiter, which the classic "has zero byte" trick
// finds without a branch per byte. Only the lowest flagged byte is exact,
// which is the one wanted.

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// hasByte flags (in the high bit of each byte) the bytes of x equal to c;
// the lowest flag is exact.
func hasByte(x uint64, c byte) uint64 {
	y := x ^ (lsb * uint64(c))
	return (y - lsb) &^ y & msb
}

// findKeyStop returns the index of the first ',', '=', ' ' or '\\' in
// buf[i:e], or e.
func findKeyStop(buf []byte, i, e int) int {
	for ; i+8 <= e; i += 8 {
		x := binary.LittleEndian.Uint64(buf[i:])
		if m := hasByte(x, ',') | hasByte(x, '=') | hasByte(x, ' ') | hasByte(x, '\\'); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for i < e && !keyStop[buf[i]] {
		i++
	}
	return i
}

// findMeasStop returns the index of the first ',', ' ' or '\\' in buf[i:e],
// or e.
func findMeasStop(buf []byte, i, e int) int {
	for ; i+8 <= e; i += 8 {
		x := binary.LittleEndian.Uint64(buf[i:])
		if m := hasByte(x, ',') | hasByte(x, ' ') | hasByte(x, '\\'); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for i < e && !measStop[buf[i]] {
		i++
	}
	return i
}

// keySig is a cheap signature of a key: equal keys have equal signatures.
// It mixes the length with the last eight bytes, where keys of one line
// that share a prefix ("usage_…") differ.
func keySig(k []byte) uint64 {
	n := len(k)
	var x uint64
	if n >= 8 {
		x = binary.LittleEndian.Uint64(k[n-8:])
	} else {
		for _, c := range k {
			x = x<<8 | uint64(c)
		}
	}
	return x ^ uint64(n)*0x9e3779b97f4a7c15
}

// scanDigits returns the value and the number of the decimal digits that
// start at buf[i], stopping at e. The value is exact for up to 19 digits
// and meaningless beyond. Eight digits at a time are checked and converted
// with multiplications (the conversion of a 19-digit nanosecond timestamp
// is otherwise a 19-step dependency chain).
func scanDigits(buf []byte, i, e int) (uint64, int) {
	start := i
	var v uint64
	for ; i+8 <= e; i += 8 {
		x := binary.LittleEndian.Uint64(buf[i:])
		if x&0xf0f0f0f0f0f0f0f0 != 0x3030303030303030 || (x+0x0606060606060606)&0xf0f0f0f0f0f0f0f0 != 0x3030303030303030 {
			break
		}
		v = v*100000000 + parse8(x)
	}
	for ; i < e; i++ {
		c := buf[i] - '0'
		if c > 9 {
			break
		}
		v = v*10 + uint64(c)
	}
	return v, i - start
}

// parse8 converts eight ASCII digits, the first in the lowest byte.
func parse8(x uint64) uint64 {
	x -= 0x3030303030303030
	x = x*10 + x>>8 // pairs: each even byte holds two digits' value
	x = ((x&0x000000ff000000ff)*(100+1000000<<32) + (x>>16&0x000000ff000000ff)*(1+10000<<32)) >> 32
	return x
}
