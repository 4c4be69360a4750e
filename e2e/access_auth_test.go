package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stratadb/strata/e2e/harness"
)

// Passwords of the users TestAuthAccessControl creates.
const (
	readerPass = "Re4der-e2e-pw"
	writerPass = "Wr1ter-e2e-pw"
	evePass    = "Eve-e2e-first-pw"
	evePass2   = "Eve-e2e-second-pw"
)

// TestAuthAccessControl walks every 401 and 403 path of /query and /write
// with 1.x's texts, then changes privileges and passwords and checks that
// each change holds from the very next request.
func TestAuthAccessControl(t *testing.T) {
	t.Parallel()
	s := startAuth(t, authConfig(""))
	mustAdmin(t, s, "CREATE DATABASE db0; CREATE DATABASE db1")
	adminConcurrently(t, s,
		"CREATE USER reader WITH PASSWORD '"+readerPass+"'",
		"CREATE USER writer WITH PASSWORD '"+writerPass+"'",
		"CREATE USER eve WITH PASSWORD '"+evePass+"'",
	)
	mustAdmin(t, s, "GRANT READ ON db0 TO reader; GRANT WRITE ON db0 TO writer")
	// The first check of each password pays bcrypt (a second or more in
	// a race build); later ones are answered from the cache. Pay them
	// all at once.
	warmAuth(t, s, basic("reader", readerPass), basic("writer", writerPass), basic("eve", evePass))
	wantStatus(t, "seed point", writeAs(t, s, adminCred(), "db0", "cpu,host=a v=1 1"), http.StatusNoContent)

	t.Run("401", func(t *testing.T) { test401Paths(t, s) })
	t.Run("403", func(t *testing.T) { test403Paths(t, s) })
	t.Run("grants", func(t *testing.T) { testGrantChanges(t, s) })
	t.Run("passwords and drop", func(t *testing.T) { testPasswordChanges(t, s) })
}

func test401Paths(t *testing.T, s *harness.Server) {
	const (
		noCreds    = "unable to parse authentication credentials"
		failed     = "authorization failed"
		noUsername = "username required"
	)
	cases := []struct {
		name string
		c    cred
		text string
	}{
		{"no credentials", anon(), noCreds},
		{"u without p", cred{form: credParams, user: "reader"}, noCreds},
		{"p without u", cred{form: credParams, pass: readerPass}, noCreds},
		{"unknown scheme", rawAuth("Digest username=\"reader\""), noCreds},
		{"Token without colon", rawAuth("Token reader"), noCreds},
		{"Basic not base64", rawAuth("Basic !!!"), noCreds},
		{"Basic empty user", basic("", readerPass), noUsername},
		{"Token empty user", tokenCred("", readerPass), noUsername},
		{"bearer, no shared-secret", bearer("a.b.c"), "bearer auth disabled"},
	}
	// A wrong password and an unknown user must be indistinguishable.
	for _, f := range []credForm{credParams, credBasic, credToken} {
		cases = append(cases,
			struct {
				name string
				c    cred
				text string
			}{f.String() + " wrong password", cred{form: f, user: "reader", pass: "not-" + readerPass}, failed},
			struct {
				name string
				c    cred
				text string
			}{f.String() + " unknown user", cred{form: f, user: "stranger", pass: readerPass}, failed},
			struct {
				name string
				c    cred
				text string
			}{f.String() + " empty password", cred{form: f, user: "reader", pass: ""}, failed},
		)
	}
	for _, c := range cases {
		if c.c.form == credParams && c.c.pass == "" && c.c.user == "reader" {
			// u= with an empty p= is no credential at all in 1.x.
			c.text = noCreds
		}
		wantError(t, c.name+": POST /query", queryAs(t, s, c.c, "SHOW DATABASES"), http.StatusUnauthorized, c.text)
		wantError(t, c.name+": GET /query", getQueryAs(t, s, c.c, "SHOW DATABASES"), http.StatusUnauthorized, c.text)
		wantError(t, c.name+": /write", writeAs(t, s, c.c, "db0", "cpu v=2 2"), http.StatusUnauthorized, c.text)
		// Authentication comes before the database is looked up.
		wantError(t, c.name+": /write to a missing db", writeAs(t, s, c.c, "nodb", "cpu v=2 2"), http.StatusUnauthorized, c.text)
	}
	wrong := queryAs(t, s, basic("reader", "nope"), "SHOW DATABASES")
	unknown := queryAs(t, s, basic("stranger", "nope"), "SHOW DATABASES")
	if wrong.Body != unknown.Body {
		t.Fatalf("unknown user and wrong password answer differently: %q vs %q", unknown.Body, wrong.Body)
	}
	// The right password still works after all those failures.
	wantOK(t, "reader after failures", queryAs(t, s, basic("reader", readerPass), "SHOW RETENTION POLICIES ON db0"))
}

