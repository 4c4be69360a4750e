package codec

import (
	"encoding/binary"
	"fmt"
	"slices"
	"unsafe"

	"github.com/klauspost/compress/s2"
)

// String columns (n ≥ 1; an empty column has no payload):
//
//	plain   0x9: uvarint L, lengths (an unsigned column of n, L bytes), the
//	        bytes of all strings back to back
//	snappy  0xA: uvarint L, lengths (as above), one snappy block holding the
//	        bytes of all strings
//	dict    0xB: uvarint L, dictionary (a plain or snappy string column, L
//	        bytes), indexes into it (an unsigned column of n)
//
// The encoder keeps the smallest. Snappy blocks are written in the format
// of snappy proper (s2's snappy-compatible encoder) whose copies are at most
// 64 bytes per 3 bytes of input, so a block can never legitimately expand
// more than snappyMaxRatio times: a larger declared size is hostile and is
// rejected before anything is allocated.

const (
	snappyMaxRatio = 22
	snappyMinInput = 32   // below this, compression does not pay
	dictMaxEntries = 1024 // a column with more distinct values is not enum-like
)

// AppendStrings encodes strings.
func AppendStrings(dst []byte, v []string) []byte { return appendStrings(dst, v, true) }

func appendStrings(dst []byte, v []string, allowDict bool) []byte {
	n := len(v)
	if n == 0 {
		return appendHeader(dst, encPlain, 0, 0)
	}
	var stack [wordStackLen]uint64
	var lens []uint64
	if n <= wordStackLen {
		lens = stack[:n]
	} else {
		lens = make([]uint64, n)
	}
	for i, s := range v {
		lens[i] = uint64(len(s))
	}

	// Plain, written in place: it is also the input of the compressor.
	start := len(dst)
	dst = appendHeader(dst, encPlain, 0, n)
	dst = appendNested(dst, func(b []byte) []byte { return appendWords(b, lens) })
	dataStart := len(dst)
	for _, s := range v {
		dst = append(dst, s...)
	}
	best := len(dst) - start
	var packed []byte
	if data := dst[dataStart:]; len(data) >= snappyMinInput {
		if c := s2.EncodeSnappyBetter(nil, data); len(c) < len(data) {
			packed = c
			best -= len(data) - len(c)
		}
	}
	if allowDict && n > 1 && repetitive(v) {
		if d, ok := appendDict(nil, v, best); ok {
			dst = append(dst[:start], d...)
			return dst
		}
	}
	if packed != nil {
		dst[start] = encSnappy << 4
		dst = append(dst[:dataStart], packed...)
	}
	return dst
}

// repetitive reports whether a sample of v repeats values, which a column
// worth a dictionary must: it spares building a map for log lines.
func repetitive(v []string) bool {
	const sample = 64
	s := v[:min(len(v), sample)]
	distinct := 0
	for i, x := range s {
		if !slices.Contains(s[:i], x) {
			distinct++
		}
	}
	return distinct <= len(s)/2
}

// appendDict appends the dictionary column of v if it is smaller than
// limit bytes.
func appendDict(dst []byte, v []string, limit int) ([]byte, bool) {
	n := len(v)
	var stack [wordStackLen]uint64
	var idx []uint64
	if n <= wordStackLen {
		idx = stack[:n]
	} else {
		idx = make([]uint64, n)
	}
	ids := make(map[string]uint64)
	var dict []string
	for i, s := range v {
		id, ok := ids[s]
		if !ok {
			if len(dict) == dictMaxEntries || len(dict) >= n/2 {
				return dst, false
			}
			id = uint64(len(dict))
			ids[s] = id
			dict = append(dict, s)
		}
		idx[i] = id
	}
	dst = appendHeader(dst, encDict, 0, n)
	dst = appendNested(dst, func(b []byte) []byte { return appendStrings(b, dict, false) })
	dst = appendWords(dst, idx)
	return dst, len(dst) < limit
}

// appendNested appends the column that add appends, prefixed by its length.
func appendNested(dst []byte, add func([]byte) []byte) []byte {
	mark := len(dst)
	dst = add(dst)
	l := len(dst) - mark
	k := uvarintLen(uint64(l))
	dst = append(dst, make([]byte, k)...)
	copy(dst[mark+k:], dst[mark:mark+l])
	binary.PutUvarint(dst[mark:], uint64(l))
	return dst
}

