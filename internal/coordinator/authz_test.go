package coordinator_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/coordinator"
	"github.com/stratadb/strata/internal/query"
)

// authzEnv has auth on, an admin, db0 and db1, and one user per privilege
// on db0: reader (READ), writer (WRITE), full (ALL) and nop (none).
func authzEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, envOptions{auth: true})
	e.mustRun(`CREATE USER admin WITH PASSWORD 'pw' WITH ALL PRIVILEGES; CREATE DATABASE db0; CREATE DATABASE db1`, query.ExecutionOptions{})
	e.mustRun(`CREATE USER reader WITH PASSWORD 'r'; GRANT READ ON db0 TO reader;
		CREATE USER writer WITH PASSWORD 'w'; GRANT WRITE ON db0 TO writer;
		CREATE USER full WITH PASSWORD 'f'; GRANT ALL ON db0 TO full;
		CREATE USER nop WITH PASSWORD 'n'`, query.ExecutionOptions{User: e.user("admin")})
	return e
}

// TestAuthorizationTable runs every kind of statement as each kind of user
// with db=db0. The statements change nothing when allowed (they name
// missing things or repeat what exists), so the cases are independent.
// A want is "" when the statement may run, else what it requires.
func TestAuthorizationTable(t *testing.T) {
	const (
		ok    = ""
		admin = "admin privilege"
		read  = "READ on db0"
		write = "WRITE on db0"
	)
	tests := []struct {
		stmt                     string
		reader, writer, full, no string
	}{
		{"CREATE DATABASE db0", admin, admin, admin, admin},
		{"CREATE DATABASE db0 WITH DURATION INF NAME autogen", admin, admin, admin, admin},
		{"DROP DATABASE db9", admin, admin, admin, admin},
		{"SHOW DATABASES", ok, ok, ok, ok},
		{"CREATE RETENTION POLICY autogen ON db0 DURATION INF REPLICATION 1", admin, admin, admin, admin},
		{"ALTER RETENTION POLICY autogen ON db0 DURATION INF", admin, admin, admin, admin},
		{"DROP RETENTION POLICY ghost ON db0", write, ok, ok, write},
		{"SHOW RETENTION POLICIES ON db0", ok, read, ok, read},
		{"SHOW RETENTION POLICIES", ok, read, ok, read},
		{"SHOW SHARDS", admin, admin, admin, admin},
		{"SHOW SHARD GROUPS", admin, admin, admin, admin},
		{"DROP SHARD 999", admin, admin, admin, admin},
		{"CREATE USER admin WITH PASSWORD 'pw' WITH ALL PRIVILEGES", admin, admin, admin, admin},
		{"DROP USER ghost", admin, admin, admin, admin},
		{"SET PASSWORD FOR nop = 'n'", admin, admin, admin, admin},
		{"SET PASSWORD FOR reader = 'r'", admin, admin, admin, admin},
		{"GRANT READ ON db0 TO ghost", admin, admin, admin, admin},
		{"REVOKE READ ON db0 FROM ghost", admin, admin, admin, admin},
		{"GRANT ALL PRIVILEGES TO ghost", admin, admin, admin, admin},
		{"REVOKE ALL PRIVILEGES FROM ghost", admin, admin, admin, admin},
		{"SHOW USERS", admin, admin, admin, admin},
		{"SHOW GRANTS FOR reader", admin, admin, admin, admin},
		{"SELECT * FROM cpu", ok, read, ok, read},
		{"SELECT * FROM db0..cpu", ok, read, ok, read},
		{"SELECT * FROM db1..cpu", "READ on db1", "READ on db1", "READ on db1", "READ on db1"},
		{"SELECT * FROM (SELECT * FROM db1..cpu)", "READ on db1", "READ on db1", "READ on db1", "READ on db1"},
		{"SELECT * INTO db0..x FROM db0..cpu", write, read, ok, read},
		{"SELECT * INTO db1..x FROM db0..cpu", "WRITE on db1", read, "WRITE on db1", read},
		{"EXPLAIN SELECT * FROM cpu", ok, read, ok, read},
		{"DELETE FROM cpu", write, ok, ok, write},
		{"DROP SERIES FROM cpu", write, ok, ok, write},
		{"DROP MEASUREMENT cpu", admin, admin, admin, admin},
		{"SHOW MEASUREMENTS", ok, read, ok, read},
		{"SHOW SERIES ON db0", ok, read, ok, read},
		{"SHOW TAG KEYS ON db0", ok, read, ok, read},
		{"SHOW TAG VALUES ON db0 WITH KEY = host", ok, read, ok, read},
		{"SHOW FIELD KEYS ON db0", ok, read, ok, read},
		{"SHOW CONTINUOUS QUERIES", ok, read, ok, read},
		{"CREATE CONTINUOUS QUERY cq ON db0 BEGIN SELECT count(v) INTO db0..x FROM cpu GROUP BY time(1h) END", write, read, ok, read},
		{"DROP CONTINUOUS QUERY cq ON db0", write, ok, ok, write},
		{"SHOW QUERIES", ok, read, ok, read},
		{"KILL QUERY 1", admin, admin, admin, admin},
		{"SHOW STATS", admin, admin, admin, admin},
		{"SHOW DIAGNOSTICS", admin, admin, admin, admin},
		{"SHOW SUBSCRIPTIONS", admin, admin, admin, admin},
		{"CREATE SUBSCRIPTION s ON db0.autogen DESTINATIONS ALL 'udp://h:1'", admin, admin, admin, admin},
		{"DROP SUBSCRIPTION s ON db0.autogen", admin, admin, admin, admin},
	}
	e := authzEnv(t)
	// Anonymous requests with auth on: before any user exists, and once
	// users exist but none is an admin.
	noUsers := newEnv(t, envOptions{auth: true})
	noAdmin := newEnv(t, envOptions{auth: true})
	noAdmin.exec.AuthEnabled = false
	noAdmin.mustRun("CREATE DATABASE db0; CREATE USER u WITH PASSWORD 'p'", query.ExecutionOptions{})
	noAdmin.exec.AuthEnabled = true
	for _, tt := range tests {
		stmt, err := influxql.ParseStatement(tt.stmt)
		if err != nil {
			t.Fatalf("parse %q: %v", tt.stmt, err)
		}
		for _, c := range []struct {
			name string
			e    *env
			want string
		}{
			{"bootstrap", noUsers, "create admin user first or disable authentication"},
			{"no admin", noAdmin, "no user provided"},
		} {
			t.Run(c.name+"/"+tt.stmt, func(t *testing.T) {
				e, want := c.e, c.want
				if cu, ok := stmt.(*influxql.CreateUserStatement); ok && cu.Admin && e == noUsers {
					// The one statement that bootstraps; it creates a
					// user, so it runs in an environment of its own.
					e, want = newEnv(t, envOptions{auth: true}), ""
				}
				res, err := e.run(tt.stmt, query.ExecutionOptions{Database: "db0"})
				if err != nil {
					t.Fatal(err)
				}
				if want == "" {
					if isAuthz(res[0].Err) {
						t.Fatalf("refused: %v", res[0].Err)
					}
					return
				}
				if len(res) != 1 || !isAuthz(res[0].Err) || res[0].Err.Error() != want {
					t.Fatalf("got %d results, first %v; want only %q", len(res), res[0].Err, want)
				}
			})
		}
		for _, c := range []struct{ user, want string }{
			{"admin", ok}, {"reader", tt.reader}, {"writer", tt.writer}, {"full", tt.full}, {"nop", tt.no},
		} {
			t.Run(c.user+"/"+tt.stmt, func(t *testing.T) {
				res, err := e.run(tt.stmt, query.ExecutionOptions{Database: "db0", User: e.user(c.user)})
				if err != nil {
					t.Fatal(err)
				}
				if len(res) == 0 {
					t.Fatal("no result")
				}
				got := res[0].Err
				if c.want == ok {
					if isAuthz(got) {
						t.Fatalf("refused: %v", got)
					}
					return
				}
				want := fmt.Sprintf("%s not authorized to execute statement '%s', requires %s", c.user, stmt, c.want)
				if !isAuthz(got) || got.Error() != want {
					t.Fatalf("got %v\nwant authorization error %q", got, want)
				}
				if !errors.Is(got, coordinator.ErrAuthorization) {
					t.Fatalf("errors.Is(%v, ErrAuthorization) = false", got)
				}
				if len(res) != 1 {
					t.Fatalf("a refused query sent %d results, want 1", len(res))
				}
			})
		}
	}
}

