package httpd

import (
	"context"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/query"
	"github.com/stratadb/strata/internal/stats"
)

// PointsWriter stores the points of one /write request.
//
// WritePoints is called concurrently by many requests. The points, and the
// byte slices they hold, borrow the request buffer: they are valid only
// until WritePoints returns, so a writer that keeps anything copies it.
// ctx is the request's: it ends when the client goes away.
//
// points may be empty (an empty body, or a body whose every line failed to
// parse): the writer must still report an unknown database or retention
// policy, because the handler relies on it for the 404 of such a request.
//
// It returns nil; *models.PartialWriteError when some points were rejected
// and the rest stored (400); *models.DatabaseNotFoundError (404);
// *models.RetentionPolicyNotFoundError (500, as in 1.x);
// models.ErrWriteTimeout (500); an error with a method
// AuthorizationFailed() bool that returns true (403); or any other error
// (500).
type PointsWriter interface {
	WritePoints(ctx context.Context, db, rp string, consistency Consistency, user query.User, points []models.Point) error
}

// QueryExecutor runs parsed InfluxQL.
//
// ExecuteQuery runs the statements in order and sends their results on the
// returned channel, closing it when done or when ctx ends. A statement with
// opts.ChunkSize > 0 may send several Results for the same StatementID,
// with Partial set on all but the last. The handler owns every Result it
// receives (it may truncate rows). A statement refused for lack of
// privilege reports it as the Result's Err, an error with a method
// AuthorizationFailed() bool returning true; when that is the first result
// the handler answers 403, as 1.x does for a query it refuses up front.
type QueryExecutor interface {
	ExecuteQuery(ctx context.Context, q *influxql.Query, opts query.ExecutionOptions) <-chan *query.Result
}

// UserStore authenticates users. It is nil when auth is disabled.
//
// Methods are called concurrently and on every authenticated request, so
// Authenticate is expected to cache verified credentials rather than pay
// bcrypt each time.
type UserStore interface {
	// Authenticate returns the user with that name and password. It returns
	// the same error for an unknown user and for a wrong password.
	Authenticate(username, password string) (query.User, error)
	// LookupUser returns the named user without a password check; it is
	// used for JWT bearer tokens, whose signature proves the caller.
	LookupUser(username string) (query.User, error)
	// AdminUserExists reports whether any admin user exists. While none
	// does, requests pass unauthenticated so that the first admin can be
	// created (1.x's bootstrap rule).
	AdminUserExists() bool
}

// StatsSource returns the statistics of every component, for /debug/vars.
// It is called concurrently with the components' work.
type StatsSource interface {
	Statistics() []stats.Statistic
}

// authorizationError is the behaviour by which the executor, the points
// writer and the auth layer say "this user may not do that" (403). It is
// 1.x's convention (influxdb.IsAuthorizationError), which lets those
// packages report it without importing httpd.
type authorizationError interface {
	AuthorizationFailed() bool
}
