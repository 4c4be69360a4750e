package models

import (
	"errors"
	"fmt"
)

// Errors of the write path that the HTTP layer maps to status codes. They
// live here, beside the data model, because the coordinator, storage and
// httpd all speak them.

// PartialWriteError reports points that were rejected while the rest of the
// write was kept; /write answers 400 with its text, as 1.x does.
type PartialWriteError struct {
	Reason  string
	Dropped int
}

func (e *PartialWriteError) Error() string {
	return fmt.Sprintf("partial write: %s dropped=%d", e.Reason, e.Dropped)
}

// DatabaseNotFoundError is returned for writes to a database that does not
// exist (404 on /write).
type DatabaseNotFoundError struct{ Name string }

func (e *DatabaseNotFoundError) Error() string { return fmt.Sprintf("database not found: %q", e.Name) }

// RetentionPolicyNotFoundError is returned for writes to an unknown
// retention policy.
type RetentionPolicyNotFoundError struct{ Name string }

func (e *RetentionPolicyNotFoundError) Error() string {
	return fmt.Sprintf("retention policy not found: %s", e.Name)
}

// ErrWriteTimeout is returned when a write did not complete within
// [coordinator] write-timeout (1.x's text).
var ErrWriteTimeout = errors.New("timeout")