// DecodeStrings decodes what AppendStrings encoded. The strings share one
// allocation for their bytes (and a dictionary column shares its entries),
// so keeping any of them keeps the column's bytes alive.
func DecodeStrings(dst []string, src []byte) ([]string, error) {
	return decodeStrings(dst, src, "strings", true)
}

func decodeStrings(dst []string, src []byte, kind string, allowDict bool) ([]string, error) {
	h, p, err := readHeader(src, kind)
	if err != nil {
		return dst, err
	}
	if h.param != 0 || (h.enc != encPlain && h.enc != encSnappy && (h.enc != encDict || !allowDict)) {
		return dst, errEncoding(kind, h)
	}
	n := h.n
	if n == 0 {
		if len(p) != 0 {
			return dst, fmt.Errorf("decode %s: payload after an empty column: %w", kind, ErrCorrupt)
		}
		return dst, nil
	}
	l, p, ok := readUvarint(p)
	if !ok || l > uint64(len(p)) {
		return dst, fmt.Errorf("decode %s: bad nested column length: %w", kind, ErrCorrupt)
	}
	nested, p := p[:l], p[l:]
	if h.enc == encDict {
		return decodeDict(dst, n, nested, p, kind)
	}

	var stack [wordStackLen]uint64
	lens, err := decodeWordsN(stack[:0], nested, n, kind+" lengths")
	if err != nil {
		return dst, fmt.Errorf("decode %s: %w", kind, err)
	}
	// The total must be what the data can hold: exactly its size when
	// plain, at most the largest snappy expansion when compressed.
	limit := uint64(len(p))
	if h.enc == encSnappy {
		limit *= snappyMaxRatio
	}
	total := uint64(0)
	for _, x := range lens {
		if x > limit-total {
			return dst, fmt.Errorf("decode %s: lengths exceed the %d bytes of data: %w", kind, len(p), ErrCorrupt)
		}
		total += x
	}
	var data string
	if h.enc == encPlain {
		if total != uint64(len(p)) {
			return dst, fmt.Errorf("decode %s: lengths sum to %d, data is %d bytes: %w", kind, total, len(p), ErrCorrupt)
		}
		data = string(p)
	} else {
		dl, err := s2.DecodedLen(p)
		if err != nil || uint64(dl) != total {
			return dst, fmt.Errorf("decode %s: snappy block does not hold the %d bytes of the lengths: %w", kind, total, ErrCorrupt)
		}
		buf := make([]byte, total)
		if buf, err = s2.Decode(buf, p); err != nil || uint64(len(buf)) != total {
			return dst, fmt.Errorf("decode %s: snappy: %v: %w", kind, err, ErrCorrupt)
		}
		if total > 0 {
			// buf is ours alone and never written again.
			data = unsafe.String(&buf[0], len(buf))
		}
	}
	dst, out := grow(dst, n)
	off := uint64(0)
	for i, x := range lens {
		out[i] = data[off : off+x]
		off += x
	}
	return dst, nil
}

// decodeDict decodes a dictionary column of n values from its dictionary
// column and its index column.
func decodeDict(dst []string, n int, dictCol, idxCol []byte, kind string) ([]string, error) {
	dict, err := decodeStrings(nil, dictCol, kind+" dictionary", false)
	if err != nil {
		return dst, fmt.Errorf("decode %s: %w", kind, err)
	}
	var stack [wordStackLen]uint64
	idx, err := decodeWordsN(stack[:0], idxCol, n, kind+" indexes")
	if err != nil {
		return dst, fmt.Errorf("decode %s: %w", kind, err)
	}
	for i, x := range idx {
		if x >= uint64(len(dict)) {
			return dst, fmt.Errorf("decode %s: index %d of value %d outside a dictionary of %d: %w", kind, x, i, len(dict), ErrCorrupt)
		}
	}
	dst, out := grow(dst, n)
	for i, x := range idx {
		out[i] = dict[x]
	}
	return dst, nil
}
