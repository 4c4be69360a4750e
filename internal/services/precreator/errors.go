package precreator

import "errors"

// Configuration.
var (
	// ErrInvalidCheckInterval is returned by Open when the service is enabled
	// with a check interval that is not positive ([shard-precreation]
	// check-interval).
	ErrInvalidCheckInterval = errors.New("precreator: check-interval must be positive")

	// ErrInvalidAdvancePeriod is returned by Open when the service is
	// enabled with an advance period that is not positive
	// ([shard-precreation] advance-period).
	ErrInvalidAdvancePeriod = errors.New("precreator: advance-period must be positive")
)

// Lifecycle.
var (
	// ErrAlreadyOpen is returned by Open on a service that is running.
	ErrAlreadyOpen = errors.New("precreator: service already open")
)
