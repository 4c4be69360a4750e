// Package models holds the data model every layer shares: points, tags,
// fields, field types and the canonical series key.
//
// A Point produced by the line-protocol parser is a view: its byte slices
// borrow the request buffer, which the parser unescapes in place. A Point
// is therefore valid only until that buffer is reused; a consumer that keeps
// anything (a new series key, a string value in the cache) copies it.
package models

import (
	"math"
	"strconv"
)

// FieldType is the type of a field value. The zero value means "unknown".
type FieldType uint8

// Field types, in the order InfluxDB 1.x users know them.
const (
	Unknown FieldType = iota
	Float
	Integer
	Unsigned
	String
	Boolean
)

// String returns the name 1.x prints in SHOW FIELD KEYS and in field type
// conflict errors ("float", "integer", "unsigned", "string", "boolean").
func (t FieldType) String() string {
	switch t {
	case Float:
		return "float"
	case Integer:
		return "integer"
	case Unsigned:
		return "unsigned"
	case String:
		return "string"
	case Boolean:
		return "boolean"
	}
	return "unknown"
}

// Valid reports whether t is one of the five storable types.
func (t FieldType) Valid() bool { return t >= Float && t <= Boolean }

// Tag is one key/value pair of a point's tag set, unescaped.
type Tag struct {
	Key   []byte
	Value []byte
}

// Field is one field of a point: its unescaped key, its type and its value.
// Numeric and boolean values live in Bits (see the accessors); string values
// in Str, unescaped.
type Field struct {
	Key  []byte
	Type FieldType
	Bits uint64
	Str  []byte
}

// FloatField returns a float field.
func FloatField(key []byte, v float64) Field {
	return Field{Key: key, Type: Float, Bits: math.Float64bits(v)}
}

// IntegerField returns an integer field.
func IntegerField(key []byte, v int64) Field {
	return Field{Key: key, Type: Integer, Bits: uint64(v)}
}

// UnsignedField returns an unsigned field.
func UnsignedField(key []byte, v uint64) Field {
	return Field{Key: key, Type: Unsigned, Bits: v}
}

// StringField returns a string field.
func StringField(key, v []byte) Field {
	return Field{Key: key, Type: String, Str: v}
}

// BooleanField returns a boolean field.
func BooleanField(key []byte, v bool) Field {
	f := Field{Key: key, Type: Boolean}
	if v {
		f.Bits = 1
	}
	return f
}

// Float returns the value of a Float field.
func (f *Field) Float() float64 { return math.Float64frombits(f.Bits) }

// Integer returns the value of an Integer field.
func (f *Field) Integer() int64 { return int64(f.Bits) }

// Unsigned returns the value of an Unsigned field.
func (f *Field) Unsigned() uint64 { return f.Bits }

// Boolean returns the value of a Boolean field.
func (f *Field) Boolean() bool { return f.Bits != 0 }

// AppendValue appends the value in line-protocol form (strings quoted and
// escaped, integers with an i suffix, unsigned with u).
func (f *Field) AppendValue(dst []byte) []byte {
	switch f.Type {
	case Float:
		return strconv.AppendFloat(dst, f.Float(), 'g', -1, 64)
	case Integer:
		return append(strconv.AppendInt(dst, f.Integer(), 10), 'i')
	case Unsigned:
		return append(strconv.AppendUint(dst, f.Unsigned(), 10), 'u')
	case String:
		dst = append(dst, '"')
		dst = AppendEscaped(dst, f.Str, fieldStringEscapes)
		return append(dst, '"')
	case Boolean:
		return strconv.AppendBool(dst, f.Boolean())
	}
	return dst
}

// Point is one line of line protocol: measurement, tags sorted by key,
// fields (each key at most once), and a timestamp in nanoseconds.
type Point struct {
	Measurement []byte
	Tags        []Tag
	Fields      []Field
	Time        int64
	// Line is the 1-based line number in the request body, kept so that a
	// rejection further down the write path can name the line.
	Line int
}

// Time range InfluxDB 1.x accepts: int64 minus the two values it reserves
// as sentinels at each end.
const (
	MinNanoTime = math.MinInt64 + 2
	MaxNanoTime = math.MaxInt64 - 1
)