func test403Paths(t *testing.T, s *harness.Server) {
	// eve holds no privilege until testGrantChanges.
	reader, writer, nop := basic("reader", readerPass), basic("writer", writerPass), basic("eve", evePass)
	admin := func(user, stmt string) string {
		return authzDenied(user, "statement '"+stmt+"', requires admin privilege")
	}
	queries := []struct {
		name string
		c    cred
		q    string
		db   string
		text string
	}{
		{"non-admin CREATE DATABASE", writer, "CREATE DATABASE x", "", admin("writer", "CREATE DATABASE x")},
		{"non-admin DROP DATABASE", reader, "DROP DATABASE db0", "", admin("reader", "DROP DATABASE db0")},
		{"non-admin SHOW USERS", reader, "SHOW USERS", "", admin("reader", "SHOW USERS")},
		{"non-admin CREATE USER", nop, "CREATE USER x WITH PASSWORD 'S3cret-in-403' WITH ALL PRIVILEGES", "",
			admin("eve", "CREATE USER x WITH PASSWORD [REDACTED] WITH ALL PRIVILEGES")},
		{"non-admin SET PASSWORD", reader, "SET PASSWORD FOR reader = 'S3cret-in-403'", "",
			admin("reader", "SET PASSWORD FOR reader = [REDACTED]")},
		{"non-admin GRANT", writer, "GRANT ALL ON db1 TO writer", "", admin("writer", "GRANT ALL PRIVILEGES ON db1 TO writer")},
		{"non-admin GRANT admin", reader, "GRANT ALL PRIVILEGES TO reader", "", admin("reader", "GRANT ALL PRIVILEGES TO reader")},
		{"non-admin DROP USER", writer, "DROP USER eve", "", admin("writer", "DROP USER eve")},
		{"non-admin SHOW GRANTS", reader, "SHOW GRANTS FOR reader", "", admin("reader", "SHOW GRANTS FOR reader")},
		{"non-admin CREATE RETENTION POLICY", writer, "CREATE RETENTION POLICY rp ON db0 DURATION 1h REPLICATION 1", "",
			admin("writer", "CREATE RETENTION POLICY rp ON db0 DURATION 1h REPLICATION 1")},
		{"WRITE user querying", writer, "SELECT * FROM cpu", "db0",
			authzDenied("writer", "statement 'SELECT * FROM cpu', requires READ on db0")},
		{"WRITE user reading policies", writer, "SHOW RETENTION POLICIES ON db0", "",
			authzDenied("writer", "statement 'SHOW RETENTION POLICIES ON db0', requires READ on db0")},
		{"READ user on another db", reader, "SELECT * FROM db1..cpu", "",
			authzDenied("reader", "statement 'SELECT * FROM db1..cpu', requires READ on db1")},
		{"READ user SELECT INTO", reader, "SELECT * INTO db1..x FROM db0..cpu", "",
			authzDenied("reader", "statement 'SELECT * INTO db1..x FROM db0..cpu', requires WRITE on db1")},
		{"no grant querying", nop, "SELECT * FROM cpu", "db0",
			authzDenied("eve", "statement 'SELECT * FROM cpu', requires READ on db0")},
		{"no grant reading policies", nop, "SHOW RETENTION POLICIES ON db0", "",
			authzDenied("eve", "statement 'SHOW RETENTION POLICIES ON db0', requires READ on db0")},
		// One refused statement refuses the whole query.
		{"mixed query", reader, "SHOW RETENTION POLICIES ON db0; DROP DATABASE db0", "", admin("reader", "DROP DATABASE db0")},
	}
	for _, c := range queries {
		var kv []string
		if c.db != "" {
			kv = []string{"db", c.db}
		}
		r := queryAs(t, s, c.c, c.q, kv...)
		wantError(t, c.name, r, http.StatusForbidden, c.text)
		if strings.Contains(r.Body, "S3cret-in-403") || strings.Contains(r.Header.Get("X-Influxdb-Error"), "S3cret-in-403") {
			t.Fatalf("%s: the refusal shows the password: %s", c.name, r.Body)
		}
		// GET answers the same.
		wantError(t, c.name+" (GET)", getQueryAs(t, s, c.c, c.q, kv...), http.StatusForbidden, c.text)
	}
	// The refused queries changed nothing.
	qr := mustAdmin(t, s, "SHOW DATABASES")
	if got := seriesValues(qr); strings.Join(got, " ") != "db0 db1" {
		t.Fatalf("SHOW DATABASES after refused statements = %v", got)
	}
	qr = mustAdmin(t, s, "SHOW USERS")
	if got := seriesValues(qr); len(got) != 4 {
		t.Fatalf("SHOW USERS after refused statements = %v", got)
	}

	writes := []struct {
		name string
		c    cred
		db   string
		text string
	}{
		{"READ user writing", reader, "db0", `"reader" user is not authorized to write to database "db0"`},
		{"no grant writing", nop, "db0", `"eve" user is not authorized to write to database "db0"`},
		{"WRITE user, other db", writer, "db1", `"writer" user is not authorized to write to database "db1"`},
		// The privilege is checked before the database is looked up, so
		// a refusal tells nothing about which databases exist.
		{"missing db", nop, "nodb", `"eve" user is not authorized to write to database "nodb"`},
	}
	for _, c := range writes {
		wantError(t, c.name, writeAs(t, s, c.c, c.db, "cpu v=3 3"), http.StatusForbidden, c.text)
		h := c.c.with(credToken).apply(url.Values{})
		r := authDo(t, s, http.MethodPost, "/api/v2/write?bucket="+c.db, h, "cpu v=3 3")
		wantError(t, c.name+" (v2)", r, http.StatusForbidden, c.text)
	}

	// And what each may do.
	wantOK(t, "READ user reads", queryAs(t, s, reader, "SHOW RETENTION POLICIES ON db0"))
	r := queryAs(t, s, reader, "SELECT * FROM cpu", "db", "db0")
	if r.Status != http.StatusOK {
		t.Fatalf("READ user SELECT: status %d: %s", r.Status, r.Body)
	}
	wantStatus(t, "WRITE user writes", writeAs(t, s, writer, "db0", "cpu,host=w v=4 4"), http.StatusNoContent)
	// WRITE on a database is enough to drop one of its policies (1.x).
	mustAdmin(t, s, "CREATE RETENTION POLICY tmp ON db0 DURATION 1h REPLICATION 1")
	wantOK(t, "WRITE user drops a policy", queryAs(t, s, writer, "DROP RETENTION POLICY tmp ON db0"))
	// SHOW DATABASES lists only what the user may read or write.
	qr = wantOK(t, "eve SHOW DATABASES", queryAs(t, s, nop, "SHOW DATABASES"))
	if got := seriesValues(qr); len(got) != 0 {
		t.Fatalf("eve, without privileges, sees databases %v", got)
	}
	qr = wantOK(t, "reader SHOW DATABASES", queryAs(t, s, reader, "SHOW DATABASES"))
	if got := seriesValues(qr); strings.Join(got, " ") != "db0" {
		t.Fatalf("reader sees databases %v, want [db0]", got)
	}
}

