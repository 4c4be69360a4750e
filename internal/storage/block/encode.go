package block

import (
	"encoding/binary"
	"fmt"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/codec"
)

// Block layout (docs/format/tsm.md has the diagram):
//
//	type byte        models.FieldType of the values (1..5)
//	uvarint          length in bytes of the timestamp column
//	timestamps       codec.AppendTimestamps
//	values           codec.Append{Floats,Integers,Unsigneds,Booleans,Strings}, to the end
//
// The timestamp column is length-prefixed so that DecodeTimes can stop
// after it and so that the value column needs no framing of its own.

// Encode appends one block holding a to dst and returns the extended
// slice. The times of a must be strictly ascending and as many as the
// values; otherwise Encode returns an error wrapping ErrInvalid and dst
// unchanged.
func Encode[T Value](dst []byte, a Array[T]) ([]byte, error) {
	if len(a.Times) != len(a.Values) {
		return dst, fmt.Errorf("%w: %d times but %d values", ErrInvalid, len(a.Times), len(a.Values))
	}
	for i := 1; i < len(a.Times); i++ {
		if a.Times[i] <= a.Times[i-1] {
			return dst, fmt.Errorf("%w: time %d at %d follows %d", ErrInvalid, a.Times[i], i, a.Times[i-1])
		}
	}
	start := len(dst)
	dst = append(dst, byte(TypeOf[T]()), 0) // the 0 reserves one byte of the length
	tsStart := len(dst)
	dst = codec.AppendTimestamps(dst, a.Times)
	tsLen := len(dst) - tsStart
	var lenBuf [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(lenBuf[:], uint64(tsLen))
	if n > 1 {
		// The column outgrew the one reserved byte: shift it right.
		dst = append(dst, lenBuf[:n-1]...)
		copy(dst[tsStart+n-1:], dst[tsStart:tsStart+tsLen])
	}
	copy(dst[start+1:], lenBuf[:n])
	switch vs := any(a.Values).(type) {
	case []float64:
		dst = codec.AppendFloats(dst, vs)
	case []int64:
		dst = codec.AppendIntegers(dst, vs)
	case []uint64:
		dst = codec.AppendUnsigneds(dst, vs)
	case []bool:
		dst = codec.AppendBooleans(dst, vs)
	case []string:
		dst = codec.AppendStrings(dst, vs)
	}
	return dst, nil
}

// BlockType returns the type of the values a block holds.
func BlockType(block []byte) (models.FieldType, error) {
	if len(block) == 0 {
		return models.Unknown, fmt.Errorf("%w: empty block", ErrCorrupt)
	}
	t := models.FieldType(block[0])
	if !t.Valid() {
		return models.Unknown, fmt.Errorf("%w: unknown type byte %d", ErrCorrupt, block[0])
	}
	return t, nil
}

// split returns the two columns of a block.
func split(block []byte) (typ models.FieldType, ts, vals []byte, err error) {
	if typ, err = BlockType(block); err != nil {
		return typ, nil, nil, err
	}
	n, k := binary.Uvarint(block[1:])
	if k <= 0 {
		return typ, nil, nil, fmt.Errorf("%w: bad timestamp column length", ErrCorrupt)
	}
	rest := block[1+k:]
	if n > uint64(len(rest)) {
		return typ, nil, nil, fmt.Errorf("%w: timestamp column of %d bytes in %d", ErrCorrupt, n, len(rest))
	}
	return typ, rest[:n], rest[n:], nil
}

// DecodeTimes decodes only the timestamps of a block into dst[:0], reusing
// its capacity, and returns them. It checks that they ascend strictly.
func DecodeTimes(block []byte, dst []int64) ([]int64, error) {
	_, ts, _, err := split(block)
	if err != nil {
		return dst[:0], err
	}
	return decodeTimes(ts, dst[:0])
}

func decodeTimes(ts []byte, dst []int64) ([]int64, error) {
	dst, err := codec.DecodeTimestamps(dst, ts)
	if err != nil {
		return dst[:0], fmt.Errorf("%w: timestamps: %w", ErrCorrupt, err)
	}
	for i := 1; i < len(dst); i++ {
		if dst[i] <= dst[i-1] {
			return dst[:0], fmt.Errorf("%w: time %d at %d follows %d", ErrCorrupt, dst[i], i, dst[i-1])
		}
	}
	return dst, nil
}

// Decode decodes a block of type T into dst, reusing its capacity. A block
// of another type gives an error wrapping ErrTypeMismatch; a damaged block
// one wrapping ErrCorrupt. On error dst is left empty.
func Decode[T Value](block []byte, dst *Array[T]) error {
	typ, ts, vals, err := split(block)
	if err != nil {
		dst.Reset()
		return err
	}
	if want := TypeOf[T](); typ != want {
		dst.Reset()
		return fmt.Errorf("%w: block holds %s values, not %s", ErrTypeMismatch, typ, want)
	}
	if dst.Times, err = decodeTimes(ts, dst.Times[:0]); err != nil {
		dst.Reset()
		return err
	}
	clear(dst.Values) // drop references to old strings before reuse
	switch p := any(&dst.Values).(type) {
	case *[]float64:
		*p, err = codec.DecodeFloats((*p)[:0], vals)
	case *[]int64:
		*p, err = codec.DecodeIntegers((*p)[:0], vals)
	case *[]uint64:
		*p, err = codec.DecodeUnsigneds((*p)[:0], vals)
	case *[]bool:
		*p, err = codec.DecodeBooleans((*p)[:0], vals)
	case *[]string:
		*p, err = codec.DecodeStrings((*p)[:0], vals)
	}
	if err != nil {
		dst.Reset()
		return fmt.Errorf("%w: %s values: %w", ErrCorrupt, typ, err)
	}
	if len(dst.Values) != len(dst.Times) {
		n, m := len(dst.Times), len(dst.Values)
		dst.Reset()
		return fmt.Errorf("%w: %d timestamps but %d values", ErrCorrupt, n, m)
	}
	return nil
}
