package tsm

import (
	"errors"
	"fmt"
)

// Errors of reading a file. Every error about damaged bytes is a
// *CorruptionError, which matches ErrCorrupt under errors.Is.
var (
	// ErrCorrupt matches every *CorruptionError.
	ErrCorrupt = errors.New("tsm: corrupt file")
	// ErrClosed is returned by a Reader or Writer used after Close.
	ErrClosed = errors.New("tsm: file closed")
)

// Errors of writing a file: the caller broke an ordering rule or passed an
// inconsistent block. Nothing is written for the call that returns one, and
// the writer stays usable.
var (
	// ErrKeyOrder: keys must be written in strictly ascending byte order.
	ErrKeyOrder = errors.New("tsm: keys out of order")
	// ErrTimeOrder: the blocks of a key must ascend in time without
	// overlapping, and an array's times must be sorted and unique.
	ErrTimeOrder = errors.New("tsm: times out of order")
	// ErrTypeConflict: every block of a key has the same type.
	ErrTypeConflict = errors.New("tsm: field type conflict")
	// ErrInvalidBlock: WriteBlock got an empty block, an unknown type, a
	// block whose type byte disagrees with typ, or minT > maxT.
	ErrInvalidBlock = errors.New("tsm: invalid block")
	// ErrEmptyKey: a key must hold at least one byte.
	ErrEmptyKey = errors.New("tsm: empty key")
	// ErrUnsupportedArray: WriteArray takes a block.Array[T] or a pointer
	// to one.
	ErrUnsupportedArray = errors.New("tsm: unsupported array type")
	// ErrTooLarge: a block, or the index, passed a 32-bit size field.
	ErrTooLarge = errors.New("tsm: too large")
)

// Errors of tombstones.
var (
	// ErrInvalidTombstone: a tombstone needs Min <= Max, and a key unless
	// it is a prefix tombstone.
	ErrInvalidTombstone = errors.New("tsm: invalid tombstone")
)

// CorruptionError reports damaged bytes in a data file or a tombstone
// file: which file, and the byte offset where reading went wrong.
type CorruptionError struct {
	Path   string
	Offset int64
	Err    error
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("tsm: corrupt file %s at offset %d: %v", e.Path, e.Offset, e.Err)
}

// Unwrap returns the underlying cause.
func (e *CorruptionError) Unwrap() error { return e.Err }

// Is makes every CorruptionError match ErrCorrupt.
func (e *CorruptionError) Is(target error) bool { return target == ErrCorrupt }
