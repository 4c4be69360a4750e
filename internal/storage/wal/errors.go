package wal

import (
	"errors"
	"fmt"
)

// Errors of Write.
var (
	// ErrClosed is returned by operations on a WAL after Close.
	ErrClosed = errors.New("wal: closed")
	// ErrNotReplayed is returned by Write until Replay has completed
	// without error: appending behind an unrepaired torn tail would turn that
	// tail into corruption in the middle of the log.
	ErrNotReplayed = errors.New("wal: write before replay")
	// ErrInvalidType is returned for a record type above MaxType (the top bit
	// of the type byte is the compression flag).
	ErrInvalidType = errors.New("wal: invalid record type")
	// ErrRecordTooLarge is returned for a payload over MaxPayloadSize.
	ErrRecordTooLarge = errors.New("wal: record too large")
)

// Errors of Replay.
var (
	// ErrReplayAfterWrite is returned by Replay once Write has been called.
	ErrReplayAfterWrite = errors.New("wal: replay after write")
	// ErrUnsupportedVersion is returned for a segment written by a newer
	// format version. It is never repaired by truncation, so that a downgrade
	// cannot destroy a newer server's log.
	ErrUnsupportedVersion = errors.New("wal: unsupported segment version")
	// ErrForeignSegment is returned for a file with a segment's name that
	// does not start with the segment magic (an InfluxDB 1.x WAL segment,
	// for one). It is never repaired by truncation.
	ErrForeignSegment = errors.New("wal: not a strata WAL segment")
)

// Kinds of corruption, carried in CorruptionError.Err.
var (
	// ErrBadHeader means the segment does not start with the segment magic
	// (or is shorter than its header).
	ErrBadHeader = errors.New("wal: bad segment header")
	// ErrTruncated means a record header or payload runs past the end of the
	// segment: the classic torn write.
	ErrTruncated = errors.New("wal: truncated record")
	// ErrBadLength means a record header declares a length no writer can
	// produce.
	ErrBadLength = errors.New("wal: bad record length")
	// ErrChecksum means a record's CRC32C does not match its bytes.
	ErrChecksum = errors.New("wal: checksum mismatch")
	// ErrBadPayload means a record passed its checksum but its compressed
	// payload does not decode. A torn write cannot produce this, so it is
	// never repaired by truncation.
	ErrBadPayload = errors.New("wal: bad record payload")
)

// CorruptionError reports a bad record at a known place in the log. Replay
// returns it for damage that it must not repair by itself: anything outside
// the tail of the last segment, and damage no torn write can explain.
type CorruptionError struct {
	Segment string // path of the segment file
	Offset  int64  // byte offset of the bad record (0 for a bad header)
	// Err is the kind of damage, wrapped with detail: ErrBadHeader,
	// ErrTruncated, ErrBadLength, ErrChecksum, ErrBadPayload,
	// ErrUnsupportedVersion or ErrForeignSegment.
	Err error
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("wal: corrupt segment %s at offset %d: %v", e.Segment, e.Offset, e.Err)
}

// Unwrap returns the kind of corruption.
func (e *CorruptionError) Unwrap() error { return e.Err }