// TestAuthorizationAnonymous covers requests without a user: anything
// goes with auth off; with auth on, only a query starting with CREATE USER
// ... WITH ALL PRIVILEGES, and only while no user exists.
func TestAuthorizationAnonymous(t *testing.T) {
	const bootstrap = "create admin user first or disable authentication"
	tests := []struct {
		name   string
		auth   bool
		setup  string // run as admin, auth off
		q      string
		refuse string // "" when allowed
	}{
		{"auth off", false, "", "SHOW USERS; CREATE DATABASE db0; DROP DATABASE db0", ""},
		{"auth off with users", false, "CREATE USER u WITH PASSWORD 'p'", "DROP USER u", ""},
		{"no users: create admin", true, "", "CREATE USER a WITH PASSWORD 'p' WITH ALL PRIVILEGES", ""},
		{"no users: create admin then more", true, "", "CREATE USER a WITH PASSWORD 'p' WITH ALL PRIVILEGES; CREATE DATABASE db0; SHOW USERS", ""},
		{"no users: create non-admin", true, "", "CREATE USER a WITH PASSWORD 'p'", bootstrap},
		{"no users: admin second", true, "", "SHOW DATABASES; CREATE USER a WITH PASSWORD 'p' WITH ALL PRIVILEGES", bootstrap},
		{"no users: show databases", true, "", "SHOW DATABASES", bootstrap},
		{"no users: select", true, "", "SELECT * FROM db0..cpu", bootstrap},
		{"no users: grant admin", true, "", "GRANT ALL PRIVILEGES TO a", bootstrap},
		{"users, no admin: show", true, "CREATE USER u WITH PASSWORD 'p'", "SHOW DATABASES", "no user provided"},
		{"users, no admin: create admin", true, "CREATE USER u WITH PASSWORD 'p'", "CREATE USER a WITH PASSWORD 'p' WITH ALL PRIVILEGES", "no user provided"},
		{"users, no admin: grant admin", true, "CREATE USER u WITH PASSWORD 'p'", "GRANT ALL PRIVILEGES TO u", "no user provided"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{auth: tt.auth})
			if tt.setup != "" {
				e.exec.AuthEnabled = false
				e.mustRun(tt.setup, query.ExecutionOptions{})
				e.exec.AuthEnabled = tt.auth
			}
			res, err := e.run(tt.q, query.ExecutionOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if tt.refuse == "" {
				for _, r := range res {
					if r.Err != nil {
						t.Fatalf("statement %d: %v", r.StatementID, r.Err)
					}
				}
				return
			}
			if len(res) != 1 || !isAuthz(res[0].Err) || res[0].Err.Error() != tt.refuse {
				t.Fatalf("got %d results, first %v; want only %q", len(res), res[0].Err, tt.refuse)
			}
		})
	}
}

