package tsm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/block"
)

// The byte layout is documented, with diagrams, in docs/format/tsm.md; keep
// the two in step.

// MaxPointsPerBlock bounds the points of one block: large enough to
// compress well, small enough that decoding a block to answer a narrow
// time range costs little.
const MaxPointsPerBlock = 1000

// Version is the file format version written in the header. Version 2
// adds each block's last value to its index entry; version 1 files (which
// lack it) are still read, and compaction rewrites them as version 2.
const Version = 2

// versionNoLast is the first version, whose entries have no last value.
const versionNoLast = 1

const (
	headerSize = 8  // magic, version, 3 reserved bytes
	footerSize = 56 // see encodeFooter
	crcSize    = 4  // the CRC32C before each block
	// restartInterval is how many index records share one restart point:
	// every restartInterval-th key is stored whole and its offset is kept
	// in the restart table, the keys between store only the bytes that
	// differ from the previous key.
	restartInterval = 16
	// maxRestartInterval bounds the interval a file may declare, so that a
	// lookup never scans an unbounded run of records.
	maxRestartInterval = 1024
)

// fileMagic opens and closes every data file.
var fileMagic = [4]byte{'S', 'T', 'S', 'M'}

// crc returns the CRC32C of b. crc32 caches the Castagnoli table, so
// MakeTable costs nothing after the first call.
func crc(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }

// IndexEntry locates one block of a key and summarises it.
type IndexEntry struct {
	MinTime, MaxTime int64 // first and last timestamp of the block
	// Offset is the file offset of the block's CRC; the block bytes follow
	// it. Size counts both: the CRC and the block.
	Offset uint64
	Size   uint32
	Stats  block.Stats
}

// OverlapsTime reports whether the block holds times in [min, max].
func (e *IndexEntry) OverlapsTime(min, max int64) bool { return e.MinTime <= max && e.MaxTime >= min }

// footer is the fixed tail of a file.
type footer struct {
	indexOffset     uint64 // start of the index: the end of the last block
	recordsLen      uint64 // bytes of key records; the restart table follows
	keyCount        uint64
	minTime         int64 // over every block; MaxInt64 when the file is empty
	maxTime         int64 // MinInt64 when the file is empty
	restartInterval uint32
	indexCRC        uint32 // CRC32C of the whole index: records and restart table
}

func appendHeader(dst []byte, version byte) []byte {
	dst = append(dst, fileMagic[:]...)
	return append(dst, version, 0, 0, 0)
}

func appendFooter(dst []byte, f footer) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint64(dst, f.indexOffset)
	dst = binary.LittleEndian.AppendUint64(dst, f.recordsLen)
	dst = binary.LittleEndian.AppendUint64(dst, f.keyCount)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(f.minTime))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(f.maxTime))
	dst = binary.LittleEndian.AppendUint32(dst, f.restartInterval)
	dst = binary.LittleEndian.AppendUint32(dst, f.indexCRC)
	dst = binary.LittleEndian.AppendUint32(dst, crc(dst[start:]))
	return append(dst, fileMagic[:]...)
}

// errAt builds the cause of a corruption error.
func errAt(format string, args ...any) error { return fmt.Errorf(format, args...) }

// parseHeader checks the header and returns the file's version; it
// returns the offset of the first bad byte on failure.
func parseHeader(b []byte) (byte, int64, error) {
	if [4]byte(b[:4]) != fileMagic {
		return 0, 0, errAt("bad magic %x in header", b[:4])
	}
	if b[4] != Version && b[4] != versionNoLast {
		return 0, 4, errAt("unsupported version %d", b[4])
	}
	for i := 5; i < headerSize; i++ {
		if b[i] != 0 {
			return 0, int64(i), errAt("reserved header byte is %d", b[i])
		}
	}
	return b[4], 0, nil
}

// parseFooter decodes the last footerSize bytes of b; off is their file
// offset, for errors.
func parseFooter(b []byte) (footer, int64, error) {
	if [4]byte(b[52:56]) != fileMagic {
		return footer{}, 52, errAt("bad magic %x in footer", b[52:56])
	}
	if want, got := binary.LittleEndian.Uint32(b[48:]), crc(b[:48]); want != got {
		return footer{}, 48, errAt("footer checksum mismatch: stored %08x, computed %08x", want, got)
	}
	le := binary.LittleEndian
	return footer{
		indexOffset:     le.Uint64(b[0:]),
		recordsLen:      le.Uint64(b[8:]),
		keyCount:        le.Uint64(b[16:]),
		minTime:         int64(le.Uint64(b[24:])),
		maxTime:         int64(le.Uint64(b[32:])),
		restartInterval: le.Uint32(b[40:]),
		indexCRC:        le.Uint32(b[44:]),
	}, 0, nil
}

