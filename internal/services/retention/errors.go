package retention

import "errors"

// Configuration.
var (
	// ErrInvalidCheckInterval is returned by Open when the service is enabled
	// with a check interval that is not positive ([retention] check-interval).
	ErrInvalidCheckInterval = errors.New("retention: check-interval must be positive")
)

// Lifecycle.
var (
	// ErrAlreadyOpen is returned by Open on a service that is running.
	ErrAlreadyOpen = errors.New("retention: service already open")
)
