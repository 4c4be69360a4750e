package continuousquery

import "errors"

// Errors of the continuous query service.
var (
	// ErrInvalidQuery is returned for a stored continuous query that does
	// not parse as one (it cannot come from CREATE CONTINUOUS QUERY).
	ErrInvalidQuery = errors.New("invalid continuous query")

	// ErrRawQuery is 1.x's refusal to run a continuous query without an
	// aggregate (CREATE accepts it; running it fails every time).
	ErrRawQuery = errors.New("continuous queries must be aggregate queries")

	// ErrInvalidRunInterval is returned by Open for a run-interval ≤ 0.
	ErrInvalidRunInterval = errors.New("continuous query run-interval must be positive")

	// ErrAlreadyOpen is returned by Open on an open service.
	ErrAlreadyOpen = errors.New("continuous query service already open")

	// ErrCorruptState is returned when the file of last runs cannot be
	// decoded; the service then starts as if no query had run.
	ErrCorruptState = errors.New("corrupt continuous query state")
)
