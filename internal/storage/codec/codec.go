package codec

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

// MaxValues is the largest number of values one column may hold. Decoders
// reject larger counts so that a hostile header cannot make them allocate
// without bound; encoders panic if given more, since a caller that builds
// such a block has broken its own invariant (blocks hold about 1000 values).
const MaxValues = 1 << 20

// Encodings, the high nibble of a column's header byte. Zero is never used,
// so a zeroed buffer is not mistaken for a column.
const (
	encRaw     = 0x1 // 64-bit words, little endian
	encRun     = 0x2 // 64-bit words: first value and a constant step
	encDelta   = 0x3 // 64-bit words: differences, packed
	encFrame   = 0x4 // 64-bit words: offsets from the minimum, packed
	encGorilla = 0x5 // floats: Gorilla XOR
	encDecimal = 0x6 // floats: m / 10^e, m an integer column
	encBitmap  = 0x7 // booleans: one bit each
	encBoolRun = 0x8 // booleans: run lengths
	encPlain   = 0x9 // strings: lengths column, bytes
	encSnappy  = 0xA // strings: lengths column, snappy-compressed bytes
	encDict    = 0xB // strings: dictionary column, index column
)

// encodingNames names the encodings in error messages.
var encodingNames = [16]string{
	encRaw: "raw", encRun: "run-length", encDelta: "delta", encFrame: "frame",
	encGorilla: "gorilla", encDecimal: "decimal", encBitmap: "bitmap",
	encBoolRun: "boolean runs", encPlain: "plain strings",
	encSnappy: "compressed strings", encDict: "dictionary",
}

// header is a parsed column header.
type header struct {
	enc   byte // high nibble
	param byte // low nibble
	n     int  // value count
}

// appendHeader appends the header byte and the count.
func appendHeader(dst []byte, enc, param byte, n int) []byte {
	if n > MaxValues {
		panic(fmt.Sprintf("BUG: codec: %d values in one column, the limit is %d", n, MaxValues))
	}
	dst = append(dst, enc<<4|param&0xf)
	return binary.AppendUvarint(dst, uint64(n))
}

// headerLen is the size appendHeader adds.
func headerLen(n int) int { return 1 + uvarintLen(uint64(n)) }

// readHeader parses a column header. kind names the column type in errors.
func readHeader(src []byte, kind string) (header, []byte, error) {
	if len(src) == 0 {
		return header{}, nil, fmt.Errorf("decode %s: empty column: %w", kind, ErrCorrupt)
	}
	h := header{enc: src[0] >> 4, param: src[0] & 0xf}
	n, k := binary.Uvarint(src[1:])
	if k <= 0 {
		return header{}, nil, fmt.Errorf("decode %s: bad value count: %w", kind, ErrCorrupt)
	}
	if n > MaxValues {
		return header{}, nil, fmt.Errorf("decode %s: count %d above limit %d: %w", kind, n, MaxValues, ErrCorrupt)
	}
	h.n = int(n)
	return h, src[1+k:], nil
}

// errEncoding reports an encoding nibble that a column type does not use.
func errEncoding(kind string, h header) error {
	name := encodingNames[h.enc]
	if name == "" {
		name = "unknown"
	}
	return fmt.Errorf("decode %s: encoding %#x (%s) param %#x not valid here: %w", kind, h.enc, name, h.param, ErrCorrupt)
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// readUvarint reads one uvarint; ok is false when src does not start with one.
func readUvarint(src []byte) (v uint64, rest []byte, ok bool) {
	v, k := binary.Uvarint(src)
	if k <= 0 {
		return 0, src, false
	}
	return v, src[k:], true
}

// readVarint reads one zig-zag varint.
func readVarint(src []byte) (v int64, rest []byte, ok bool) {
	u, rest, ok := readUvarint(src)
	return unzigzag(u), rest, ok
}

// grow extends s by n elements and returns the longer slice and the new
// part. It is the only place decoders allocate for values, and n is always
// checked against what the input can hold before it is called.
func grow[T any](s []T, n int) ([]T, []T) {
	l := len(s)
	if cap(s)-l < n {
		t := make([]T, l, l+n)
		copy(t, s)
		s = t
	}
	s = s[:l+n]
	return s, s[l:]
}

// Views of float and signed columns as 64-bit words: the types have the same
// size and alignment and hold no pointers, so one implementation serves them
// all without copying.

func int64Words(s []int64) []uint64 {
	return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(s))), cap(s))[:len(s)]
}

func wordsInt64(w []uint64) []int64 {
	return unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(w))), cap(w))[:len(w)]
}

func floatWords(s []float64) []uint64 {
	return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(s))), cap(s))[:len(s)]
}

func wordsFloat(w []uint64) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(w))), cap(w))[:len(w)]
}
