package subscriber

import (
	"errors"
	"strconv"
)

// Configuration.
var (
	// ErrInvalidConfig matches (errors.Is) every error of Config.Validate.
	ErrInvalidConfig = errors.New("subscriber: invalid configuration")
)

// Lifecycle.
var (
	// ErrAlreadyOpen is returned by Open on a service that is running.
	ErrAlreadyOpen = errors.New("subscriber: service already open")
)

// Destinations.
var (
	// ErrUnknownMode is returned for a subscription whose mode is neither
	// ALL nor ANY.
	ErrUnknownMode = errors.New("subscriber: unknown balance mode")

	// ErrUnknownScheme is returned for a destination that is not udp://,
	// http:// or https://.
	ErrUnknownScheme = errors.New("subscriber: unknown destination scheme")

	// ErrDestinationStatus matches (errors.Is) every *StatusError.
	ErrDestinationStatus = errors.New("subscriber: destination refused the write")

	// ErrDatagramTooLarge is returned for a line that does not fit in one
	// UDP datagram.
	ErrDatagramTooLarge = errors.New("subscriber: line too large for a UDP datagram")
)

// StatusError is an HTTP destination's answer other than 2xx.
type StatusError struct {
	URL    string
	Status int
	Body   string // the start of the response body
}

func (e *StatusError) Error() string {
	msg := "subscriber: " + e.URL + " answered " + strconv.Itoa(e.Status)
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Is makes errors.Is(err, ErrDestinationStatus) true.
func (e *StatusError) Is(target error) bool { return target == ErrDestinationStatus }
