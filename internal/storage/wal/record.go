package wal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"slices"
	"strconv"
	"strings"

	"github.com/klauspost/compress/s2"
)

// The byte layout below is documented in docs/format/wal.md; change both
// together.
const (
	// segmentMagic opens every segment file.
	segmentMagic = "STWL"
	// formatVersion is the segment format this package writes and reads.
	formatVersion = 1
	// segmentHeaderSize is magic (4) + version (1) + reserved (3).
	segmentHeaderSize = 8
	// recordHeaderSize is type (1) + length (4) + CRC32C (4).
	recordHeaderSize = 9

	// MaxType is the largest record type a caller may use; the top bit of
	// the stored type byte is the s2 flag.
	MaxType = 0x7f
	// flagS2 marks a record whose payload is an s2 block.
	flagS2 = 0x80

	// MaxPayloadSize bounds a record's payload, compressed or not. It also
	// bounds what a corrupt length field can make Replay allocate.
	MaxPayloadSize = 256 << 20

	// minCompressSize is the payload size under which compression is not
	// tried: a few bytes never shrink enough to pay for the attempt.
	minCompressSize = 64
)

// castagnoli returns the CRC32C table. crc32.MakeTable caches the
// Castagnoli table, so this costs a sync.Once check, and the package keeps
// no table of its own.
func castagnoli() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) }

// appendSegmentHeader appends the header every segment starts with.
func appendSegmentHeader(dst []byte) []byte {
	dst = append(dst, segmentMagic...)
	return append(dst, formatVersion, 0, 0, 0)
}

// appendRecord appends one framed record to dst. The payload is stored as
// an s2 block when that makes it smaller. typ must be ≤ MaxType.
func appendRecord(dst []byte, typ byte, payload []byte) []byte {
	start := len(dst)
	dst = slices.Grow(dst, recordHeaderSize+s2.MaxEncodedLen(len(payload)))
	dst = dst[:start+recordHeaderSize]
	body := start + recordHeaderSize
	stored := false
	if len(payload) >= minCompressSize {
		// s2.Encode writes into the spare capacity when it is large enough,
		// which the Grow above guarantees.
		enc := s2.Encode(dst[body:cap(dst)], payload)
		if len(enc) < len(payload) {
			dst = dst[:body+len(enc)]
			typ |= flagS2
			stored = true
		}
	}
	if !stored {
		dst = append(dst, payload...)
	}
	n := len(dst) - body
	dst[start] = typ
	binary.LittleEndian.PutUint32(dst[start+1:], uint32(n))
	tab := castagnoli()
	crc := crc32.Update(0, tab, dst[start:start+5])
	crc = crc32.Update(crc, tab, dst[body:])
	binary.LittleEndian.PutUint32(dst[start+5:], crc)
	return dst
}

// recordHeader is a decoded record header.
type recordHeader struct {
	typ        byte // caller's type, flag removed
	compressed bool
	length     uint32 // stored payload bytes
	crc        uint32
}

func parseRecordHeader(h []byte) recordHeader {
	return recordHeader{
		typ:        h[0] &^ flagS2,
		compressed: h[0]&flagS2 != 0,
		length:     binary.LittleEndian.Uint32(h[1:5]),
		crc:        binary.LittleEndian.Uint32(h[5:9]),
	}
}

// checksum computes a record's CRC32C from its header and stored payload.
func checksum(h []byte, body []byte) uint32 {
	tab := castagnoli()
	crc := crc32.Update(0, tab, h[:5])
	return crc32.Update(crc, tab, body)
}

// decodePayload returns the caller's payload of a checked record, decoding
// into dst's capacity when it is large enough.
func decodePayload(dst []byte, h recordHeader, body []byte) ([]byte, error) {
	if !h.compressed {
		return body, nil
	}
	n, err := s2.DecodedLen(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPayload, err)
	}
	if n > MaxPayloadSize {
		return nil, fmt.Errorf("%w: decoded length %d over %d", ErrBadPayload, n, MaxPayloadSize)
	}
	out, err := s2.Decode(dst[:0:cap(dst)], body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPayload, err)
	}
	return out, nil
}

// segmentName is the file name of segment id: _00001.wal, as in 1.x; ids
// past 99999 simply get more digits.
func segmentName(id uint64) string { return fmt.Sprintf("_%05d.wal", id) }

// parseSegmentName returns the id of a segment file name. Only the exact
// name segmentName produces is accepted, so that "_1.wal" and "_00001.wal"
// cannot both claim id 1.
func parseSegmentName(name string) (uint64, bool) {
	digits, ok := strings.CutPrefix(name, "_")
	if !ok {
		return 0, false
	}
	digits, ok = strings.CutSuffix(digits, ".wal")
	if !ok || digits == "" {
		return 0, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || id == 0 || segmentName(id) != name {
		return 0, false
	}
	return id, true
}