// An index record holds one key (docs/format/tsm.md, "Index"):
//
//	shared    uvarint  bytes shared with the previous key (0 at a restart)
//	suffixLen uvarint
//	suffix    suffixLen bytes
//	type      1 byte, models.FieldType
//	bodyLen   uvarint
//	body      count uvarint, then count entries
//
// An entry is delta-coded against the previous entry of the same key:
//
//	minTime   first: zig-zag varint; later: uvarint (minTime - previous maxTime) >= 1
//	span      uvarint maxTime - minTime
//	offset    first: uvarint; later: uvarint (offset - previous block's end)
//	size      uvarint, CRC included
//	count     uvarint
//	min max sum  Float: 3 x 8 bytes LE (the bits); Integer: 3 zig-zag varints;
//	             Unsigned: 3 uvarints; Boolean, String: absent
//	last      (version 2) Float: 8 bytes LE; Integer, Unsigned: uvarint
//	          last - min; Boolean: 1 byte, 0 or 1; String: absent

// appendEntries encodes the body of a record.
func appendEntries(dst []byte, typ models.FieldType, version byte, es []IndexEntry) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(es)))
	for i, e := range es {
		if i == 0 {
			dst = binary.AppendVarint(dst, e.MinTime)
		} else {
			dst = binary.AppendUvarint(dst, uint64(e.MinTime)-uint64(es[i-1].MaxTime))
		}
		dst = binary.AppendUvarint(dst, uint64(e.MaxTime)-uint64(e.MinTime))
		if i == 0 {
			dst = binary.AppendUvarint(dst, e.Offset)
		} else {
			dst = binary.AppendUvarint(dst, e.Offset-(es[i-1].Offset+uint64(es[i-1].Size)))
		}
		dst = binary.AppendUvarint(dst, uint64(e.Size))
		dst = binary.AppendUvarint(dst, uint64(e.Stats.Count))
		switch typ {
		case models.Float:
			dst = binary.LittleEndian.AppendUint64(dst, e.Stats.Min)
			dst = binary.LittleEndian.AppendUint64(dst, e.Stats.Max)
			dst = binary.LittleEndian.AppendUint64(dst, e.Stats.Sum)
		case models.Integer:
			dst = binary.AppendVarint(dst, int64(e.Stats.Min))
			dst = binary.AppendVarint(dst, int64(e.Stats.Max))
			dst = binary.AppendVarint(dst, int64(e.Stats.Sum))
		case models.Unsigned:
			dst = binary.AppendUvarint(dst, e.Stats.Min)
			dst = binary.AppendUvarint(dst, e.Stats.Max)
			dst = binary.AppendUvarint(dst, e.Stats.Sum)
		}
		if version == versionNoLast {
			continue
		}
		switch typ {
		case models.Float:
			dst = binary.LittleEndian.AppendUint64(dst, e.Stats.Last)
		case models.Integer, models.Unsigned:
			// Wrapping subtraction is the exact distance: last >= min.
			dst = binary.AppendUvarint(dst, e.Stats.Last-e.Stats.Min)
		case models.Boolean:
			dst = append(dst, byte(e.Stats.Last))
		}
	}
	return dst
}

// errTruncated is the cause of reading past the end of a region.
var errTruncated = errors.New("truncated")

// decoder reads the index out of the file bytes with bounds checks on
// every read. The first failure sticks: it records the offset and cause,
// and every later read returns zero values, so callers check err once.
type decoder struct {
	b   []byte // the whole file
	off int    // next byte to read
	end int    // reads stop here
	err error
	at  int // offset of the first failure
}

func (d *decoder) fail(at int, err error) {
	if d.err == nil {
		d.err, d.at = err, at
	}
	d.off = d.end
}

func (d *decoder) uvarint() uint64 {
	// Most lengths and counts in the index fit one byte: take them without
	// the general decoder (a third of a lookup's time otherwise).
	if d.off < d.end && d.off < len(d.b) && d.b[d.off] < 0x80 && d.err == nil {
		d.off++
		return uint64(d.b[d.off-1])
	}
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:d.end])
	if n <= 0 {
		d.fail(d.off, errAt("bad varint"))
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:d.end])
	if n <= 0 {
		d.fail(d.off, errAt("bad varint"))
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) u64() uint64 {
	if d.err != nil {
		return 0
	}
	if d.end-d.off < 8 {
		d.fail(d.off, errTruncated)
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b[d.off:])
	d.off += 8
	return v
}

func (d *decoder) byte1() byte {
	if d.err != nil {
		return 0
	}
	if d.off >= d.end {
		d.fail(d.off, errTruncated)
		return 0
	}
	d.off++
	return d.b[d.off-1]
}

// length reads a uvarint length of bytes that must follow within the
// region.
func (d *decoder) length() int {
	at := d.off
	v := d.uvarint()
	if d.err == nil && v > uint64(d.end-d.off) {
		d.fail(at, errAt("length %d runs past the end of the index", v))
		return 0
	}
	return int(v)
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > d.end-d.off {
		d.fail(d.off, errTruncated)
		return nil
	}
	d.off += n
	return d.b[d.off-n : d.off]
}

// record is one decoded index record header.
type record struct {
	shared  int
	suffix  []byte
	typ     models.FieldType
	body    int // file offset of the body
	bodyEnd int
}

