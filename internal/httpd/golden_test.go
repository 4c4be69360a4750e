package httpd_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratadb/strata/internal/httpd"
	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/query"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files under testdata/golden")

// goldenHeaders are the response headers a golden file records, in order.
var goldenHeaders = []string{
	"Allow", "Content-Encoding", "Content-Type", "Request-Id", "Www-Authenticate",
	"X-Influxdb-Build", "X-Influxdb-Error", "X-Influxdb-Version", "X-Request-Id",
	"Access-Control-Allow-Origin",
}

// authzError is how the executor and the writer say "not allowed".
type authzError struct{ msg string }

func (e *authzError) Error() string             { return e.msg }
func (e *authzError) AuthorizationFailed() bool { return true }

func basic(user, pass string) string {
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

type goldenCase struct {
	name    string
	opts    httpd.Options
	setup   func(e *env)
	method  string
	target  string
	body    string
	headers []string
}

func writerReturns(err error) func(*env) {
	return func(e *env) {
		e.w.fn = func(context.Context, string, []models.Point) error { return err }
	}
}

func executorSends(results ...*query.Result) func(*env) {
	return func(e *env) { e.q.fn = sendResults(results...) }
}

// goldenCases pin the status, headers and body of every answer 1.x
// clients see, errors above all.
func goldenCases() []goldenCase {
	auth := httpd.Options{AuthEnabled: true}
	showDatabases := &query.Result{StatementID: 0, Series: []*query.Row{{
		Name: "databases", Columns: []string{"name"}, Values: [][]any{{"db0"}, {"_internal"}},
	}}}
	return []goldenCase{
		// /ping, /status, /health and routing.
		{name: "ping_204", method: "GET", target: "/ping"},
		{name: "ping_head_204", method: "HEAD", target: "/ping"},
		{name: "ping_verbose_200", method: "GET", target: "/ping?verbose=true"},
		{name: "ping_post_405", method: "POST", target: "/ping"},
		{name: "status_204", method: "GET", target: "/status"},
		{name: "health_200", method: "GET", target: "/health"},
		{name: "not_found_404", method: "GET", target: "/nope"},
		{name: "flux_403", method: "POST", target: "/api/v2/query", body: "from(bucket:\"db0\")"},
		{name: "cors_options_200", method: "OPTIONS", target: "/query", headers: []string{"Origin: http://example.com"}},

		// /write.
		{name: "write_204", method: "POST", target: "/write?db=db0", body: "cpu value=1"},
		{name: "write_no_db_400", method: "POST", target: "/write", body: "cpu value=1"},
		{name: "write_unknown_db_404", method: "POST", target: "/write?db=missing", body: "cpu value=1"},
		{name: "write_bad_precision_400", method: "POST", target: "/write?db=db0&precision=us", body: "cpu value=1"},
		{name: "write_bad_consistency_400", method: "POST", target: "/write?db=db0&consistency=two", body: "cpu value=1"},
		{name: "write_get_405", method: "GET", target: "/write?db=db0"},
		{name: "write_too_large_413", opts: httpd.Options{MaxBodySize: 8}, method: "POST", target: "/write?db=db0", body: "cpu value=1 1000"},
		{name: "write_partial_400", method: "POST", target: "/write?db=db0",
			body: "cpu value=1\ncpu value=\ncpu value=2\ncpu,time=x value=3\nbad"},
		{name: "write_all_bad_400", method: "POST", target: "/write?db=db0", body: "bad\ncpu value=\n"},
		{name: "write_partial_writer_400", method: "POST", target: "/write?db=db0", body: "cpu value=1\ncpu value=2i",
			setup: writerReturns(&models.PartialWriteError{Reason: `field type conflict: input field "value" on measurement "cpu" is type integer, already exists as type float`, Dropped: 1})},
		{name: "write_partial_combined_400", method: "POST", target: "/write?db=db0", body: "cpu value=1\nbad\ncpu value=2i",
			setup: writerReturns(&models.PartialWriteError{Reason: `field type conflict: input field "value" on measurement "cpu" is type integer, already exists as type float`, Dropped: 1})},
		{name: "write_rp_not_found_500", method: "POST", target: "/write?db=db0&rp=nope", body: "cpu value=1",
			setup: writerReturns(&models.RetentionPolicyNotFoundError{Name: "nope"})},
		{name: "write_timeout_500", method: "POST", target: "/write?db=db0", body: "cpu value=1", setup: writerReturns(models.ErrWriteTimeout)},
		{name: "write_engine_error_500", method: "POST", target: "/write?db=db0", body: "cpu value=1",
			setup: writerReturns(fmt.Errorf("write shard 3: %w", errors.New("no space left on device")))},
		{name: "write_writer_forbidden_403", method: "POST", target: "/write?db=db0", body: "cpu value=1",
			setup: writerReturns(&authzError{msg: `user "bob" may not write to "db0"`})},
		{name: "write_json_204", method: "POST", target: "/write",
			body: `{"database":"db0","points":[{"measurement":"cpu","fields":{"value":1}}]}`},
		{name: "write_v2_204", method: "POST", target: "/api/v2/write?bucket=db0/autogen&precision=s", body: "cpu value=1 1700000000"},
		{name: "write_v2_no_bucket_404", method: "POST", target: "/api/v2/write", body: "cpu value=1"},
		{name: "write_v2_empty_db_404", method: "POST", target: "/api/v2/write?bucket=/rp", body: "cpu value=1"},
		{name: "write_v2_bad_precision_400", method: "POST", target: "/api/v2/write?bucket=db0&precision=n", body: "cpu value=1"},
		{name: "write_panic_500", method: "POST", target: "/write?db=db0", body: "cpu value=1",
			setup: func(e *env) {
				e.w.fn = func(context.Context, string, []models.Point) error { panic("boom: index out of range") }
			}},

		// /query.
		{name: "query_200", method: "GET", target: "/query?q=SHOW+DATABASES", setup: executorSends(showDatabases)},
		{name: "query_pretty_200", method: "GET", target: "/query?q=SHOW+DATABASES&pretty=true", setup: executorSends(showDatabases)},
		{name: "query_csv_200", method: "GET", target: "/query?q=SHOW+DATABASES", headers: []string{"Accept: text/csv"}, setup: executorSends(showDatabases)},
		{name: "query_statement_error_200", method: "GET", target: "/query?q=SELECT+*+FROM+cpu&db=nope",
			setup: executorSends(&query.Result{StatementID: 0, Err: errors.New("database not found: nope")})},
		{name: "query_missing_q_400", method: "GET", target: "/query"},
		{name: "query_missing_q_csv_400", method: "GET", target: "/query", headers: []string{"Accept: application/csv"}},
		{name: "query_parse_error_400", method: "GET", target: "/query?q=SELEC+1"},
		{name: "query_bad_epoch_400", method: "GET", target: "/query?q=SHOW+DATABASES&epoch=us"},
		{name: "query_bad_params_400", method: "GET", target: "/query?q=SHOW+DATABASES&params=%7Bnope"},
		{name: "query_bad_param_number_400", method: "GET", target: "/query?q=SHOW+DATABASES&params=%7B%22x%22%3A1e3%7D"},
		{name: "query_forbidden_403", method: "POST", target: "/query?q=DROP+DATABASE+db0",
			setup: executorSends(&query.Result{StatementID: 0, Err: &authzError{msg: `"reader" user is not authorized to execute statement 'DROP DATABASE db0', requires admin privilege`}})},
		{name: "query_head_405", method: "HEAD", target: "/query?q=SHOW+DATABASES"},

		// Authentication.
		{name: "auth_no_credentials_401", opts: auth, method: "GET", target: "/query?q=SHOW+DATABASES"},
		{name: "auth_wrong_password_401", opts: auth, method: "GET", target: "/query?q=SHOW+DATABASES&u=admin&p=wrong"},
		{name: "auth_unknown_user_401", opts: auth, method: "GET", target: "/query?q=SHOW+DATABASES", headers: []string{basic("nobody", "x")}},
		{name: "auth_username_required_401", opts: auth, method: "GET", target: "/query?q=SHOW+DATABASES", headers: []string{basic("", "x")}},
		{name: "auth_bearer_disabled_401", opts: auth, method: "GET", target: "/query?q=SHOW+DATABASES", headers: []string{"Authorization: Bearer abc.def.ghi"}},
		{name: "auth_write_forbidden_403", opts: auth, method: "POST", target: "/write?db=db1", body: "cpu value=1", headers: []string{basic("writer", "s3cr3t-writer")}},
		{name: "auth_write_bootstrap_403", opts: auth, method: "POST", target: "/write?db=db0", body: "cpu value=1",
			setup: func(e *env) { e.users.noAdmin = true }},
		{name: "auth_ping_401", opts: httpd.Options{AuthEnabled: true, PingAuthEnabled: true}, method: "GET", target: "/ping"},
		{name: "auth_pprof_not_admin_403", opts: httpd.Options{AuthEnabled: true, PprofEnabled: true, PprofAuthEnabled: true},
			method: "GET", target: "/debug/pprof/cmdline", headers: []string{basic("writer", "s3cr3t-writer")}},
	}
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts)
			if tc.setup != nil {
				tc.setup(e)
			}
			headers := append([]string{"X-Request-Id: test-request-id"}, tc.headers...)
			rec := e.do(tc.method, tc.target, tc.body, headers...)
			got := renderResponse(rec)
			path := filepath.Join("testdata", "golden", tc.name+".txt")
			if *rewrite {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden file (run with -rewrite to create it): %v", err)
			}
			if got != string(want) {
				t.Fatalf("response differs from %s\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
			}
		})
	}
}

