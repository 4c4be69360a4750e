package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/stratadb/strata/e2e/harness"
)

// End-to-end tests of authentication and authorization against the real
// stratad: auth off, the bootstrap rule, and every credential form. The
// 401/403 paths and privilege changes are in access_auth_test.go, the
// ping/debug routes and the password hygiene in endpoints_auth_test.go,
// the real clients in clients_auth_test.go.
//
// Passwords are hashed with bcrypt at its default cost, which takes a
// second or more in a -race build on a busy machine: each test creates
// only the users it needs, creates them concurrently, and runs in
// parallel with the other auth tests.

// The admin every auth test bootstraps. The password is long and unusual so
// that grepping logs for it cannot match anything else.
const (
	authAdmin     = "admin"
	authAdminPass = "Adm1n-e2e-Pa55word-7731"
)

// credForm is one way a request presents credentials.
type credForm int

const (
	credNone   credForm = iota // no credentials at all
	credParams                 // u= and p= URL parameters
	credBasic                  // Authorization: Basic
	credToken                  // Authorization: Token user:pass (v2 compatibility)
	credBearer                 // Authorization: Bearer <JWT>
	credHeader                 // a raw Authorization header (token holds it)
)

func (f credForm) String() string {
	return [...]string{"anonymous", "params", "basic", "token", "bearer", "header"}[f]
}

// cred is what one request presents.
type cred struct {
	form  credForm
	user  string
	pass  string
	token string // the JWT of credBearer, the header of credHeader
	// extra is an Authorization header sent as well, to test which form
	// wins.
	extra string
}

// anon presents no credentials.
func anon() cred { return cred{} }

func basic(user, pass string) cred     { return cred{form: credBasic, user: user, pass: pass} }
func urlCred(user, pass string) cred   { return cred{form: credParams, user: user, pass: pass} }
func tokenCred(user, pass string) cred { return cred{form: credToken, user: user, pass: pass} }
func bearer(jwt string) cred           { return cred{form: credBearer, token: jwt} }
func rawAuth(header string) cred       { return cred{form: credHeader, token: header} }
func adminCred() cred                  { return basic(authAdmin, authAdminPass) }
func (c cred) with(f credForm) cred    { c.form = f; return c }

func (c cred) String() string {
	switch c.form {
	case credNone:
		return "anonymous"
	case credBearer, credHeader:
		return c.form.String()
	}
	return c.form.String() + ":" + c.user
}

// apply puts c into the URL parameters v and returns the headers that
// carry it.
func (c cred) apply(v url.Values) http.Header {
	h := http.Header{}
	switch c.form {
	case credParams:
		v.Set("u", c.user)
		v.Set("p", c.pass)
	case credBasic:
		r, _ := http.NewRequest(http.MethodGet, "/", nil) // cannot fail
		r.SetBasicAuth(c.user, c.pass)
		h.Set("Authorization", r.Header.Get("Authorization"))
	case credToken:
		h.Set("Authorization", "Token "+c.user+":"+c.pass)
	case credBearer:
		h.Set("Authorization", "Bearer "+c.token)
	case credHeader:
		h.Set("Authorization", c.token)
	}
	if c.extra != "" {
		h.Set("Authorization", c.extra)
	}
	return h
}

// tryDo sends one request and reads the whole answer. It does not touch a
// testing.T, so goroutines may call it.
func tryDo(s *harness.Server, method, path string, header http.Header, body string) (harness.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, rd)
	if err != nil {
		return harness.Response{}, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return harness.Response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return harness.Response{}, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	return harness.Response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}, nil
}

