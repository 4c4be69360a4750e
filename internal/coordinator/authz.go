package coordinator

import (
	"fmt"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/query"
)

// authorizeQuery decides, before any statement runs, whether the request
// may run the whole query, as 1.x's QueryAuthorizer does: one refused
// statement refuses the query, so a query never half-runs for lack of a
// privilege.
//
//   - A request with a user is checked statement by statement against
//     influxql's RequiredPrivileges; an admin may run anything. A
//     privilege that names no database applies to the db parameter.
//   - A request without a user runs freely when auth is off. With auth on
//     (httpd lets requests through unauthenticated while no admin exists)
//     it may run only a query whose first statement creates an admin, and
//     only while no user exists at all; otherwise it is refused with 1.x's
//     texts.
func (e *StatementExecutor) authorizeQuery(q *influxql.Query, opts query.ExecutionOptions) error {
	u := opts.User
	if u == nil {
		if !e.AuthEnabled {
			return nil
		}
		return e.authorizeAnonymous(q)
	}
	if u.IsAdmin() {
		return nil
	}
	for _, stmt := range q.Statements {
		if err := authorizeStatement(u, stmt, opts.Database); err != nil {
			return err
		}
	}
	return nil
}

// authorizeAnonymous is the bootstrap rule: with no user at all, the first
// statement must create an admin, and then the whole query may run (so
// that "CREATE USER ... WITH ALL PRIVILEGES; CREATE DATABASE ..." works in
// one request, as in 1.x). Once any user exists, an anonymous request is
// refused even while none of them is an admin: letting anyone create an
// admin then would hand the existing users' data to a stranger.
func (e *StatementExecutor) authorizeAnonymous(q *influxql.Query) error {
	if len(e.Meta.Data().Users) == 0 {
		if len(q.Statements) > 0 {
			if cu, ok := q.Statements[0].(*influxql.CreateUserStatement); ok && cu.Admin {
				return nil
			}
		}
		return &AuthorizationError{Message: "create admin user first or disable authentication"}
	}
	return &AuthorizationError{Message: "no user provided"}
}

// authorizeStatement checks a non-admin user against one statement's
// required privileges. stmt.String() redacts passwords, so the error never
// carries one.
func authorizeStatement(u query.User, stmt influxql.Statement, defaultDB string) error {
	privs, err := stmt.RequiredPrivileges()
	if err != nil {
		// influxql refuses a source it cannot judge (never produced by
		// its own parser); refuse the query rather than guess.
		return &AuthorizationError{User: u.Name(), Message: fmt.Sprintf("statement '%s': %v", stmt, err)}
	}
	for _, p := range privs {
		if p.Admin {
			return &AuthorizationError{
				User:    u.Name(),
				Message: fmt.Sprintf("statement '%s', requires admin privilege", stmt),
			}
		}
		db := p.Name
		if db == "" {
			db = defaultDB
		}
		if !userHolds(u, p.Privilege, db) {
			return &AuthorizationError{
				User:    u.Name(),
				Message: fmt.Sprintf("statement '%s', requires %s on %s", stmt, p.Privilege, db),
			}
		}
	}
	return nil
}

// userHolds reports whether u holds p on db with 1.x's rules: ALL covers
// READ and WRITE, ALL itself needs ALL (a user holds one privilege per
// database, so READ and WRITE together mean ALL), and no privilege is
// always held.
func userHolds(u query.User, p influxql.Privilege, db string) bool {
	switch p {
	case influxql.NoPrivileges:
		return true
	case influxql.ReadPrivilege:
		return u.CanRead(db)
	case influxql.WritePrivilege:
		return u.CanWrite(db)
	default:
		return u.CanRead(db) && u.CanWrite(db)
	}
}

// canSeeDatabase reports whether SHOW DATABASES lists db to the request's
// user: every database without auth and for admins, otherwise those the
// user may read or write (1.x).
func canSeeDatabase(u query.User, db string) bool {
	return u == nil || u.IsAdmin() || u.CanRead(db) || u.CanWrite(db)
}