// testGrantChanges: GRANT and REVOKE, on a database and of admin, hold
// from the next request on.
func testGrantChanges(t *testing.T, s *harness.Server) {
	eve := basic("eve", evePass)
	const line = "cpu,host=eve v=1 10"
	canWrite := func(what string, want bool) {
		t.Helper()
		r := writeAs(t, s, eve, "db0", line)
		if want {
			wantStatus(t, what+": write", r, http.StatusNoContent)
		} else {
			wantError(t, what+": write", r, http.StatusForbidden, `"eve" user is not authorized to write to database "db0"`)
		}
	}
	canRead := func(what string, want bool) {
		t.Helper()
		r := queryAs(t, s, eve, "SHOW RETENTION POLICIES ON db0")
		if want {
			wantOK(t, what+": read", r)
		} else {
			wantError(t, what+": read", r, http.StatusForbidden,
				authzDenied("eve", "statement 'SHOW RETENTION POLICIES ON db0', requires READ on db0"))
		}
	}
	grants := func(what string, want ...string) {
		t.Helper()
		got := seriesValues(mustAdmin(t, s, "SHOW GRANTS FOR eve"))
		if strings.Join(got, ";") != strings.Join(want, ";") {
			t.Fatalf("%s: SHOW GRANTS FOR eve = %v, want %v", what, got, want)
		}
	}

	canWrite("no grant", false)
	canRead("no grant", false)
	grants("no grant")

	mustAdmin(t, s, "GRANT WRITE ON db0 TO eve")
	canWrite("WRITE", true)
	canRead("WRITE", false)
	grants("WRITE", "db0,WRITE")

	mustAdmin(t, s, "GRANT READ ON db0 TO eve") // replaces WRITE, as in 1.x
	canWrite("READ", false)
	canRead("READ", true)
	grants("READ", "db0,READ")

	mustAdmin(t, s, "GRANT ALL ON db0 TO eve")
	canWrite("ALL", true)
	canRead("ALL", true)
	grants("ALL", "db0,ALL PRIVILEGES")

	mustAdmin(t, s, "REVOKE WRITE ON db0 FROM eve") // ALL minus WRITE is READ
	canWrite("ALL-WRITE", false)
	canRead("ALL-WRITE", true)
	grants("ALL-WRITE", "db0,READ")

	mustAdmin(t, s, "REVOKE ALL ON db0 FROM eve")
	canWrite("revoked", false)
	canRead("revoked", false)
	grants("revoked", "db0,NO PRIVILEGES")

	// Admin rights.
	showUsers := func(want bool) {
		t.Helper()
		r := queryAs(t, s, eve, "SHOW USERS")
		if want {
			wantOK(t, "eve SHOW USERS", r)
		} else {
			wantError(t, "eve SHOW USERS", r, http.StatusForbidden, authzDenied("eve", "statement 'SHOW USERS', requires admin privilege"))
		}
	}
	showUsers(false)
	mustAdmin(t, s, "GRANT ALL PRIVILEGES TO eve")
	showUsers(true)
	canWrite("admin", true) // an admin writes everywhere
	wantStatus(t, "admin writes db1", writeAs(t, s, eve, "db1", line), http.StatusNoContent)
	// The new admin can manage users herself.
	wantOK(t, "eve grants", queryAs(t, s, eve, "GRANT READ ON db1 TO reader; REVOKE READ ON db1 FROM reader"))
	mustAdmin(t, s, "REVOKE ALL PRIVILEGES FROM eve")
	showUsers(false)
	canWrite("admin revoked", false)

	// A database dropped and created again does not bring grants back.
	mustAdmin(t, s, "CREATE DATABASE tmpdb; GRANT ALL ON tmpdb TO eve")
	wantStatus(t, "grant on tmpdb", writeAs(t, s, eve, "tmpdb", line), http.StatusNoContent)
	mustAdmin(t, s, "DROP DATABASE tmpdb; CREATE DATABASE tmpdb")
	wantError(t, "tmpdb recreated", writeAs(t, s, eve, "tmpdb", line), http.StatusForbidden,
		`"eve" user is not authorized to write to database "tmpdb"`)
	grants("after drop", "db0,NO PRIVILEGES")
}

