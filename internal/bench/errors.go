package bench

import "errors"

// Configuration errors.
var (
	// ErrInvalidDataset reports a data set description that cannot be
	// generated (no hosts, a non-positive duration or interval, …).
	ErrInvalidDataset = errors.New("invalid data set")
	// ErrInvalidConfig reports a write or query run configuration that
	// cannot run (no URL, a non-positive batch size, …).
	ErrInvalidConfig = errors.New("invalid bench configuration")
	// ErrUnknownQueryType reports a query type name that is not one of
	// QueryTypes().
	ErrUnknownQueryType = errors.New("unknown query type")
)

// Result decoding errors.
var (
	// ErrBadResponse reports a /query response body that is not the 1.x
	// JSON result shape.
	ErrBadResponse = errors.New("malformed query response")
	// ErrBadResults reports a results directory or file that the report
	// cannot read.
	ErrBadResults = errors.New("malformed bench results")
)
