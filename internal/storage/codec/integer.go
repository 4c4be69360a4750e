package codec

// AppendIntegers encodes signed integers: run-length when the step is
// constant, otherwise the smallest of delta, frame of reference and raw,
// each packed with simple8b, bit packing or Huffman (see appendWords).
func AppendIntegers(dst []byte, v []int64) []byte { return appendWords(dst, int64Words(v)) }

// DecodeIntegers decodes what AppendIntegers encoded.
func DecodeIntegers(dst []int64, src []byte) ([]int64, error) {
	w, err := decodeWords(int64Words(dst), src, "integers")
	return wordsInt64(w), err
}

// AppendUnsigneds encodes unsigned integers with the machinery of
// AppendIntegers; arithmetic is modulo 2^64, so values above MaxInt64 are
// exact too.
func AppendUnsigneds(dst []byte, v []uint64) []byte { return appendWords(dst, v) }

// DecodeUnsigneds decodes what AppendUnsigneds encoded.
func DecodeUnsigneds(dst []uint64, src []byte) ([]uint64, error) {
	return decodeWords(dst, src, "unsigneds")
}