// testPasswordChanges: SET PASSWORD invalidates the old password at once,
// in every form, even though it was just verified (and cached); DROP USER
// revokes access; a user created again under the same name has neither the
// old password nor the old grants.
func testPasswordChanges(t *testing.T, s *harness.Server) {
	mustAdmin(t, s, "GRANT WRITE ON db0 TO eve")
	forms := []credForm{credParams, credBasic, credToken}
	works := func(what, pass string) {
		t.Helper()
		for _, f := range forms {
			c := cred{form: f, user: "eve", pass: pass}
			wantStatus(t, what+" "+f.String(), writeAs(t, s, c, "db0", "cpu,host=eve v=2 20"), http.StatusNoContent)
		}
	}
	// fails checks that pass is refused in every form. Right after a
	// change nothing is cached and each refusal pays bcrypt (a second or
	// more in a race build): failsOnce checks a single request then, and
	// fails every form once the new password is cached.
	fails := func(what, pass string) {
		t.Helper()
		for _, f := range forms {
			c := cred{form: f, user: "eve", pass: pass}
			wantError(t, what+" "+f.String(), writeAs(t, s, c, "db0", "cpu,host=eve v=2 20"), http.StatusUnauthorized, "authorization failed")
			wantError(t, what+" "+f.String()+" query", queryAs(t, s, c, "SHOW DATABASES"), http.StatusUnauthorized, "authorization failed")
		}
	}
	failsOnce := func(what, pass string, f credForm) {
		t.Helper()
		c := cred{form: f, user: "eve", pass: pass}
		wantError(t, what, writeAs(t, s, c, "db0", "cpu,host=eve v=2 20"), http.StatusUnauthorized, "authorization failed")
	}
	works("first password", evePass) // now cached

	mustAdmin(t, s, "SET PASSWORD FOR eve = '"+evePass2+"'")
	// Before anything else: a stale cache entry would accept this.
	failsOnce("old password right after SET PASSWORD", evePass, credToken)
	works("new password", evePass2)
	fails("old password", evePass)

	mustAdmin(t, s, "DROP USER eve")
	fails("dropped user", evePass2)
	qr := mustAdmin(t, s, "SHOW USERS")
	for _, row := range seriesValues(qr) {
		if strings.HasPrefix(row, "eve,") {
			t.Fatalf("SHOW USERS still lists eve: %v", seriesValues(qr))
		}
	}
	r := queryAs(t, s, adminCred(), "SHOW GRANTS FOR eve")
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `"error":"user not found"`) {
		t.Fatalf("SHOW GRANTS FOR a dropped user: %d %s", r.Status, r.Body)
	}

	// Same name, new user: only the new password, and no grants.
	mustAdmin(t, s, "CREATE USER eve WITH PASSWORD '"+evePass+"'")
	failsOnce("re-created user, previous password", evePass2, credBasic)
	c := basic("eve", evePass)
	wantError(t, "re-created user has no grants", writeAs(t, s, c, "db0", "cpu v=1 1"), http.StatusForbidden,
		`"eve" user is not authorized to write to database "db0"`)
	if got := seriesValues(mustAdmin(t, s, "SHOW GRANTS FOR eve")); len(got) != 0 {
		t.Fatalf("re-created eve has grants %v", got)
	}
}
