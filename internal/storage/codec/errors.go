package codec

import "errors"

// ErrCorrupt is returned (wrapped, with the encoding and what was wrong) for
// input that cannot be decoded: short, truncated, inconsistent or hostile.
var ErrCorrupt = errors.New("codec: corrupt input")