// authDo is tryDo for the test goroutine (subtests included: it fails the
// t it is given, never the server's).
func authDo(t *testing.T, s *harness.Server, method, path string, header http.Header, body string) harness.Response {
	t.Helper()
	r, err := tryDo(s, method, path, header, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// queryReq builds POST /query with q (and extra form values kv) in the
// body and the credentials where c puts them.
func queryReq(c cred, q string, kv ...string) (path string, h http.Header, body string) {
	u := url.Values{}
	h = c.apply(u)
	form := url.Values{"q": {q}}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Set(kv[i], kv[i+1])
	}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	path = "/query"
	if len(u) > 0 {
		path += "?" + u.Encode()
	}
	return path, h, form.Encode()
}

// queryAs runs q with POST /query as c; kv are extra form values (db, …).
func queryAs(t *testing.T, s *harness.Server, c cred, q string, kv ...string) harness.Response {
	t.Helper()
	path, h, body := queryReq(c, q, kv...)
	return authDo(t, s, http.MethodPost, path, h, body)
}

// getQueryAs runs q with GET /query as c, q in the URL.
func getQueryAs(t *testing.T, s *harness.Server, c cred, q string, kv ...string) harness.Response {
	t.Helper()
	u := url.Values{"q": {q}}
	for i := 0; i+1 < len(kv); i += 2 {
		u.Set(kv[i], kv[i+1])
	}
	h := c.apply(u)
	return authDo(t, s, http.MethodGet, "/query?"+u.Encode(), h, "")
}

// writeAs posts line protocol to /write?db=db as c.
func writeAs(t *testing.T, s *harness.Server, c cred, db, body string) harness.Response {
	t.Helper()
	u := url.Values{"db": {db}}
	h := c.apply(u)
	return authDo(t, s, http.MethodPost, "/write?"+u.Encode(), h, body)
}

// getAs sends GET path as c.
func getAs(t *testing.T, s *harness.Server, c cred, path string) harness.Response {
	t.Helper()
	u := url.Values{}
	h := c.apply(u)
	if len(u) > 0 {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + u.Encode()
	}
	return authDo(t, s, http.MethodGet, path, h, "")
}

// queryResults decodes a /query answer.
type queryResults struct {
	Results []struct {
		StatementID int    `json:"statement_id"`
		Error       string `json:"error"`
		Series      []struct {
			Name    string   `json:"name"`
			Columns []string `json:"columns"`
			Values  [][]any  `json:"values"`
		} `json:"series"`
	} `json:"results"`
	Error string `json:"error"`
}

// wantOK fails unless r is a 200 whose every statement succeeded, and
// returns it decoded.
func wantOK(t *testing.T, what string, r harness.Response) queryResults {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("%s: status %d, want 200: %s", what, r.Status, r.Body)
	}
	var qr queryResults
	if err := json.Unmarshal([]byte(r.Body), &qr); err != nil {
		t.Fatalf("%s: body %q is not JSON: %v", what, r.Body, err)
	}
	if qr.Error != "" {
		t.Fatalf("%s: error %q", what, qr.Error)
	}
	for _, res := range qr.Results {
		if res.Error != "" {
			t.Fatalf("%s: statement %d failed: %s", what, res.StatementID, res.Error)
		}
	}
	return qr
}

// mustAdmin runs q as the admin and fails unless every statement succeeds.
func mustAdmin(t *testing.T, s *harness.Server, q string, kv ...string) queryResults {
	t.Helper()
	return wantOK(t, q, queryAs(t, s, adminCred(), q, kv...))
}

// wantError fails unless r has the status and the 1.x error body
// {"error": text}, and the headers 1.x sends with it: for a 401 the Basic
// challenge of realm and no X-Influxdb-Error; otherwise X-Influxdb-Error
// holding the text.
func wantError(t *testing.T, what string, r harness.Response, status int, text string) {
	t.Helper()
	wantErrorRealm(t, what, r, status, text, "InfluxDB")
}

