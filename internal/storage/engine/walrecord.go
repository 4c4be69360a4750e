package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/stratadb/strata/internal/models"
)

// WAL record types written by the engine. The WAL treats payloads as opaque.
const (
	recordWrite  byte = 1
	recordDelete byte = 2
	// recordDropFields forgets a measurement's field types (DROP
	// MEASUREMENT). It is logged so that replay applies it in order: the
	// writes before it restore the old types, the drop forgets them, and
	// the writes after it may use new ones.
	recordDropFields byte = 3
)

const recordVersion = 1

// errBadRecord is returned for a WAL payload that does not decode. A record
// whose CRC passed but does not decode means a bug or deliberate tampering;
// it is still an error, never a panic.
var errBadRecord = errors.New("malformed wal record")

// writeRecord is one write request's points for one shard, by series id.
// Layout (docs/format/wal.md, "engine payloads"):
//
//	version byte
//	uvarint nDict, then per entry: uvarint len, field key, type byte
//	uvarint nPoints, then per point:
//	  uvarint seriesID, varint time, uvarint nFields,
//	  per field: uvarint dict index, value
//	    float: 8 bytes little-endian; integer: varint; unsigned: uvarint;
//	    boolean: 1 byte; string: uvarint len + bytes
type recordEncoder struct {
	dict   map[string]int
	keys   []dictEntry
	points []byte
	n      int
}

type dictEntry struct {
	key string
	typ models.FieldType
}

func (e *recordEncoder) reset() {
	if e.dict == nil {
		e.dict = make(map[string]int)
	}
	clear(e.dict)
	e.keys = e.keys[:0]
	e.points = e.points[:0]
	e.n = 0
}

func (e *recordEncoder) dictIndex(f *models.Field) int {
	// The dictionary key includes the type so one record may carry the same
	// field name with different types for different measurements.
	var buf [256]byte
	k := append(append(buf[:0], byte(f.Type)), f.Key...)
	if i, ok := e.dict[string(k)]; ok {
		return i
	}
	i := len(e.keys)
	e.dict[string(k)] = i
	e.keys = append(e.keys, dictEntry{key: string(f.Key), typ: f.Type})
	return i
}

// add appends one point; fields must all be valid.
func (e *recordEncoder) add(id uint64, t int64, fields []models.Field) {
	b := e.points
	b = binary.AppendUvarint(b, id)
	b = binary.AppendVarint(b, t)
	b = binary.AppendUvarint(b, uint64(len(fields)))
	for i := range fields {
		f := &fields[i]
		b = binary.AppendUvarint(b, uint64(e.dictIndex(f)))
		switch f.Type {
		case models.Float:
			b = binary.LittleEndian.AppendUint64(b, f.Bits)
		case models.Integer:
			b = binary.AppendVarint(b, int64(f.Bits))
		case models.Unsigned:
			b = binary.AppendUvarint(b, f.Bits)
		case models.Boolean:
			b = append(b, byte(f.Bits&1))
		case models.String:
			b = binary.AppendUvarint(b, uint64(len(f.Str)))
			b = append(b, f.Str...)
		}
	}
	e.points = b
	e.n++
}

// encode appends the finished record to dst.
func (e *recordEncoder) encode(dst []byte) []byte {
	dst = append(dst, recordVersion)
	dst = binary.AppendUvarint(dst, uint64(len(e.keys)))
	for _, k := range e.keys {
		dst = binary.AppendUvarint(dst, uint64(len(k.key)))
		dst = append(dst, k.key...)
		dst = append(dst, byte(k.typ))
	}
	dst = binary.AppendUvarint(dst, uint64(e.n))
	return append(dst, e.points...)
}

// recordReader decodes a record with bounds checks on every read.
type recordReader struct {
	b   []byte
	err error
}

func (r *recordReader) fail() {
	if r.err == nil {
		r.err = errBadRecord
	}
	r.b = nil
}

func (r *recordReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recordReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recordReader) bytes(n uint64) []byte {
	if n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *recordReader) byte1() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

