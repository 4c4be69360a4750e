package codec

// AppendTimestamps encodes nanosecond timestamps. Regular series (a constant
// interval) are run-length: first, interval, count, about a dozen bytes for
// a whole block. Irregular ones are differences from the smallest interval,
// divided by their greatest common divisor (timestamps of second or
// millisecond precision divide by 1e9 or 1e6), then packed; descending,
// duplicate or wildly spaced timestamps are exact too, only larger.
func AppendTimestamps(dst []byte, ts []int64) []byte { return appendWords(dst, int64Words(ts)) }

// DecodeTimestamps decodes what AppendTimestamps encoded.
func DecodeTimestamps(dst []int64, src []byte) ([]int64, error) {
	w, err := decodeWords(int64Words(dst), src, "timestamps")
	return wordsInt64(w), err
}
