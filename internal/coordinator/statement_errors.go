package coordinator

import "errors"

// Errors of the statement executor. Clients see their texts in the "error"
// of a /query result; where InfluxDB 1.x has the same error the wording is
// 1.x's, pinned by the golden files in testdata/statements.

var (
	// ErrNotImplemented is returned for statements Strata does not run yet.
	ErrNotImplemented = errors.New("statement not supported yet")

	// ErrNotExecuted is the error of every statement that follows a failed
	// one in the same query: they are not run (1.x's query.ErrNotExecuted).
	ErrNotExecuted = errors.New("not executed")

	// ErrDatabaseNameRequired is returned by statements that need a
	// database when neither the statement (ON db) nor the request (the db
	// parameter) names one.
	ErrDatabaseNameRequired = errors.New("database name required")

	// errFailed is returned by a statement whose error already went out
	// in one of its results (a SELECT that failed mid-stream).
	errFailed = errors.New("statement failed")

	// ErrAuthorization matches (errors.Is) every *AuthorizationError.
	ErrAuthorization = errors.New("not authorized")
)

// AuthorizationError says that the request's user may not run a query. The
// text is 1.x's meta.ErrAuthorize: "<user> not authorized to execute
// <what>", or just the message when there is no user (bootstrap). The HTTP
// layer prefixes it with "error authorizing query: " and answers 403.
type AuthorizationError struct {
	// User is the user's name; empty when the request had no user.
	User string
	// Message says what was refused: "statement '<stmt>', requires admin
	// privilege", "no user provided", ...
	Message string
}

func (e *AuthorizationError) Error() string {
	if e.User == "" {
		return e.Message
	}
	return e.User + " not authorized to execute " + e.Message
}

// AuthorizationFailed is the behaviour by which httpd recognises a refusal
// (403) without importing this package; it is always true.
func (e *AuthorizationError) AuthorizationFailed() bool { return true }

// Is makes errors.Is(err, ErrAuthorization) true.
func (e *AuthorizationError) Is(target error) bool { return target == ErrAuthorization }
