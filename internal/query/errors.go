package query

import (
	"errors"
	"fmt"
)

// Errors of query execution and of the query registry. Their texts are
// InfluxDB 1.x's, typos included, because clients match on them.
var (
	// ErrQueryInterrupted is the error of a query stopped by KILL QUERY.
	ErrQueryInterrupted = errors.New("query interrupted")

	// ErrQueryTimeoutLimitExceeded is the error of a query that ran longer
	// than [coordinator] query-timeout.
	ErrQueryTimeoutLimitExceeded = errors.New("query-timeout limit exceeded")

	// ErrQueryEngineShutdown is the error of queries running, or started,
	// when the registry is closed.
	ErrQueryEngineShutdown = errors.New("query engine shutdown")

	// ErrAlreadyKilled is returned by Kill for a query killed before.
	ErrAlreadyKilled = errors.New("already killed")

	// ErrDatabaseNameRequired is returned for a measurement without a
	// database when the request names none either.
	ErrDatabaseNameRequired = errors.New("database name required")

	// ErrInvalidStatement matches (errors.Is) every *StatementError: a
	// SELECT that is rejected before any data is read.
	ErrInvalidStatement = errors.New("invalid statement")

	// ErrNoPointsWriter is the error of SELECT … INTO on an engine built
	// without a PointsWriter.
	ErrNoPointsWriter = errors.New("SELECT INTO is not supported: the query engine has no points writer")
)

// StatementError is a SELECT rejected by validation. Its text is exactly
// 1.x's message (for example "mixing aggregate and non-aggregate queries is
// not supported"); it matches ErrInvalidStatement.
type StatementError struct{ Msg string }

func (e *StatementError) Error() string { return e.Msg }

// Is makes errors.Is(err, ErrInvalidStatement) true.
func (e *StatementError) Is(target error) bool { return target == ErrInvalidStatement }

// invalidf returns a *StatementError.
func invalidf(format string, args ...any) error {
	return &StatementError{Msg: fmt.Sprintf(format, args...)}
}

// LimitError reports a [coordinator] query limit that a query exceeded.
// Kind is one of the Err*Limit sentinels below, which it matches.
type LimitError struct {
	Kind     error
	N, Limit int
}

// The kinds of LimitError.
var (
	// ErrMaxSelectPointLimit: more points read than max-select-point.
	ErrMaxSelectPointLimit = errors.New("max-select-point limit")
	// ErrMaxSelectSeriesLimit: more series than max-select-series.
	ErrMaxSelectSeriesLimit = errors.New("max-select-series limit")
	// ErrMaxSelectBucketsLimit: more GROUP BY time buckets than
	// max-select-buckets.
	ErrMaxSelectBucketsLimit = errors.New("max-select-buckets limit")
	// ErrMaxConcurrentQueriesLimit: more running queries than
	// max-concurrent-queries.
	ErrMaxConcurrentQueriesLimit = errors.New("max-concurrent-queries limit")
)

func (e *LimitError) Error() string {
	switch e.Kind {
	case ErrMaxSelectPointLimit:
		// "exceeed" is 1.x's spelling.
		return fmt.Sprintf("max-select-point limit exceeed: (%d/%d)", e.N, e.Limit)
	case ErrMaxSelectSeriesLimit:
		return fmt.Sprintf("max-select-series limit exceeded: (%d/%d)", e.N, e.Limit)
	case ErrMaxSelectBucketsLimit:
		return fmt.Sprintf("max-select-buckets limit exceeded: (%d/%d)", e.N, e.Limit)
	case ErrMaxConcurrentQueriesLimit:
		return fmt.Sprintf("max-concurrent-queries limit exceeded(%d, %d)", e.N, e.Limit)
	}
	return fmt.Sprintf("%v exceeded: (%d/%d)", e.Kind, e.N, e.Limit)
}

// Unwrap makes errors.Is(err, e.Kind) true.
func (e *LimitError) Unwrap() error { return e.Kind }

// NoSuchQueryError is returned by Kill for an unknown query id.
type NoSuchQueryError struct{ ID uint64 }

func (e *NoSuchQueryError) Error() string { return fmt.Sprintf("no such query id: %d", e.ID) }

// AuthorizationError is a SELECT that the user may not run: it lacks READ
// on a database the statement reads (or WRITE on the database of SELECT …
// INTO). It has 1.x's text (to which the HTTP layer adds "error authorizing
// query: ") and the AuthorizationFailed method by which httpd answers 403.
type AuthorizationError struct {
	User, Statement, Database string
	// Privilege is the privilege the user lacks; "" means READ.
	Privilege string
}

func (e *AuthorizationError) Error() string {
	priv := e.Privilege
	if priv == "" {
		priv = "READ"
	}
	return fmt.Sprintf("%s not authorized to execute statement '%s', requires %s on %s", e.User, e.Statement, priv, e.Database)
}

// AuthorizationFailed marks the error as a refusal for lack of privilege.
func (e *AuthorizationError) AuthorizationFailed() bool { return true }

// SubqueryTooLargeError fails a statement whose subquery returns more rows
// than Strata holds in memory for it (1.x streams them, and runs out of
// memory instead on the same queries).
type SubqueryTooLargeError struct{ Limit int }

func (e *SubqueryTooLargeError) Error() string {
	return fmt.Sprintf("subquery returned more than %d rows", e.Limit)
}