// decodeWriteRecord calls fn for each point of a write record. The fields
// slice passed to fn is reused between calls; its keys and strings borrow
// payload.
func decodeWriteRecord(payload []byte, fn func(id uint64, t int64, fields []models.Field)) error {
	r := recordReader{b: payload}
	if v := r.byte1(); v != recordVersion {
		return fmt.Errorf("%w: version %d", errBadRecord, v)
	}
	nDict := r.uvarint()
	if nDict > uint64(len(r.b)) {
		return errBadRecord
	}
	dict := make([]dictEntry, 0, nDict)
	keys := make([][]byte, 0, nDict)
	for range nDict {
		k := r.bytes(r.uvarint())
		t := models.FieldType(r.byte1())
		if r.err != nil {
			return r.err
		}
		if !t.Valid() {
			return fmt.Errorf("%w: field type %d", errBadRecord, t)
		}
		dict = append(dict, dictEntry{typ: t})
		keys = append(keys, k)
	}
	nPoints := r.uvarint()
	var fields []models.Field
	for range nPoints {
		id := r.uvarint()
		t := r.varint()
		nf := r.uvarint()
		if r.err != nil {
			return r.err
		}
		if nf > uint64(len(r.b)) {
			return errBadRecord
		}
		fields = fields[:0]
		for range nf {
			di := r.uvarint()
			if r.err != nil || di >= uint64(len(dict)) {
				return errBadRecord
			}
			f := models.Field{Key: keys[di], Type: dict[di].typ}
			switch f.Type {
			case models.Float:
				b := r.bytes(8)
				if r.err == nil {
					f.Bits = binary.LittleEndian.Uint64(b)
				}
			case models.Integer:
				f.Bits = uint64(r.varint())
			case models.Unsigned:
				f.Bits = r.uvarint()
			case models.Boolean:
				f.Bits = uint64(r.byte1() & 1)
			case models.String:
				f.Str = r.bytes(r.uvarint())
			}
			if r.err != nil {
				return r.err
			}
			fields = append(fields, f)
		}
		fn(id, t, fields)
	}
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", errBadRecord, len(r.b))
	}
	return nil
}

// deleteRecord removes the values of some series in a time range.
// Layout: version byte, varint min, varint max, uvarint n, n × uvarint id.
func encodeDeleteRecord(dst []byte, ids []uint64, min, max int64) []byte {
	dst = append(dst, recordVersion)
	dst = binary.AppendVarint(dst, min)
	dst = binary.AppendVarint(dst, max)
	dst = binary.AppendUvarint(dst, uint64(len(ids)))
	for _, id := range ids {
		dst = binary.AppendUvarint(dst, id)
	}
	return dst
}

func decodeDeleteRecord(payload []byte) (ids []uint64, min, max int64, err error) {
	r := recordReader{b: payload}
	if v := r.byte1(); v != recordVersion {
		return nil, 0, 0, fmt.Errorf("%w: version %d", errBadRecord, v)
	}
	min, max = r.varint(), r.varint()
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		return nil, 0, 0, errBadRecord
	}
	ids = make([]uint64, 0, n)
	for range n {
		ids = append(ids, r.uvarint())
	}
	if r.err != nil {
		return nil, 0, 0, r.err
	}
	return ids, min, max, nil
}

// encodeDropFieldsRecord: version byte, uvarint length, measurement name.
func encodeDropFieldsRecord(dst []byte, measurement string) []byte {
	dst = append(dst, recordVersion)
	dst = binary.AppendUvarint(dst, uint64(len(measurement)))
	return append(dst, measurement...)
}

func decodeDropFieldsRecord(payload []byte) (string, error) {
	r := recordReader{b: payload}
	if v := r.byte1(); v != recordVersion {
		return "", fmt.Errorf("%w: version %d", errBadRecord, v)
	}
	name := r.bytes(r.uvarint())
	if r.err != nil || len(r.b) != 0 {
		return "", errBadRecord
	}
	return string(name), nil
}

// floatOK reports whether a float may be stored (never NaN or ±Inf: the
// parser refuses them, and this guards every other way in).
func floatOK(bits uint64) bool {
	v := math.Float64frombits(bits)
	return !math.IsNaN(v) && !math.IsInf(v, 0)
}
