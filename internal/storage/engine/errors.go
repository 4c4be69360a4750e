package engine

import (
	"errors"
	"fmt"
	"io/fs"
)

var errNotExist = fs.ErrNotExist

// ErrShardClosed is returned for operations on a shard that has been closed
// (for example because its database was dropped while a write was in
// flight, 1.x #4538).
var ErrShardClosed = errors.New("shard is closed")

// CacheFullError is returned when the cache stayed over
// cache-max-memory-size for as long as the write could wait (1.x's text).
type CacheFullError struct{ Size, Max int64 }

func (e *CacheFullError) Error() string {
	return fmt.Sprintf("cache-max-memory-size exceeded: (%d/%d)", e.Size, e.Max)
}
