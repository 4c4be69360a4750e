package httpd_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/stratadb/strata/internal/httpd"
)

const testSecret = "shared-secret-for-tests"

func hs256(t *testing.T, secret string, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The credential forms, in 1.x's order, each authenticate the same way.
func TestAuthCredentialForms(t *testing.T) {
	e := newEnv(t, httpd.Options{AuthEnabled: true, SharedSecret: testSecret})
	future := float64(fixedNow.Add(time.Hour).Unix())
	for _, tc := range []struct {
		name    string
		target  string
		headers []string
		user    string
	}{
		{"u and p parameters", "/query?q=SHOW+DATABASES&u=reader&p=s3cr3t-reader", nil, "reader"},
		{"basic", "/query?q=SHOW+DATABASES", []string{basic("admin", "s3cr3t-admin")}, "admin"},
		{"token user:pass", "/query?q=SHOW+DATABASES", []string{"Authorization: Token writer:s3cr3t-writer"}, "writer"},
		{"bearer HS256", "/query?q=SHOW+DATABASES",
			[]string{"Authorization: Bearer " + hs256(t, testSecret, jwt.MapClaims{"username": "reader", "exp": future})}, "reader"},
		{"bearer HS512", "/query?q=SHOW+DATABASES", []string{"Authorization: Bearer " + func() string {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims{"username": "admin", "exp": future}).SignedString([]byte(testSecret))
			return s
		}()}, "admin"},
		{"parameters win over the header", "/query?q=SHOW+DATABASES&u=reader&p=s3cr3t-reader", []string{basic("admin", "s3cr3t-admin")}, "reader"},
		{"only u: the header counts", "/query?q=SHOW+DATABASES&u=reader", []string{basic("admin", "s3cr3t-admin")}, "admin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := e.do("GET", tc.target, "", tc.headers...)
			wantStatus(t, rec, http.StatusOK)
			if got := e.q.lastCall(t).opts.User; got == nil || got.Name() != tc.user {
				t.Fatalf("executor got user %v, want %q", got, tc.user)
			}
		})
	}
	// The writer gets the user too.
	rec := e.do("POST", "/write?db=db0", "cpu value=1", "Authorization: Token writer:s3cr3t-writer")
	wantStatus(t, rec, http.StatusNoContent)
	if got := e.w.lastCall(t).user; got != "writer" {
		t.Fatalf("writer got user %q", got)
	}
}