// renderResponse is the golden form of a response: status line, the
// recorded headers, a blank line, the body.
func renderResponse(rec *httptest.ResponseRecorder) string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %d\n", rec.Code)
	for _, k := range goldenHeaders {
		for _, v := range rec.Header().Values(k) {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	b.WriteString("\n")
	b.WriteString(rec.Body.String())
	return b.String()
}

// Every error response carries the same text in the body and in
// X-Influxdb-Error, except a 401, which carries the Basic challenge.
func TestGoldenErrorConsistency(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts)
			if tc.setup != nil {
				tc.setup(e)
			}
			rec := e.do(tc.method, tc.target, tc.body, tc.headers...)
			if rec.Code < 400 || rec.Header().Get("Content-Type") != "application/json" || tc.method == "HEAD" {
				return
			}
			var body struct{ Error string }
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("error body %q is not JSON: %v", rec.Body.String(), err)
			}
			if body.Error == "" {
				t.Fatalf("error body %q has no error", rec.Body.String())
			}
			hdr := rec.Header().Get("X-Influxdb-Error")
			if rec.Code == 401 {
				if hdr != "" || rec.Header().Get("Www-Authenticate") != `Basic realm="InfluxDB"` {
					t.Fatalf("401 headers: X-Influxdb-Error %q, WWW-Authenticate %q", hdr, rec.Header().Get("Www-Authenticate"))
				}
				return
			}
			if want := strings.ReplaceAll(body.Error, "\n", " "); hdr != want {
				t.Fatalf("X-Influxdb-Error = %q, want %q", hdr, want)
			}
		})
	}
}