// readRecord decodes the record header at d.off and leaves d.off after the
// record.
func (d *decoder) readRecord() record {
	var rec record
	at := d.off
	shared := d.uvarint()
	if d.err == nil && shared > math.MaxInt32 {
		d.fail(at, errAt("shared prefix length %d too long", shared))
	}
	rec.shared = int(shared) // checked against the previous key by the caller
	rec.suffix = d.bytes(d.length())
	typAt := d.off
	rec.typ = models.FieldType(d.byte1())
	if d.err == nil && !rec.typ.Valid() {
		d.fail(typAt, errAt("unknown type %d", rec.typ))
	}
	n := d.length()
	rec.body = d.off
	d.bytes(n)
	rec.bodyEnd = d.off
	return rec
}

// decodeEntries decodes a record body into dst (appending) and checks each
// entry: times ascend without overlap, blocks lie within [dataStart,
// dataEnd) and follow each other in the file.
func decodeEntries(data []byte, body, bodyEnd int, typ models.FieldType, version byte, dataStart, dataEnd uint64, dst []IndexEntry) ([]IndexEntry, int, error) {
	d := decoder{b: data, off: body, end: bodyEnd}
	countAt := d.off
	count := d.uvarint()
	if d.err == nil && (count == 0 || count > uint64(bodyEnd-body)) {
		return dst, countAt, errAt("bad entry count %d", count)
	}
	var prev IndexEntry
	for i := uint64(0); i < count && d.err == nil; i++ {
		at := d.off
		var e IndexEntry
		if i == 0 {
			e.MinTime = d.varint()
		} else {
			delta := d.uvarint()
			if d.err == nil && (delta == 0 || delta > uint64(math.MaxInt64)-uint64(prev.MaxTime)) {
				return dst, at, errAt("entry %d: time gap %d breaks the order", i, delta)
			}
			e.MinTime = int64(uint64(prev.MaxTime) + delta)
		}
		spanAt := d.off
		span := d.uvarint()
		if d.err == nil && span > uint64(math.MaxInt64)-uint64(e.MinTime) {
			return dst, spanAt, errAt("entry %d: time span %d overflows", i, span)
		}
		e.MaxTime = int64(uint64(e.MinTime) + span)
		offAt := d.off
		off := d.uvarint()
		if i > 0 && d.err == nil {
			if off > dataEnd {
				return dst, offAt, errAt("entry %d: offset gap %d runs past the data", i, off)
			}
			off += prev.Offset + uint64(prev.Size) // both terms <= dataEnd: no wrap
		}
		size := d.uvarint()
		if d.err == nil {
			if size <= crcSize || size > math.MaxUint32 || off < dataStart || off > dataEnd || size > dataEnd-off {
				return dst, offAt, errAt("entry %d: block at %d of %d bytes lies outside the data [%d, %d)", i, off, size, dataStart, dataEnd)
			}
		}
		e.Offset, e.Size = off, uint32(size)
		countAt := d.off
		n := d.uvarint()
		if d.err == nil && n > math.MaxUint32 {
			return dst, countAt, errAt("entry %d: point count %d too large", i, n)
		}
		e.Stats.Count = uint32(n)
		switch typ {
		case models.Float:
			e.Stats.Min, e.Stats.Max, e.Stats.Sum = d.u64(), d.u64(), d.u64()
		case models.Integer:
			e.Stats.Min, e.Stats.Max, e.Stats.Sum = uint64(d.varint()), uint64(d.varint()), uint64(d.varint())
		case models.Unsigned:
			e.Stats.Min, e.Stats.Max, e.Stats.Sum = d.uvarint(), d.uvarint(), d.uvarint()
		}
		if version != versionNoLast && typ != models.String {
			lastAt := d.off
			switch typ {
			case models.Float:
				e.Stats.Last = d.u64()
			case models.Integer, models.Unsigned:
				dl := d.uvarint()
				// The last value lies in [min, max]: the distances are
				// taken in the type's own order.
				span := e.Stats.Max - e.Stats.Min
				if d.err == nil && (dl > span || typ == models.Integer && int64(e.Stats.Max) < int64(e.Stats.Min) || typ == models.Unsigned && e.Stats.Max < e.Stats.Min) {
					return dst, lastAt, errAt("entry %d: last value lies outside [min, max]", i)
				}
				e.Stats.Last = e.Stats.Min + dl
			case models.Boolean:
				b := d.byte1()
				if d.err == nil && b > 1 {
					return dst, lastAt, errAt("entry %d: boolean last value %d", i, b)
				}
				e.Stats.Last = uint64(b)
			}
			e.Stats.HasLast = d.err == nil
		}
		if d.err != nil {
			break
		}
		dst = append(dst, e)
		prev = e
	}
	if d.err != nil {
		return dst, d.at, d.err
	}
	if d.off != bodyEnd {
		return dst, d.off, errAt("%d stray bytes after the entries", bodyEnd-d.off)
	}
	return dst, 0, nil
}
