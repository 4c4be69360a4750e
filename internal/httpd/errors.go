package httpd

import "errors"

// Sentinel errors of the HTTP service. Their texts are the ones InfluxDB 1.x
// clients see, so they must not change; statusOf maps each to its status.

// Request errors (400).
var (
	// ErrDatabaseRequired is returned by /write without a db parameter.
	ErrDatabaseRequired = errors.New("database is required")
	// ErrMissingQuery is returned by /query without a q parameter.
	ErrMissingQuery = errors.New(`missing required parameter "q"`)
	// ErrInvalidConsistency is returned for a consistency parameter other
	// than any, one, quorum or all.
	ErrInvalidConsistency = errors.New("invalid consistency level")
)

// ErrBodyTooLarge is returned when a request body, or a gzip body once
// decompressed, exceeds max-body-size (413). The text is 1.x's: it answers
// with http.StatusText(413).
//
//lint:ignore ST1005 1.x's exact text, which clients see.
var ErrBodyTooLarge = errors.New("Request Entity Too Large")

// Throttling errors (503), with 1.x's texts.
var (
	// ErrQueueFull is returned when max-enqueued-write-limit writes are
	// already waiting.
	ErrQueueFull = errors.New("request throttled, queue full")
	// ErrEnqueueTimeout is returned when a write waited longer than
	// enqueued-write-timeout for its turn.
	ErrEnqueueTimeout = errors.New("request throttled, exceeds timeout")
)

// Authentication errors (401), with 1.x's texts.
var (
	// ErrNoCredentials is returned when auth is on, an admin exists, and the
	// request carries no credentials in any of the accepted forms.
	ErrNoCredentials = errors.New("unable to parse authentication credentials")
	// ErrUsernameRequired is returned for credentials with an empty user.
	ErrUsernameRequired = errors.New("username required")
	// ErrAuthenticationFailed is returned for an unknown user or a wrong
	// password alike, so that a caller cannot probe for user names.
	ErrAuthenticationFailed = errors.New("authorization failed")
	// ErrBearerAuthDisabled is returned for a Bearer token when
	// shared-secret is empty. 1.x declares this error as "bearer auth
	// disabld" but answers the request with "bearer auth disabled"; we
	// send what 1.x clients actually receive.
	ErrBearerAuthDisabled = errors.New("bearer auth disabled")
	// ErrTokenInvalid is returned for a JWT that parsed but is not valid.
	ErrTokenInvalid = errors.New("invalid token")
	// ErrTokenExpirationRequired is returned for a JWT without a positive
	// numeric exp claim.
	ErrTokenExpirationRequired = errors.New("token expiration required")
	// ErrTokenUsernameType is returned for a JWT whose username claim is
	// not a string.
	ErrTokenUsernameType = errors.New("username in token must be a string")
	// ErrTokenUsernameMissing is returned for a JWT with an empty username.
	ErrTokenUsernameMissing = errors.New("token must contain a username")
	// ErrUserNotFound is returned when a JWT names a user the store does
	// not know.
	ErrUserNotFound = errors.New("user not found")
)

// ErrAdminRequired is returned by /debug/* with pprof-auth-enabled for a
// user who is not an admin (403).
var ErrAdminRequired = errors.New("error authorizing admin access")

// Routing errors.
var (
	// ErrNotFound is returned for a path no route serves (404).
	ErrNotFound = errors.New("404 page not found")
	// ErrMethodNotAllowed is returned for a known path with a method it
	// does not serve (405).
	//
	//lint:ignore ST1005 net/http's text, as 1.x sends it.
	ErrMethodNotAllowed = errors.New("Method Not Allowed")
	// ErrFluxDisabled is returned by /api/v2/query (403): Strata does not
	// run Flux, which is what 1.x says when flux-enabled is false.
	//
	//lint:ignore ST1005 1.x's exact text, which clients see.
	ErrFluxDisabled = errors.New("Flux query service disabled. Verify flux-enabled=true in the [http] section of the InfluxDB config.")
)

// errInternal is the text of the 500 sent after a recovered panic; the
// panic value itself never reaches the client.
//
//lint:ignore ST1005 net/http's text, as 1.x sends it.
var errInternal = errors.New("Internal Server Error")

// ErrAuthWithoutUserStore is returned for every authenticated route when
// auth is enabled but no UserStore was wired: a composition bug that must
// fail closed rather than let requests through.
var ErrAuthWithoutUserStore = errors.New("httpd: auth enabled without a user store")

// ErrClosed is returned for an async query after Handler.Close (500).
var ErrClosed = errors.New("httpd: handler closed")