func TestAuthFailures(t *testing.T) {
	e := newEnv(t, httpd.Options{AuthEnabled: true, SharedSecret: testSecret})
	future := float64(fixedNow.Add(time.Hour).Unix())
	past := float64(fixedNow.Add(-time.Hour).Unix())
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	es256, err := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"username": "admin", "exp": future}).SignedString(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"username": "admin", "exp": future}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		header string
		target string
		status int
		errMsg string // the error text, or a prefix of it ending in "…"
	}{
		{name: "no credentials", status: 401, errMsg: "unable to parse authentication credentials"},
		{name: "only p", target: "/query?q=SHOW+DATABASES&p=x", status: 401, errMsg: "unable to parse authentication credentials"},
		{name: "wrong password", header: basic("admin", "nope"), status: 401, errMsg: "authorization failed"},
		{name: "unknown user", header: basic("nobody", "nope"), status: 401, errMsg: "authorization failed"},
		{name: "empty user", header: basic("", "x"), status: 401, errMsg: "username required"},
		{name: "token without colon", header: "Authorization: Token abc", status: 401, errMsg: "unable to parse authentication credentials"},
		{name: "unknown scheme", header: "Authorization: Digest abc", status: 401, errMsg: "unable to parse authentication credentials"},
		{name: "bearer with two spaces", header: "Authorization: Bearer  " + hs256(t, testSecret, jwt.MapClaims{"username": "admin", "exp": future}),
			status: 401, errMsg: "unable to parse authentication credentials"},
		{name: "jwt expired", header: "Authorization: Bearer " + hs256(t, testSecret, jwt.MapClaims{"username": "admin", "exp": past}),
			status: 401, errMsg: "token has invalid claims: token is expired"},
		{name: "jwt without exp", header: "Authorization: Bearer " + hs256(t, testSecret, jwt.MapClaims{"username": "admin"}),
			status: 401, errMsg: "token expiration required"},
		{name: "jwt with zero exp", header: "Authorization: Bearer " + hs256(t, testSecret, jwt.MapClaims{"username": "admin", "exp": 0}),
			status: 401, errMsg: "token expiration required"},
		{name: "jwt unknown user", header: "Authorization: Bearer " + hs256(t, testSecret, jwt.MapClaims{"username": "ghost", "exp": future}),
			status: 401, errMsg: "user not found"},
		{name: "jwt username not a string", header: "Authorization: Bearer " + hs256(t, testSecret, jwt.MapClaims{"username": 7, "exp": future}),
			status: 401, errMsg: "username in token must be a string"},
		{name: "jwt empty username", header: "Authorization: Bearer " + hs256(t, testSecret, jwt.MapClaims{"username": "", "exp": future}),
			status: 401, errMsg: "token must contain a username"},
		{name: "jwt wrong secret", header: "Authorization: Bearer " + hs256(t, "other-secret", jwt.MapClaims{"username": "admin", "exp": future}),
			status: 401, errMsg: "token signature is invalid: signature is invalid"},
		{name: "jwt ES256", header: "Authorization: Bearer " + es256,
			status: 401, errMsg: "token is unverifiable: error while executing keyfunc: unexpected signing method: ES256"},
		{name: "jwt alg none", header: "Authorization: Bearer " + none,
			status: 401, errMsg: "token is unverifiable: error while executing keyfunc: unexpected signing method: none"},
		{name: "jwt garbage", header: "Authorization: Bearer abc", status: 401, errMsg: "token is malformed: …"},
		{name: "reader may not write", header: basic("reader", "s3cr3t-reader"), target: "/write?db=db0", status: 403,
			errMsg: `"reader" user is not authorized to write to database "db0"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := statValue(t, e.h, "authFail")
			target, method := tc.target, "GET"
			if target == "" {
				target = "/query?q=SHOW+DATABASES"
			}
			if strings.HasPrefix(target, "/write") {
				method = "POST"
			}
			var headers []string
			if tc.header != "" {
				headers = append(headers, tc.header)
			}
			rec := e.do(method, target, "cpu value=1", headers...)
			wantStatus(t, rec, tc.status)
			body := rec.Body.String()
			if prefix, ok := strings.CutSuffix(tc.errMsg, "…"); ok {
				if !strings.HasPrefix(body, `{"error":"`+prefix) {
					t.Fatalf("body %q, want an error starting %q", body, prefix)
				}
			} else if want := `{"error":"` + strings.ReplaceAll(tc.errMsg, `"`, `\"`) + "\"}\n"; body != want {
				t.Fatalf("body %q, want %q", body, want)
			}
			wantFails := before
			if tc.status == 401 {
				wantFails++
				if got := rec.Header().Get("Www-Authenticate"); got != `Basic realm="InfluxDB"` {
					t.Fatalf("WWW-Authenticate = %q", got)
				}
			}
			if got := statValue(t, e.h, "authFail"); got != wantFails {
				t.Fatalf("authFail = %d, want %d", got, wantFails)
			}
		})
	}
}

func TestAuthRealm(t *testing.T) {
	e := newEnv(t, httpd.Options{AuthEnabled: true, Realm: "Strata"})
	rec := e.do("GET", "/query?q=SHOW+DATABASES", "")
	wantStatus(t, rec, http.StatusUnauthorized)
	if got := rec.Header().Get("Www-Authenticate"); got != `Basic realm="Strata"` {
		t.Fatalf("WWW-Authenticate = %q", got)
	}
}

// While no admin exists, requests pass without credentials (1.x's
// bootstrap), queries as an anonymous user; writes still need a user.
func TestAuthBootstrap(t *testing.T) {
	e := newEnv(t, httpd.Options{AuthEnabled: true})
	e.users.noAdmin = true
	rec := e.do("POST", "/query?q=CREATE+USER+root+WITH+PASSWORD+%27pw%27+WITH+ALL+PRIVILEGES", "")
	wantStatus(t, rec, http.StatusOK)
	if got := e.q.lastCall(t).opts.User; got != nil {
		t.Fatalf("bootstrap query ran as %v, want no user", got)
	}
	wantStatus(t, e.do("POST", "/write?db=db0", "cpu value=1"), http.StatusForbidden)

	e.users.noAdmin = false
	wantStatus(t, e.do("POST", "/query?q=SHOW+DATABASES", ""), http.StatusUnauthorized)
}

func TestAuthDisabledIgnoresCredentials(t *testing.T) {
	e := newEnv(t, httpd.Options{})
	rec := e.do("GET", "/query?q=SHOW+DATABASES&u=nobody&p=wrong", "", "Authorization: Bearer garbage")
	wantStatus(t, rec, http.StatusOK)
	if got := e.q.lastCall(t).opts.User; got != nil {
		t.Fatalf("auth disabled, yet user %v", got)
	}
	wantStatus(t, e.do("POST", "/write?db=db0", "cpu value=1"), http.StatusNoContent)
}

