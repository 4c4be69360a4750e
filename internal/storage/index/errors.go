package index

import (
	"errors"
	"fmt"
)

// Lifecycle.
var (
	// ErrClosed is returned by writes to an index after Close.
	ErrClosed = errors.New("series index closed")
	// ErrBroken is returned by every write after a failed write to the
	// series file could not be undone (the truncation that removes the
	// partial batch failed too); the index must be reopened.
	ErrBroken = errors.New("series index unusable after a failed repair")
)

// Series creation (set in SeriesSpec.Err; the engine reports them as a
// partial write).
var (
	// ErrBadSeriesKey means a spec is not canonical: its key does not equal
	// the key of its measurement and tags, its tags are not sorted by key,
	// its measurement is empty, or the key is longer than 64 KiB.
	ErrBadSeriesKey = errors.New("bad series key")
	// ErrSeriesIDsExhausted means every 32-bit series id has been used.
	ErrSeriesIDsExhausted = errors.New("series ids exhausted (2^32)")
	// ErrIndexFull means an in-memory arena of the index reached its 4 GiB
	// address space.
	ErrIndexFull = errors.New("series index full")
	// ErrMaxSeriesPerDatabase marks a LimitError for
	// [data] max-series-per-database.
	ErrMaxSeriesPerDatabase = errors.New("max-series-per-database limit exceeded")
	// ErrMaxValuesPerTag marks a LimitError for [data] max-values-per-tag.
	ErrMaxValuesPerTag = errors.New("max-values-per-tag limit exceeded")
)

// Queries.
var (
	// ErrBadExpr is returned by Match for a malformed expression: a nil
	// branch or matcher, an unknown operator, or a regex matcher without Re.
	ErrBadExpr = errors.New("bad tag expression")
)

// Files.
var (
	// ErrCorrupt is wrapped by every CorruptionError.
	ErrCorrupt = errors.New("corrupt index file")
	// errPayload is why a record whose checksum is right cannot be
	// decoded; it becomes the reason of a CorruptionError.
	errPayload = errors.New("malformed record payload")
)

// LimitError is the per-series error of a write over a configured limit. Its
// text is InfluxDB 1.x's partial-write reason, e.g.
// `max-series-per-database limit exceeded: (1000000)`; errors.Is matches it
// with ErrMaxSeriesPerDatabase or ErrMaxValuesPerTag.
type LimitError struct {
	Kind error
	msg  string
}

func (e *LimitError) Error() string { return e.msg }

// Unwrap returns the limit's sentinel.
func (e *LimitError) Unwrap() error { return e.Kind }

func maxSeriesError(limit int) error {
	return &LimitError{Kind: ErrMaxSeriesPerDatabase,
		msg: fmt.Sprintf("max-series-per-database limit exceeded: (%d)", limit)}
}

func maxValuesError(n, limit int, measurement, key, value []byte) error {
	return &LimitError{Kind: ErrMaxValuesPerTag,
		msg: fmt.Sprintf("max-values-per-tag limit exceeded (%d/%d): measurement=%q tag=%q value=%q",
			n, limit, measurement, key, value)}
}

// CorruptionError reports damage in an index file at a byte offset. A torn
// record at the end of the series file is repaired at open, not reported;
// damage anywhere else is.
type CorruptionError struct {
	Path   string
	Offset int64
	Reason string
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("%s: %s at offset %d: %s", e.Path, ErrCorrupt, e.Offset, e.Reason)
}

// Unwrap returns ErrCorrupt.
func (e *CorruptionError) Unwrap() error { return ErrCorrupt }