// TestAuthorizationRefusesWholeQuery checks that a refused query runs none
// of its statements, not even those before the refused one.
func TestAuthorizationRefusesWholeQuery(t *testing.T) {
	e := authzEnv(t)
	e.mustRun("GRANT WRITE ON db1 TO writer", query.ExecutionOptions{User: e.user("admin")})
	res, err := e.run("DROP RETENTION POLICY autogen ON db1; DROP DATABASE db0", query.ExecutionOptions{User: e.user("writer")})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || !isAuthz(res[0].Err) {
		t.Fatalf("got %+v, want one authorization error", res)
	}
	if _, err := e.meta.RetentionPolicy("db1", "autogen"); err != nil {
		t.Fatalf("the allowed first statement ran: %v", err)
	}
	if e.meta.Database("db0") == nil {
		t.Fatal("db0 was dropped")
	}
}

// TestAuthorizationUsesPrivilegesOfRequest checks that privileges granted
// or revoked take effect for the next request (the user is looked up per
// request, as httpd does).
func TestAuthorizationUsesPrivilegesOfRequest(t *testing.T) {
	e := authzEnv(t)
	opts := func() query.ExecutionOptions { return query.ExecutionOptions{User: e.user("nop")} }
	if res, _ := e.run("SHOW RETENTION POLICIES ON db1", opts()); !isAuthz(res[0].Err) {
		t.Fatalf("before GRANT: %v", res[0].Err)
	}
	e.mustRun("GRANT READ ON db1 TO nop", query.ExecutionOptions{User: e.user("admin")})
	e.mustRun("SHOW RETENTION POLICIES ON db1", opts())
	e.mustRun("REVOKE READ ON db1 FROM nop", query.ExecutionOptions{User: e.user("admin")})
	if res, _ := e.run("SHOW RETENTION POLICIES ON db1", opts()); !isAuthz(res[0].Err) {
		t.Fatalf("after REVOKE: %v", res[0].Err)
	}
	e.mustRun("GRANT ALL PRIVILEGES TO nop", query.ExecutionOptions{User: e.user("admin")})
	e.mustRun("SHOW USERS; DROP DATABASE db1", opts())
}
