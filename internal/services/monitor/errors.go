package monitor

import "errors"

// Configuration.
var (
	// ErrInvalidStoreInterval is returned by Open when storing is enabled
	// with a store interval that is not positive ([monitor]
	// store-interval).
	ErrInvalidStoreInterval = errors.New("monitor: store-interval must be positive")

	// ErrStoreDatabaseRequired is returned by Open when storing is enabled
	// without a database ([monitor] store-database).
	ErrStoreDatabaseRequired = errors.New("monitor: store-database is required")

	// ErrNoPointsWriter is returned by Open when storing is enabled but the
	// monitor was built without a points writer or meta client.
	ErrNoPointsWriter = errors.New("monitor: storing statistics needs a points writer and a meta client")
)

// Lifecycle.
var (
	// ErrAlreadyOpen is returned by Open on a monitor that is running.
	ErrAlreadyOpen = errors.New("monitor: already open")
)
