package models

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
)

// MaxKeyLength bounds a series key plus field key, as in 1.x.
const MaxKeyLength = 65535

// Escape sets for the parts of line protocol (and of a series key, which is
// written in line-protocol form).
var (
	measurementEscapes = [256]bool{',': true, ' ': true}
	tagEscapes         = [256]bool{',': true, '=': true, ' ': true}
	fieldStringEscapes = [256]bool{'"': true, '\\': true}
)

// AppendEscaped appends s with a backslash before every byte in set.
func AppendEscaped(dst, s []byte, set [256]bool) []byte {
	for _, c := range s {
		if set[c] {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return dst
}

// AppendMeasurement appends a measurement name escaped for line protocol.
func AppendMeasurement(dst, name []byte) []byte { return AppendEscaped(dst, name, measurementEscapes) }

// AppendTagPart appends a tag key, tag value or field key escaped for line
// protocol.
func AppendTagPart(dst, s []byte) []byte { return AppendEscaped(dst, s, tagEscapes) }

// AppendSeriesKey appends the canonical series key of a measurement and a
// tag set sorted by key: the line-protocol form "m,k1=v1,k2=v2" with each
// part escaped. The same series always has the same key, whatever escaping
// the client used. Tags with an empty value are left out, as in 1.x.
func AppendSeriesKey(dst, measurement []byte, tags []Tag) []byte {
	dst = AppendMeasurement(dst, measurement)
	for i := range tags {
		if len(tags[i].Value) == 0 {
			continue
		}
		dst = append(dst, ',')
		dst = AppendTagPart(dst, tags[i].Key)
		dst = append(dst, '=')
		dst = AppendTagPart(dst, tags[i].Value)
	}
	return dst
}

// ErrBadSeriesKey is returned when a series key cannot be split into its
// measurement and tags.
var ErrBadSeriesKey = errors.New("malformed series key")

// ParseSeriesKey splits a canonical series key into its unescaped
// measurement and tags, appending the tags to dst. The returned slices are
// freshly allocated when the key holds escapes and share key otherwise.
func ParseSeriesKey(key []byte, dst []Tag) (measurement []byte, tags []Tag, err error) {
	i := scanTo(key, 0, ',')
	measurement = unescape(key[:i], &measurementEscapes)
	tags = dst
	for i < len(key) {
		i++ // the comma
		eq := scanTo(key, i, '=')
		if eq >= len(key) {
			return nil, nil, ErrBadSeriesKey
		}
		end := scanTo(key, eq+1, ',')
		tags = append(tags, Tag{Key: unescape(key[i:eq], &tagEscapes), Value: unescape(key[eq+1:end], &tagEscapes)})
		i = end
	}
	return measurement, tags, nil
}

// MeasurementFromSeriesKey returns the unescaped measurement of a series key.
func MeasurementFromSeriesKey(key []byte) []byte {
	return unescape(key[:scanTo(key, 0, ',')], &measurementEscapes)
}

// scanTo returns the index of the first unescaped c at or after i, or
// len(b).
func scanTo(b []byte, i int, c byte) int {
	for ; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case c:
			return i
		}
	}
	return len(b)
}

// unescape removes the backslash before each byte of set; a backslash
// before any other byte is literal, as in line protocol.
func unescape(b []byte, set *[256]bool) []byte {
	if bytes.IndexByte(b, '\\') < 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+1 < len(b) && set[b[i+1]] {
			i++
		}
		out = append(out, b[i])
	}
	return out
}

// AppendFieldKey appends the storage key of one field of a series:
// a two-byte big-endian length of the series key, the series key, then the
// field key. The length prefix makes the split unambiguous whatever bytes
// either part holds, and keeps every field of a series under one prefix.
func AppendFieldKey(dst, seriesKey, field []byte) []byte {
	// One growth for the whole key: callers pass nil for a fresh key on
	// hot paths (a cursor per series and field).
	dst = slices.Grow(dst, 2+len(seriesKey)+len(field))
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(seriesKey)))
	dst = append(dst, seriesKey...)
	return append(dst, field...)
}

// SplitFieldKey splits a key made by AppendFieldKey.
func SplitFieldKey(key []byte) (seriesKey, field []byte, err error) {
	if len(key) < 2 {
		return nil, nil, ErrBadSeriesKey
	}
	n := int(binary.BigEndian.Uint16(key))
	if 2+n > len(key) {
		return nil, nil, ErrBadSeriesKey
	}
	return key[2 : 2+n], key[2+n:], nil
}
