package index

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/vfs"
)

// The series file is an append-only log of framed records after an 8-byte
// header (docs/format/index.md has the byte diagrams):
//
//	record = length u32 | type u8 | payload [length]byte | crc u32
//
// The CRC-32C covers length, type and payload. A series record's payload is
// its id and its measurement and tags, length-prefixed and unescaped, so
// that reading it back never depends on parsing an escaped key; a tombstone
// record's payload is a list of dropped ids.
const (
	seriesFileName = "series.log"
	fileHeaderLen  = 8
	recHeaderLen   = 5 // length + type
	recOverhead    = recHeaderLen + 4
	// maxRecordPayload bounds a record's declared length: a series record
	// is at most a 64 KiB key plus length prefixes, a tombstone record at
	// most maxTombstoneIDs ids.
	maxRecordPayload = 1 << 20
	maxTombstoneIDs  = 1 << 16

	recSeries    = 1
	recTombstone = 2
)

// fileMagic starts the series file: "STRSF", two zero bytes, version 1.
const fileMagic = "STRSF\x00\x00\x01"

func crc32c(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }

// appendRecord frames payload (already appended to dst at start+5) as a
// record of type typ: it fills in the header and appends the CRC.
func finishRecord(dst []byte, start int, typ byte) []byte {
	n := len(dst) - start - recHeaderLen
	binary.LittleEndian.PutUint32(dst[start:], uint32(n))
	dst[start+4] = typ
	return binary.LittleEndian.AppendUint32(dst, crc32c(dst[start:]))
}

// appendSeriesRecord appends the record of a new series. tags must not
// hold empty values.
func appendSeriesRecord(dst []byte, id uint64, name []byte, tags []models.Tag) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, recHeaderLen)...)
	dst = binary.AppendUvarint(dst, id)
	dst = binary.AppendUvarint(dst, uint64(len(name)))
	dst = append(dst, name...)
	dst = binary.AppendUvarint(dst, uint64(len(tags)))
	for i := range tags {
		dst = binary.AppendUvarint(dst, uint64(len(tags[i].Key)))
		dst = append(dst, tags[i].Key...)
		dst = binary.AppendUvarint(dst, uint64(len(tags[i].Value)))
		dst = append(dst, tags[i].Value...)
	}
	return finishRecord(dst, start, recSeries)
}

// appendTombstoneRecords appends records dropping ids (ascending), at most
// maxTombstoneIDs per record, delta-encoded.
func appendTombstoneRecords(dst []byte, ids []uint32) []byte {
	for len(ids) > 0 {
		n := min(len(ids), maxTombstoneIDs)
		start := len(dst)
		dst = append(dst, make([]byte, recHeaderLen)...)
		dst = binary.AppendUvarint(dst, uint64(n))
		prev := uint32(0)
		for _, id := range ids[:n] {
			dst = binary.AppendUvarint(dst, uint64(id-prev))
			prev = id
		}
		dst = finishRecord(dst, start, recTombstone)
		ids = ids[n:]
	}
	return dst
}

// payloadReader decodes an untrusted payload; the first error sticks.
type payloadReader struct {
	b   []byte
	err error
}

func (r *payloadReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errPayload
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *payloadReader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errPayload
		return nil
	}
	b := r.b[:n:n]
	r.b = r.b[n:]
	return b
}

// decodeSeriesPayload decodes a series record and checks that it describes
// a canonical series: a non-empty measurement, non-empty tag keys and
// values, keys strictly ascending, a key of at most models.MaxKeyLength.
// The tags are appended to dst and alias p.
func decodeSeriesPayload(p []byte, dst []models.Tag) (id uint64, name []byte, tags []models.Tag, err error) {
	r := payloadReader{b: p}
	id = r.uvarint()
	name = r.bytes()
	n := r.uvarint()
	if r.err == nil && n > uint64(len(r.b)/4) {
		return 0, nil, nil, fmt.Errorf("%w: %d tags in %d bytes", errPayload, n, len(r.b))
	}
	tags = dst
	size := len(name)
	for i := uint64(0); i < n && r.err == nil; i++ {
		k, v := r.bytes(), r.bytes()
		tags = append(tags, models.Tag{Key: k, Value: v})
		size += 2 + len(k) + len(v)
	}
	switch {
	case r.err != nil:
		return 0, nil, nil, r.err
	case len(r.b) != 0:
		return 0, nil, nil, fmt.Errorf("%w: %d trailing bytes", errPayload, len(r.b))
	case id == 0 || id > math.MaxUint32:
		return 0, nil, nil, fmt.Errorf("%w: series id %d out of range", errPayload, id)
	case len(name) == 0:
		return 0, nil, nil, fmt.Errorf("%w: empty measurement", errPayload)
	case size > models.MaxKeyLength:
		return 0, nil, nil, fmt.Errorf("%w: series key too long", errPayload)
	}
	for i := range tags {
		if len(tags[i].Key) == 0 || len(tags[i].Value) == 0 {
			return 0, nil, nil, fmt.Errorf("%w: empty tag key or value", errPayload)
		}
		if i > 0 && bytes.Compare(tags[i-1].Key, tags[i].Key) >= 0 {
			return 0, nil, nil, fmt.Errorf("%w: tags not sorted", errPayload)
		}
	}
	return id, name, tags, nil
}

