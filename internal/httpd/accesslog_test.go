package httpd_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stratadb/strata/internal/httpd"
)

func TestAccessLogLine(t *testing.T) {
	e := newEnv(t, httpd.Options{AuthEnabled: true, LogEnabled: true})
	req := httptest.NewRequest("GET", "/query?q=SHOW+DATABASES&db=db0&p=secret&u=admin", nil)
	req.Header.Set("X-Request-Id", "rid-1")
	req.Header.Set("User-Agent", "curl/8.0")
	req.Header.Set("Referer", "http://example.com/")
	e.h.ServeHTTP(httptest.NewRecorder(), req)

	req = httptest.NewRequest("GET", "/ping", nil)
	req.Header.Set("X-Request-Id", "rid-2")
	req.Header.Add("X-Forwarded-For", "203.0.113.9")
	req.SetBasicAuth("reader", "not-checked-by-ping")
	e.h.ServeHTTP(httptest.NewRecorder(), req)

	// The caller's claimed name is logged even when authentication fails;
	// the size is the bytes of {"error":"authorization failed"}\n.
	want := `192.0.2.1 - admin [06/May/2024:07:08:09 +0000] "GET /query?q=SHOW+DATABASES&db=db0&p=[REDACTED]&u=admin HTTP/1.1" 401 33 "http://example.com/" "curl/8.0" rid-1 0` + "\n" +
		`203.0.113.9,192.0.2.1 - reader [06/May/2024:07:08:09 +0000] "GET /ping HTTP/1.1" 204 0 "-" "-" rid-2 0` + "\n"
	if got := e.access.String(); got != want {
		t.Fatalf("access log =\n%s\nwant\n%s", got, want)
	}
}

// The authenticated user names the line.
func TestAccessLogAuthenticatedUser(t *testing.T) {
	e := newEnv(t, httpd.Options{AuthEnabled: true, LogEnabled: true})
	e.do("GET", "/query?q=SHOW+DATABASES", "", "Authorization: Token writer:s3cr3t-writer")
	if !strings.Contains(e.access.String(), " - writer [") {
		t.Fatalf("access log = %q", e.access.String())
	}
}

func TestAccessLogFilters(t *testing.T) {
	e := newEnv(t, httpd.Options{LogEnabled: true, AccessLogStatusFilters: []string{"4xx", "bogus"}})
	e.do("GET", "/ping", "")
	e.do("POST", "/write", "cpu value=1") // 400
	e.do("GET", "/query", "")             // 400
	if got := strings.Count(e.access.String(), "\n"); got != 2 {
		t.Fatalf("logged %d lines, want the two 4xx:\n%s", got, e.access.String())
	}
	if !strings.Contains(e.log.String(), "ignoring access log status filter") {
		t.Fatalf("the bad filter was not reported:\n%s", e.log.String())
	}
}

func TestAccessLogSwitches(t *testing.T) {
	e := newEnv(t, httpd.Options{})
	e.do("GET", "/ping", "")
	if e.access.String() != "" {
		t.Fatalf("logged with log-enabled off: %q", e.access.String())
	}

	e = newEnv(t, httpd.Options{LogEnabled: true, SuppressWriteLog: true})
	e.do("POST", "/write?db=db0", "cpu value=1")
	e.do("GET", "/ping", "")
	if got := e.access.String(); strings.Contains(got, "/write") || !strings.Contains(got, "/ping") {
		t.Fatalf("suppress-write-log: %q", got)
	}

	// Without an access-log writer the lines go to the logger.
	log := &syncBuffer{}
	h := httpd.NewHandler(httpd.Options{LogEnabled: true}, &fakeWriter{}, &fakeExecutor{}, nil, nil,
		newTextLogger(log))
	defer func() { _ = h.Close() }()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/ping", nil))
	if !strings.Contains(log.String(), `GET /ping HTTP/1.1\" 204`) {
		t.Fatalf("logger output = %q", log.String())
	}
}

func TestStatusFilter(t *testing.T) {
	for _, tc := range []struct {
		filter string
		match  []int
		miss   []int
	}{
		{"404", []int{404}, []int{400, 405, 204}},
		{"4xx", []int{400, 404, 499}, []int{500, 399}},
		{"40X", []int{400, 409}, []int{410, 500}},
		{"5XX", []int{500, 503}, []int{404}},
	} {
		f, err := httpd.ParseStatusFilter(tc.filter)
		if err != nil {
			t.Fatalf("ParseStatusFilter(%q): %v", tc.filter, err)
		}
		for _, c := range tc.match {
			if !f.Match(c) {
				t.Errorf("%s should match %d", tc.filter, c)
			}
		}
		for _, c := range tc.miss {
			if f.Match(c) {
				t.Errorf("%s should not match %d", tc.filter, c)
			}
		}
	}
	for _, bad := range []string{"", "4", "4xxx", "x00", "600", "0xx", "4x0", "abc"} {
		if _, err := httpd.ParseStatusFilter(bad); err == nil {
			t.Errorf("ParseStatusFilter(%q) accepted", bad)
		}
	}
}

func TestRequestID(t *testing.T) {
	e := newEnv(t, httpd.Options{})
	for _, tc := range []struct {
		headers []string
		want    string
	}{
		{[]string{"X-Request-Id: abc"}, "abc"},
		{[]string{"Request-Id: def"}, "def"},
		{[]string{"X-Request-Id: abc", "Request-Id: def"}, "abc"},
	} {
		rec := e.do("GET", "/ping", "", tc.headers...)
		if rec.Header().Get("X-Request-Id") != tc.want || rec.Header().Get("Request-Id") != tc.want {
			t.Errorf("%v: ids %q %q, want %q", tc.headers, rec.Header().Get("X-Request-Id"), rec.Header().Get("Request-Id"), tc.want)
		}
	}
	// Generated ids are version 1 UUIDs, unique even with a frozen clock.
	seen := map[string]bool{}
	for range 100 {
		id := e.do("GET", "/nope", "").Header().Get("X-Request-Id")
		if len(id) != 36 || id[14] != '1' || strings.Count(id, "-") != 4 || !strings.ContainsAny(id[19:20], "89ab") {
			t.Fatalf("generated id %q is not a version 1 UUID", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}

func TestCORS(t *testing.T) {
	e := newEnv(t, httpd.Options{})
	rec := e.do("GET", "/ping", "", "Origin: https://ui.example")
	for k, want := range map[string]string{
		"Access-Control-Allow-Origin":   "https://ui.example",
		"Access-Control-Allow-Methods":  "DELETE, GET, OPTIONS, POST, PUT",
		"Access-Control-Allow-Headers":  "Accept, Accept-Encoding, Authorization, Content-Length, Content-Type, X-CSRF-Token, X-HTTP-Method-Override",
		"Access-Control-Expose-Headers": "Date, X-InfluxDB-Version, X-InfluxDB-Build",
	} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if got := e.do("GET", "/ping", "").Header().Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("CORS header without Origin: %q", got)
	}
	rec = e.do("OPTIONS", "/write", "", "Origin: https://ui.example")
	wantStatus(t, rec, http.StatusOK)
	if e.w.numCalls() != 0 {
		t.Fatal("preflight reached the writer")
	}
	wantStatus(t, e.do("OPTIONS", "/ping", ""), http.StatusMethodNotAllowed)
}