func wantErrorRealm(t *testing.T, what string, r harness.Response, status int, text, realm string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.Status, status, r.Body)
	}
	var e struct {
		Error *string `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.Body), &e); err != nil || e.Error == nil {
		t.Fatalf("%s: body %q is not a 1.x error body (%v)", what, r.Body, err)
	}
	if *e.Error != text {
		t.Fatalf("%s: error %q, want %q", what, *e.Error, text)
	}
	if status == http.StatusUnauthorized {
		if got, want := r.Header.Get("WWW-Authenticate"), `Basic realm="`+realm+`"`; got != want {
			t.Fatalf("%s: WWW-Authenticate %q, want %q", what, got, want)
		}
		if got := r.Header.Get("X-Influxdb-Error"); got != "" {
			t.Fatalf("%s: a 401 carries X-Influxdb-Error %q; 1.x sends only the challenge", what, got)
		}
		return
	}
	if got := r.Header.Get("X-Influxdb-Error"); got != text {
		t.Fatalf("%s: X-Influxdb-Error %q, want %q", what, got, text)
	}
}

// wantErrorContains is wantError for texts that come from a library (the
// JWT parser) and are pinned only by a fragment.
func wantErrorContains(t *testing.T, what string, r harness.Response, status int, fragment string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.Status, status, r.Body)
	}
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.Body), &e); err != nil || e.Error == "" {
		t.Fatalf("%s: body %q is not a 1.x error body (%v)", what, r.Body, err)
	}
	if !strings.Contains(strings.ToLower(e.Error), strings.ToLower(fragment)) {
		t.Fatalf("%s: error %q does not mention %q", what, e.Error, fragment)
	}
	if status == http.StatusUnauthorized && r.Header.Get("WWW-Authenticate") != `Basic realm="InfluxDB"` {
		t.Fatalf("%s: WWW-Authenticate %q", what, r.Header.Get("WWW-Authenticate"))
	}
}

// wantStatus fails unless r has the status.
func wantStatus(t *testing.T, what string, r harness.Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.Status, status, r.Body)
	}
}

// authzDenied is the body of a query refused by the executor (1.x's
// "error authorizing query: <user> not authorized to execute <what>").
func authzDenied(user, what string) string {
	return "error authorizing query: " + user + " not authorized to execute " + what
}

// authConfig is a config with auth on and the given extra lines in the
// [http] section, followed by any further sections.
func authConfig(httpLines string, sections ...string) string {
	return "[http]\nauth-enabled = true\n" + httpLines + "\n" + strings.Join(sections, "\n")
}

// startAuth starts stratad with auth on and bootstraps the admin the only
// way auth allows: an anonymous CREATE USER … WITH ALL PRIVILEGES.
func startAuth(t *testing.T, config string) *harness.Server {
	t.Helper()
	s := harness.Start(t, harness.Options{Config: config})
	bootstrapAdmin(t, s)
	return s
}

func bootstrapAdmin(t *testing.T, s *harness.Server) {
	t.Helper()
	wantOK(t, "bootstrap admin", queryAs(t, s, anon(),
		fmt.Sprintf("CREATE USER %s WITH PASSWORD '%s' WITH ALL PRIVILEGES", authAdmin, authAdminPass)))
}

// adminConcurrently runs each query as the admin in its own request, all
// at once: CREATE USER and SET PASSWORD pay bcrypt outside the meta lock,
// so on two cores this halves the set-up time (and exercises concurrent
// meta changes).
func adminConcurrently(t *testing.T, s *harness.Server, queries ...string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]string, len(queries))
	for i, q := range queries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path, h, body := queryReq(adminCred(), q)
			r, err := tryDo(s, http.MethodPost, path, h, body)
			switch {
			case err != nil:
				errs[i] = err.Error()
			case r.Status != http.StatusOK || strings.Contains(r.Body, `"error"`):
				errs[i] = fmt.Sprintf("status %d: %s", r.Status, r.Body)
			}
		}()
	}
	wg.Wait()
	for i, e := range errs {
		if e != "" {
			t.Fatalf("%s: %s", queries[i], e)
		}
	}
}

// signJWT signs claims with method and key.
func signJWT(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign JWT: %v", err)
	}
	return s
}

// hs256 is a token as 1.x documents them: HS256 with the shared secret,
// claims username and exp.
func hs256(t *testing.T, secret, user string, exp time.Time) string {
	t.Helper()
	return signJWT(t, jwt.SigningMethodHS256, []byte(secret), jwt.MapClaims{"username": user, "exp": exp.Unix()})
}

// seriesValues returns the values of the first series of the first result,
// each row joined with ",".
func seriesValues(qr queryResults) []string {
	var out []string
	if len(qr.Results) == 0 || len(qr.Results[0].Series) == 0 {
		return nil
	}
	for _, row := range qr.Results[0].Series[0].Values {
		parts := make([]string, len(row))
		for i, v := range row {
			parts[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(parts, ","))
	}
	return out
}

// TestAuthDisabledEverythingOpen: with auth-enabled = false every route is
// open and credentials, even wrong or malformed ones, are ignored — also
// the ping-auth and pprof-auth switches, which 1.x applies only with auth
// on.
func TestAuthDisabledEverythingOpen(t *testing.T) {
	t.Parallel()
	s := harness.Start(t, harness.Options{Config: "[http]\nauth-enabled = false\nping-auth-enabled = true\n" +
		"pprof-enabled = true\npprof-auth-enabled = true\nshared-secret = \"e2e-disabled-secret\"\n"})
	creds := []cred{
		anon(),
		basic("nobody", "wrong"),
		urlCred("nobody", "wrong"),
		tokenCred("nobody", "wrong"),
		bearer("not-a-jwt"),
		rawAuth("Digest whatever"),
	}
	wantOK(t, "create db", queryAs(t, s, anon(), "CREATE DATABASE open; CREATE USER bob WITH PASSWORD 'Bob-0pen-pw'"))
	for i, c := range creds {
		what := c.String()
		wantStatus(t, what+": write", writeAs(t, s, c, "open", fmt.Sprintf("m,c=%d v=%di %d", i, i, i+1)), http.StatusNoContent)
		qr := wantOK(t, what+": SHOW DATABASES", queryAs(t, s, c, "SHOW DATABASES"))
		if !slices.Contains(seriesValues(qr), "open") {
			t.Fatalf("%s: SHOW DATABASES lacks open: %+v", what, qr)
		}
		// Admin statements run for anyone.
		wantOK(t, what+": admin statements", queryAs(t, s, c,
			fmt.Sprintf("CREATE DATABASE d%d; GRANT READ ON d%d TO bob; SHOW USERS; SHOW GRANTS FOR bob; DROP DATABASE d%d", i, i, i)))
		wantOK(t, what+": GET query", getQueryAs(t, s, c, "SHOW RETENTION POLICIES ON open"))
		wantStatus(t, what+": /ping", getAs(t, s, c, "/ping"), http.StatusNoContent)
		wantStatus(t, what+": /debug/vars", getAs(t, s, c, "/debug/vars"), http.StatusOK)
		wantStatus(t, what+": /debug/pprof/cmdline", getAs(t, s, c, "/debug/pprof/cmdline"), http.StatusOK)
	}
	qr := wantOK(t, "SHOW USERS", queryAs(t, s, anon(), "SHOW USERS"))
	if got := seriesValues(qr); len(got) != 1 || got[0] != "bob,false" {
		t.Fatalf("SHOW USERS = %v, want [bob,false]", got)
	}
}

// TestAuthBootstrap: with auth on and no user, only a query whose first
// statement creates an admin runs; once it has, anonymous requests get
// 401. Taking the last admin away locks everyone out ("no user
// provided"), and the documented way back — restart with auth off, grant,
// restart with auth on — works.
func TestAuthBootstrap(t *testing.T) {
	t.Parallel()
	cfg := authConfig("")
	s := harness.Start(t, harness.Options{Config: cfg})
	const firstAdmin = "create admin user first or disable authentication"

	refused := []string{
		"SHOW DATABASES",
		"CREATE DATABASE db0",
		"CREATE USER bob WITH PASSWORD 'Bob-b00t-pw'", // not an admin
		"CREATE DATABASE db0; CREATE USER admin WITH PASSWORD 'x' WITH ALL PRIVILEGES",
	}
	for _, q := range refused {
		wantError(t, "before any user: "+q, queryAs(t, s, anon(), q), http.StatusForbidden, "error authorizing query: "+firstAdmin)
	}
	// Credentials are ignored while no admin exists: they cannot be checked.
	wantError(t, "before any user, with credentials", queryAs(t, s, basic("admin", "guess"), "SHOW DATABASES"),
		http.StatusForbidden, "error authorizing query: "+firstAdmin)
	wantError(t, "before any user: write", writeAs(t, s, anon(), "db0", "m v=1"),
		http.StatusForbidden, `user is required to write to database "db0"`)
	wantStatus(t, "before any user: /ping", getAs(t, s, anon(), "/ping"), http.StatusNoContent)

	// The first statement creates the admin: the rest of the query runs too.
	wantOK(t, "bootstrap", queryAs(t, s, anon(),
		fmt.Sprintf("CREATE USER %s WITH PASSWORD '%s' WITH ALL PRIVILEGES; CREATE DATABASE db0", authAdmin, authAdminPass)))

	const noCreds = "unable to parse authentication credentials"
	wantError(t, "after bootstrap: anonymous query", queryAs(t, s, anon(), "SHOW DATABASES"), http.StatusUnauthorized, noCreds)
	wantError(t, "after bootstrap: anonymous second admin",
		queryAs(t, s, anon(), "CREATE USER root WITH PASSWORD 'r00t-pw' WITH ALL PRIVILEGES"), http.StatusUnauthorized, noCreds)
	wantError(t, "after bootstrap: anonymous write", writeAs(t, s, anon(), "db0", "m v=1"), http.StatusUnauthorized, noCreds)
	wantError(t, "after bootstrap: anonymous GET", getQueryAs(t, s, anon(), "SHOW DATABASES"), http.StatusUnauthorized, noCreds)
	// No shared-secret: bearer tokens are refused outright.
	wantError(t, "bearer without shared-secret", queryAs(t, s, bearer(hs256(t, "any", authAdmin, time.Now().Add(time.Hour))), "SHOW DATABASES"),
		http.StatusUnauthorized, "bearer auth disabled")
	qr := mustAdmin(t, s, "SHOW DATABASES")
	if !slices.Contains(seriesValues(qr), "db0") {
		t.Fatalf("SHOW DATABASES after bootstrap: %+v", qr)
	}
	wantStatus(t, "admin write", writeAs(t, s, adminCred(), "db0", "m v=1 1"), http.StatusNoContent)

	mustAdmin(t, s, "CREATE USER bob WITH PASSWORD 'Bob-b00t-pw'; GRANT ALL ON db0 TO bob")

	// Without an admin nobody is authenticated (1.x), and the executor
	// refuses a request without a user — creating a new admin included.
	mustAdmin(t, s, "REVOKE ALL PRIVILEGES FROM "+authAdmin)
	const noUser = "error authorizing query: no user provided"
	wantError(t, "no admin: anonymous", queryAs(t, s, anon(), "SHOW DATABASES"), http.StatusForbidden, noUser)
	wantError(t, "no admin: new admin", queryAs(t, s, anon(), "CREATE USER root WITH PASSWORD 'r00t-pw' WITH ALL PRIVILEGES"),
		http.StatusForbidden, noUser)
	wantError(t, "no admin: bob", queryAs(t, s, basic("bob", "Bob-b00t-pw"), "SHOW DATABASES"), http.StatusForbidden, noUser)
	wantError(t, "no admin: bob writes", writeAs(t, s, basic("bob", "Bob-b00t-pw"), "db0", "m v=2 2"),
		http.StatusForbidden, `user is required to write to database "db0"`)

	// The way back.
	s.Stop()
	s = s.Restart(harness.Options{Config: "[http]\nauth-enabled = false\n"})
	wantOK(t, "auth off: grant admin", queryAs(t, s, anon(), "GRANT ALL PRIVILEGES TO "+authAdmin))
	s.Stop()
	s = s.Restart(harness.Options{Config: cfg})
	qr = mustAdmin(t, s, "SHOW USERS")
	if got := seriesValues(qr); len(got) != 2 || got[0] != authAdmin+",true" || got[1] != "bob,false" {
		t.Fatalf("SHOW USERS after recovery = %v", got)
	}
	// The bootstrap window does not reopen after a restart.
	wantError(t, "recovered: anonymous", queryAs(t, s, anon(), "SHOW DATABASES"), http.StatusUnauthorized, noCreds)
	wantError(t, "recovered: anonymous admin",
		queryAs(t, s, anon(), "CREATE USER root WITH PASSWORD 'r00t-pw' WITH ALL PRIVILEGES"), http.StatusUnauthorized, noCreds)
	wantStatus(t, "recovered: bob writes", writeAs(t, s, basic("bob", "Bob-b00t-pw"), "db0", "m v=3 3"), http.StatusNoContent)
}

// TestAuthCredentialForms: each credential form works on /query and
// /write and identifies its user (the admin runs an admin statement, the
// plain user is refused one), and the forms are tried in 1.x's order.
func TestAuthCredentialForms(t *testing.T) {
	t.Parallel()
	const secret = "e2e-shared-secret-0d5b"
	s := startAuth(t, authConfig(`shared-secret = "`+secret+`"`))
	const userPass = "Wr1ter-e2e-pw"
	mustAdmin(t, s, "CREATE DATABASE db0; CREATE USER writer WITH PASSWORD '"+userPass+"'; GRANT ALL ON db0 TO writer")
	exp := time.Now().Add(time.Hour)
	creds := func(user, pass string) []cred {
		return []cred{urlCred(user, pass), basic(user, pass), tokenCred(user, pass), bearer(hs256(t, secret, user, exp))}
	}

	for i, c := range creds(authAdmin, authAdminPass) {
		t.Run("admin/"+c.form.String(), func(t *testing.T) {
			qr := wantOK(t, "SHOW USERS", queryAs(t, s, c, "SHOW USERS"))
			if !slices.Contains(seriesValues(qr), authAdmin+",true") {
				t.Fatalf("SHOW USERS: %+v", qr)
			}
			wantOK(t, "GET SHOW USERS", getQueryAs(t, s, c, "SHOW USERS"))
			wantStatus(t, "write", writeAs(t, s, c, "db0", fmt.Sprintf("m,by=admin,form=%d v=1 %d", i, i+1)), http.StatusNoContent)
		})
	}
	for i, c := range creds("writer", userPass) {
		t.Run("writer/"+c.form.String(), func(t *testing.T) {
			// Refused an admin statement by name: the request was
			// authenticated as writer, not let through as anyone else.
			wantError(t, "SHOW USERS", queryAs(t, s, c, "SHOW USERS"), http.StatusForbidden,
				authzDenied("writer", "statement 'SHOW USERS', requires admin privilege"))
			wantOK(t, "SHOW RETENTION POLICIES", queryAs(t, s, c, "SHOW RETENTION POLICIES ON db0"))
			wantStatus(t, "write", writeAs(t, s, c, "db0", fmt.Sprintf("m,by=writer,form=%d v=1 %d", i, i+1)), http.StatusNoContent)
		})
	}

	t.Run("v2 write with Token", func(t *testing.T) {
		h := tokenCred("writer", userPass).apply(url.Values{})
		r := authDo(t, s, http.MethodPost, "/api/v2/write?bucket=db0", h, "m,by=v2 v=1 100")
		wantStatus(t, "/api/v2/write", r, http.StatusNoContent)
		h = tokenCred("writer", "wrong").apply(url.Values{})
		wantError(t, "/api/v2/write, wrong password", authDo(t, s, http.MethodPost, "/api/v2/write?bucket=db0", h, "m v=1 101"),
			http.StatusUnauthorized, "authorization failed")
	})

	// 1.x reads u/p first, then the Authorization header.
	t.Run("precedence", func(t *testing.T) {
		both := func(params, header cred) cred {
			params.extra = header.apply(url.Values{}).Get("Authorization")
			return params
		}
		// u/p of the writer win over the admin's Basic header.
		wantError(t, "params over basic", queryAs(t, s, both(urlCred("writer", userPass), adminCred()), "SHOW USERS"),
			http.StatusForbidden, authzDenied("writer", "statement 'SHOW USERS', requires admin privilege"))
		// Wrong u/p are not rescued by a good header.
		wantError(t, "wrong params, good header", queryAs(t, s, both(urlCred(authAdmin, "wrong"), adminCred()), "SHOW USERS"),
			http.StatusUnauthorized, "authorization failed")
		// A lone u (or p) is no credential: the header is used.
		r := queryAs(t, s, both(cred{form: credParams, user: "writer"}, adminCred()), "SHOW USERS")
		wantOK(t, "u without p, good header", r)
		// Bearer and Token take the header before Basic would.
		wantOK(t, "bearer", queryAs(t, s, bearer(hs256(t, secret, authAdmin, exp)), "SHOW USERS"))
	})

	// Without auth-specific settings, /ping and /debug stay open with auth on.
	t.Run("open endpoints", func(t *testing.T) {
		wantStatus(t, "/ping", getAs(t, s, anon(), "/ping"), http.StatusNoContent)
		wantStatus(t, "HEAD /ping", authDo(t, s, http.MethodHead, "/ping", nil, ""), http.StatusNoContent)
		wantStatus(t, "/health", getAs(t, s, anon(), "/health"), http.StatusOK)
		wantStatus(t, "/debug/vars", getAs(t, s, anon(), "/debug/vars"), http.StatusOK)
	})

	t.Run("jwt", func(t *testing.T) { testBearerTokens(t, s, secret) }) // last: drops writer

	s.Stop()
	noSecretsInLog(t, s, authAdminPass, userPass, secret)
}

// testBearerTokens checks "Authorization: Bearer <JWT>" against a server
// whose shared-secret is secret: HMAC tokens with a future exp and an
// existing user pass; every other token is a 401.
func testBearerTokens(t *testing.T, s *harness.Server, secret string) {
	now := time.Now()
	hour := time.Hour
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	good := func(user string) jwt.MapClaims { return jwt.MapClaims{"username": user, "exp": now.Add(hour).Unix()} }
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, good(authAdmin)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	valid := []struct {
		name  string
		token string
		admin bool
	}{
		{"HS256 admin", hs256(t, secret, authAdmin, now.Add(hour)), true},
		{"HS256 writer", hs256(t, secret, "writer", now.Add(hour)), false},
		{"HS384", signJWT(t, jwt.SigningMethodHS384, []byte(secret), good(authAdmin)), true},
		{"HS512", signJWT(t, jwt.SigningMethodHS512, []byte(secret), good(authAdmin)), true},
	}
	for _, c := range valid {
		r := queryAs(t, s, bearer(c.token), "SHOW USERS")
		if c.admin {
			wantOK(t, c.name, r)
		} else {
			wantError(t, c.name, r, http.StatusForbidden, authzDenied("writer", "statement 'SHOW USERS', requires admin privilege"))
		}
		wantStatus(t, c.name+": write", writeAs(t, s, bearer(c.token), "db0", "jwt v=1 1"), http.StatusNoContent)
	}

	invalid := []struct {
		name     string
		token    string
		text     string // the exact error, where it is 1.x's own
		fragment string // otherwise a fragment of the JWT library's text
	}{
		{name: "expired", token: hs256(t, secret, authAdmin, now.Add(-hour)), fragment: "expired"},
		{name: "no exp", token: signJWT(t, jwt.SigningMethodHS256, []byte(secret), jwt.MapClaims{"username": authAdmin}),
			text: "token expiration required"},
		{name: "unknown user", token: hs256(t, secret, "ghost", now.Add(hour)), text: "user not found"},
		{name: "no username", token: signJWT(t, jwt.SigningMethodHS256, []byte(secret), jwt.MapClaims{"exp": now.Add(hour).Unix()}),
			text: "username in token must be a string"},
		{name: "numeric username", token: signJWT(t, jwt.SigningMethodHS256, []byte(secret),
			jwt.MapClaims{"username": 42, "exp": now.Add(hour).Unix()}), text: "username in token must be a string"},
		{name: "empty username", token: hs256(t, secret, "", now.Add(hour)), text: "token must contain a username"},
		{name: "wrong secret", token: hs256(t, secret+"x", authAdmin, now.Add(hour)), fragment: "signature is invalid"},
		{name: "alg none", token: none, fragment: "signing method"},
		{name: "ES256", token: signJWT(t, jwt.SigningMethodES256, ecKey, good(authAdmin)), fragment: "signing method"},
		{name: "not before", token: signJWT(t, jwt.SigningMethodHS256, []byte(secret),
			jwt.MapClaims{"username": authAdmin, "exp": now.Add(hour).Unix(), "nbf": now.Add(hour / 2).Unix()}), fragment: "not valid yet"},
		{name: "garbage", token: "not.a.jwt", fragment: "malformed"},
	}
	for _, c := range invalid {
		for _, op := range []string{"query", "write"} {
			var r harness.Response
			if op == "query" {
				r = queryAs(t, s, bearer(c.token), "SHOW DATABASES")
			} else {
				r = writeAs(t, s, bearer(c.token), "db0", "jwt v=2 2")
			}
			what := c.name + ": " + op
			if c.text != "" {
				wantError(t, what, r, http.StatusUnauthorized, c.text)
			} else {
				wantErrorContains(t, what, r, http.StatusUnauthorized, c.fragment)
			}
		}
	}
	// A token for a dropped user stops working at once (this drops
	// writer: it runs last).
	tok := hs256(t, secret, "writer", now.Add(hour))
	wantStatus(t, "token of a live user", writeAs(t, s, bearer(tok), "db0", "jwt v=3 3"), http.StatusNoContent)
	mustAdmin(t, s, "DROP USER writer")
	wantError(t, "token of a dropped user", writeAs(t, s, bearer(tok), "db0", "jwt v=4 4"), http.StatusUnauthorized, "user not found")
}

// warmAuth authenticates each credential once, all at once, so that the
// bcrypt comparison each pays on first use runs in parallel; later
// requests with the same credentials are answered from the cache.
func warmAuth(t *testing.T, s *harness.Server, creds ...cred) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]string, len(creds))
	for i, c := range creds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path, h, body := queryReq(c, "SHOW DATABASES")
			r, err := tryDo(s, http.MethodPost, path, h, body)
			switch {
			case err != nil:
				errs[i] = err.Error()
			case r.Status != http.StatusOK:
				errs[i] = fmt.Sprintf("status %d: %s", r.Status, r.Body)
			}
		}()
	}
	wg.Wait()
	for i, e := range errs {
		if e != "" {
			t.Fatalf("warm up %s: %s", creds[i], e)
		}
	}
}