// decodeTombstonePayload appends the dropped ids of a tombstone record to
// dst.
func decodeTombstonePayload(p []byte, dst []uint32) ([]uint32, error) {
	r := payloadReader{b: p}
	n := r.uvarint()
	if r.err != nil || n == 0 || n > maxTombstoneIDs || n > uint64(len(r.b)) {
		return nil, fmt.Errorf("%w: bad tombstone count", errPayload)
	}
	var id uint64
	for i := uint64(0); i < n; i++ {
		d := r.uvarint()
		if r.err != nil || d == 0 {
			return nil, fmt.Errorf("%w: bad tombstone id", errPayload)
		}
		id += d
		if id > math.MaxUint32 {
			return nil, fmt.Errorf("%w: tombstone id out of range", errPayload)
		}
		dst = append(dst, uint32(id))
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errPayload, len(r.b))
	}
	return dst, nil
}

// recordScanner reads the records of a series file from an offset to its
// end. Next returns false at the end or on damage; Err then says which.
type recordScanner struct {
	ra   io.ReaderAt
	br   *bufio.Reader
	size int64
	off  int64 // offset of the next record
	buf  []byte

	typ     byte
	payload []byte
	recOff  int64

	torn   bool   // damage that is a torn tail (repairable)
	reason string // what is wrong at off
	ioErr  error
}

func newRecordScanner(ra io.ReaderAt, start, size int64) *recordScanner {
	return &recordScanner{
		ra:   ra,
		br:   bufio.NewReaderSize(io.NewSectionReader(ra, start, size-start), 1<<20),
		size: size,
		off:  start,
	}
}

// Next advances to the next intact record.
func (s *recordScanner) Next() bool {
	if s.off >= s.size || s.reason != "" || s.ioErr != nil {
		return false
	}
	if s.size-s.off < recOverhead {
		return s.damaged("truncated record header", s.size)
	}
	var hdr [recHeaderLen]byte
	if _, err := io.ReadFull(s.br, hdr[:]); err != nil {
		s.ioErr = err
		return false
	}
	n := int64(binary.LittleEndian.Uint32(hdr[:]))
	end := s.off + recOverhead + n
	if end > s.size {
		return s.damaged(fmt.Sprintf("record of %d bytes runs past the end of the file", n), s.size)
	}
	if n > maxRecordPayload {
		return s.damaged(fmt.Sprintf("record length %d too large", n), end)
	}
	if cap(s.buf) < int(n)+recOverhead {
		s.buf = make([]byte, int(n)+recOverhead)
	}
	b := s.buf[:int(n)+recOverhead]
	copy(b, hdr[:])
	if _, err := io.ReadFull(s.br, b[recHeaderLen:]); err != nil {
		s.ioErr = err
		return false
	}
	body := b[:recHeaderLen+n]
	if crc32c(body) != binary.LittleEndian.Uint32(b[recHeaderLen+n:]) {
		return s.damaged("checksum mismatch", end)
	}
	s.typ, s.payload, s.recOff = hdr[4], body[recHeaderLen:], s.off
	s.off = end
	return true
}

// damaged records damage in the record at s.off, which claims to end at
// end. It is a torn tail when nothing but zeros follows that record: the
// record was the last one written (a crash cut it short), or the file had
// grown before a crash and the data of the record and the ones after it
// never landed. Anything else is corruption.
func (s *recordScanner) damaged(reason string, end int64) bool {
	s.reason = reason
	zero, err := allZero(s.ra, end, s.size)
	if err != nil {
		s.ioErr = err
		return false
	}
	s.torn = zero
	return false
}

func allZero(ra io.ReaderAt, off, end int64) (bool, error) {
	buf := make([]byte, 64<<10)
	for off < end {
		n := min(int64(len(buf)), end-off)
		if _, err := ra.ReadAt(buf[:n], off); err != nil && !errors.Is(err, io.EOF) {
			return false, err
		}
		for _, c := range buf[:n] {
			if c != 0 {
				return false, nil
			}
		}
		off += n
	}
	return true, nil
}

// writeFileHeader makes f a valid empty series file.
func writeFileHeader(fsys vfs.FS, f vfs.File, dir string) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := f.Write([]byte(fileMagic)); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return fsys.SyncDir(dir)
}
