// Package codec encodes and decodes the columns of a data block: timestamps,
// floats, integers, unsigned integers, booleans and strings. Every function
// is pure. Encoders append to dst and return it; decoders append to dst
// (pass dst[:0] to reuse it) and return an error, never panic, on input
// that is short, corrupt or hostile.
//
// PLACEHOLDER: the bodies below are a plain varint encoding so that the
// layers above can be built and tested; the real codecs (delta-of-delta,
// simple8b, run-length, Gorilla XOR, bit-packing, s2) replace them behind
// the same signatures.
package codec

import (
	"encoding/binary"
	"errors"
	"math"
)

// ErrCorrupt is returned (wrapped) for input that cannot be decoded.
var ErrCorrupt = errors.New("codec: corrupt input")

func appendCount(dst []byte, n int) []byte { return binary.AppendUvarint(dst, uint64(n)) }

func readCount(src []byte) (int, []byte, error) {
	n, k := binary.Uvarint(src)
	if k <= 0 || n > uint64(len(src)) {
		return 0, nil, ErrCorrupt
	}
	return int(n), src[k:], nil
}

func readUvarint(src []byte) (uint64, []byte, error) {
	v, k := binary.Uvarint(src)
	if k <= 0 {
		return 0, nil, ErrCorrupt
	}
	return v, src[k:], nil
}

// AppendTimestamps encodes nanosecond timestamps.
func AppendTimestamps(dst []byte, ts []int64) []byte { return AppendIntegers(dst, ts) }

// DecodeTimestamps decodes what AppendTimestamps encoded.
func DecodeTimestamps(dst []int64, src []byte) ([]int64, error) { return DecodeIntegers(dst, src) }

// AppendIntegers encodes signed integers.
func AppendIntegers(dst []byte, v []int64) []byte {
	dst = appendCount(dst, len(v))
	for _, x := range v {
		dst = binary.AppendVarint(dst, x)
	}
	return dst
}

// DecodeIntegers decodes what AppendIntegers encoded.
func DecodeIntegers(dst []int64, src []byte) ([]int64, error) {
	n, src, err := readCount(src)
	if err != nil {
		return dst, err
	}
	for range n {
		x, k := binary.Varint(src)
		if k <= 0 {
			return dst, ErrCorrupt
		}
		dst = append(dst, x)
		src = src[k:]
	}
	return dst, nil
}

// AppendUnsigneds encodes unsigned integers.
func AppendUnsigneds(dst []byte, v []uint64) []byte {
	dst = appendCount(dst, len(v))
	for _, x := range v {
		dst = binary.AppendUvarint(dst, x)
	}
	return dst
}

// DecodeUnsigneds decodes what AppendUnsigneds encoded.
func DecodeUnsigneds(dst []uint64, src []byte) ([]uint64, error) {
	n, src, err := readCount(src)
	if err != nil {
		return dst, err
	}
	for range n {
		var x uint64
		if x, src, err = readUvarint(src); err != nil {
			return dst, err
		}
		dst = append(dst, x)
	}
	return dst, nil
}

// AppendFloats encodes floats (NaN and ±Inf included: nothing is a sentinel).
func AppendFloats(dst []byte, v []float64) []byte {
	dst = appendCount(dst, len(v))
	for _, x := range v {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(x))
	}
	return dst
}

// DecodeFloats decodes what AppendFloats encoded.
func DecodeFloats(dst []float64, src []byte) ([]float64, error) {
	n, src, err := readCount(src)
	if err != nil {
		return dst, err
	}
	if len(src) < 8*n {
		return dst, ErrCorrupt
	}
	for i := range n {
		dst = append(dst, math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
	}
	return dst, nil
}

// AppendBooleans encodes booleans.
func AppendBooleans(dst []byte, v []bool) []byte {
	dst = appendCount(dst, len(v))
	for _, x := range v {
		b := byte(0)
		if x {
			b = 1
		}
		dst = append(dst, b)
	}
	return dst
}

// DecodeBooleans decodes what AppendBooleans encoded.
func DecodeBooleans(dst []bool, src []byte) ([]bool, error) {
	n, src, err := readCount(src)
	if err != nil {
		return dst, err
	}
	if len(src) < n {
		return dst, ErrCorrupt
	}
	for i := range n {
		dst = append(dst, src[i] != 0)
	}
	return dst, nil
}

// AppendStrings encodes strings.
func AppendStrings(dst []byte, v []string) []byte {
	dst = appendCount(dst, len(v))
	for _, s := range v {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	return dst
}

// DecodeStrings decodes what AppendStrings encoded.
func DecodeStrings(dst []string, src []byte) ([]string, error) {
	n, src, err := readCount(src)
	if err != nil {
		return dst, err
	}
	for range n {
		var l uint64
		if l, src, err = readUvarint(src); err != nil {
			return dst, err
		}
		if l > uint64(len(src)) {
			return dst, ErrCorrupt
		}
		dst = append(dst, string(src[:l]))
		src = src[l:]
	}
	return dst, nil
}
