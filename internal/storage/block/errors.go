package block

import "errors"

// Errors of encoding a block.
var (
	// ErrInvalid is returned by Encode for an array that breaks the Array
	// invariants: unequal lengths, or times not strictly ascending.
	ErrInvalid = errors.New("block: invalid array")
)

// Errors of decoding a block.
var (
	// ErrCorrupt is wrapped by every error about a block that cannot be
	// decoded: too short, an unknown type byte, a column that does not
	// decode, columns of unequal length, timestamps out of order.
	ErrCorrupt = errors.New("block: corrupt block")

	// ErrTypeMismatch is returned when a block is decoded as a type other
	// than the one it holds. It is not corruption: the caller asked for the
	// wrong type.
	ErrTypeMismatch = errors.New("block: type mismatch")
)