func TestAuthPing(t *testing.T) {
	e := newEnv(t, httpd.Options{AuthEnabled: true})
	wantStatus(t, e.do("GET", "/ping", ""), http.StatusNoContent) // open by default

	e = newEnv(t, httpd.Options{AuthEnabled: true, PingAuthEnabled: true})
	for _, path := range []string{"/ping", "/status", "/health"} {
		wantStatus(t, e.do("GET", path, ""), http.StatusUnauthorized)
		rec := e.do("GET", path, "", basic("reader", "s3cr3t-reader"))
		if rec.Code/100 != 2 {
			t.Fatalf("%s with credentials: %d", path, rec.Code)
		}
	}
}

func TestAuthDebugEndpoints(t *testing.T) {
	opts := httpd.Options{AuthEnabled: true, PprofEnabled: true, PprofAuthEnabled: true}
	e := newEnv(t, opts)
	for _, path := range []string{"/debug/pprof/cmdline", "/debug/vars", "/debug/pprof/"} {
		wantStatus(t, e.do("GET", path, ""), http.StatusUnauthorized)
		wantStatus(t, e.do("GET", path, "", basic("writer", "s3cr3t-writer")), http.StatusForbidden)
		wantStatus(t, e.do("GET", path, "", basic("admin", "s3cr3t-admin")), http.StatusOK)
	}
	// During bootstrap there is no user, hence no admin.
	e.users.noAdmin = true
	wantStatus(t, e.do("GET", "/debug/vars", ""), http.StatusForbidden)

	// Without pprof-auth-enabled the debug endpoints are open.
	opts.PprofAuthEnabled = false
	e = newEnv(t, opts)
	wantStatus(t, e.do("GET", "/debug/vars", ""), http.StatusOK)
}

// Auth enabled without a user store is a wiring bug: fail closed.
func TestAuthWithoutUserStore(t *testing.T) {
	h := httpd.NewHandler(httpd.Options{AuthEnabled: true}, &fakeWriter{}, &fakeExecutor{}, nil, nil, nil)
	defer func() { _ = h.Close() }()
	e := &env{h: h}
	wantStatus(t, e.do("GET", "/query?q=SHOW+DATABASES", ""), http.StatusInternalServerError)
	wantStatus(t, e.do("POST", "/write?db=db0", "cpu value=1"), http.StatusInternalServerError)
}

// Passwords never reach a response body, a header or a log line.
func TestPasswordsNeverLeak(t *testing.T) {
	e := newEnv(t, httpd.Options{AuthEnabled: true, LogEnabled: true, WriteTracing: true})
	const pw = "s3cr3t-admin"
	const newPw = "hunter2-new-password"
	q := "CREATE USER bob WITH PASSWORD '" + newPw + "'"
	var responses []string
	for _, tc := range []struct {
		method, target string
		headers        []string
	}{
		{"GET", "/query?u=admin&p=" + pw + "&q=" + strings.ReplaceAll(q, " ", "+"), nil},
		{"POST", "/query?u=admin&p=wrong-" + pw + "&q=SHOW+DATABASES", nil},
		{"POST", "/query?q=SET+PASSWORD+FOR+bob+%3D+%27" + newPw + "%27", []string{basic("admin", pw)}},
		{"POST", "/query?q=SHOW+DATABASES", []string{basic("admin", "wrong-"+pw)}},
		{"POST", "/query?q=SHOW+DATABASES", []string{"Authorization: Token admin:" + pw}},
		{"POST", "/write?db=db0&u=admin&p=" + pw, nil},
		{"GET", "/nope?p=" + pw, nil},
	} {
		rec := e.do(tc.method, tc.target, "cpu value=1", tc.headers...)
		var b strings.Builder
		b.WriteString(rec.Body.String())
		for k, v := range rec.Header() {
			b.WriteString(k + ": " + strings.Join(v, ",") + "\n")
		}
		responses = append(responses, b.String())
	}
	basicPw := base64.StdEncoding.EncodeToString([]byte("admin:" + pw))
	for _, secret := range []string{pw, newPw, basicPw} {
		if strings.Contains(e.access.String(), secret) {
			t.Errorf("access log holds %q:\n%s", secret, e.access.String())
		}
		if strings.Contains(e.log.String(), secret) {
			t.Errorf("log holds %q:\n%s", secret, e.log.String())
		}
		for _, r := range responses {
			if strings.Contains(r, secret) {
				t.Errorf("response holds %q:\n%s", secret, r)
			}
		}
	}
	if !strings.Contains(e.access.String(), "p=[REDACTED]") {
		t.Errorf("access log does not show the redaction:\n%s", e.access.String())
	}
	if !strings.Contains(e.access.String(), "PASSWORD+%5BREDACTED%5D") {
		t.Errorf("access log does not redact the query's password:\n%s", e.access.String())
	}
}
