package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stratadb/strata/e2e/harness"
)

func params(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func errorText(t *testing.T, body string) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("error body %q is not JSON: %v", body, err)
	}
	return e.Error
}

func createDB(t *testing.T, s *harness.Server, name string) {
	t.Helper()
	body := s.MustQuery("CREATE DATABASE "+name, nil)
	if body != `{"results":[{"statement_id":0}]}`+"\n" && body != `{"results":[{"statement_id":0}]}` {
		t.Fatalf("CREATE DATABASE answered %q", body)
	}
}

func TestPingAndHeaders(t *testing.T) {
	s := harness.Start(t, harness.Options{})
	r := s.Do(http.MethodGet, "/ping", http.Header{"X-Request-Id": {"abc-123"}}, nil)
	if r.Status != http.StatusNoContent {
		t.Fatalf("/ping: %d", r.Status)
	}
	for _, h := range []string{"X-Influxdb-Version", "X-Influxdb-Build"} {
		if r.Header.Get(h) == "" {
			t.Errorf("/ping lacks %s", h)
		}
	}
	if got := r.Header.Get("X-Request-Id"); got != "abc-123" {
		t.Errorf("X-Request-Id = %q, want the client's", got)
	}
	if got := r.Header.Get("Request-Id"); got != "abc-123" {
		t.Errorf("Request-Id = %q, want the client's", got)
	}
	r = s.Do(http.MethodHead, "/ping", nil, nil)
	if r.Status != http.StatusNoContent || r.Header.Get("Request-Id") == "" {
		t.Fatalf("HEAD /ping: %d, request id %q", r.Status, r.Header.Get("Request-Id"))
	}
	r = s.Do(http.MethodGet, "/ping?verbose=true", nil, nil)
	var v struct{ Version string }
	if r.Status != http.StatusOK || json.Unmarshal([]byte(r.Body), &v) != nil || v.Version == "" {
		t.Fatalf("/ping?verbose=true: %d %q", r.Status, r.Body)
	}
}

func TestWriteErrors(t *testing.T) {
	s := harness.Start(t, harness.Options{})
	createDB(t, s, "db")
	cases := []struct {
		name   string
		params url.Values
		body   string
		status int
		err    string
	}{
		{"no db", nil, "cpu v=1", 400, "database is required"},
		{"nul body without db", nil, "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 400, "database is required"},
		{"unknown db", params("db", "nope"), "cpu v=1", 404, `database not found: "nope"`},
		{"bad precision", params("db", "db", "precision", "fortnight"), "cpu v=1", 400, ""},
		{"bad consistency", params("db", "db", "consistency", "most"), "cpu v=1", 400, ""},
		{"empty body", params("db", "db"), "", 204, ""},
		{"whitespace body", params("db", "db"), " \n\t \r\n ", 204, ""},
		{"nul body", params("db", "db"), "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 204, ""},
		// When no line parses, 1.x answers without "partial write" (nothing
		// was written); NaN and ±Inf are never stored.
		{"nan", params("db", "db"), "cpu v=NaN", 400, "unable to parse 'cpu v=NaN': invalid number"},
		{"inf", params("db", "db"), "cpu v=-Inf", 400, "unable to parse 'cpu v=-Inf': invalid number"},
		{"nan among good lines", params("db", "db"), "cpu v=1 1\ncpu v=NaN 2", 400, "partial write: unable to parse 'cpu v=NaN 2': invalid number"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.Write(c.params, c.body)
			if r.Status != c.status {
				t.Fatalf("status %d, want %d (%s)", r.Status, c.status, r.Body)
			}
			if c.status >= 400 {
				if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("Content-Type %q", ct)
				}
				got := errorText(t, r.Body)
				if !strings.HasPrefix(got, c.err) {
					t.Errorf("error %q, want prefix %q", got, c.err)
				}
				if r.Header.Get("X-Influxdb-Error") == "" {
					t.Errorf("no X-Influxdb-Error header")
				}
			}
		})
	}
}

func TestPartialWriteKeepsValidLinesAndSurvivesRestart(t *testing.T) {
	s := harness.Start(t, harness.Options{})
	createDB(t, s, "db")
	body := strings.Join([]string{
		"cpu,host=a value=1 1000000000",
		"cpu,host=a value= 2000000000", // bad
		"cpu,host=b value=2 3000000000",
		"cpu,host=c value=\"str\" 4000000000", // field type conflict with float
		"mem,host=a free=10i 5000000000",
	}, "\n")
	r := s.Write(params("db", "db"), body)
	if r.Status != http.StatusBadRequest {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	msg := errorText(t, r.Body)
	if !strings.HasPrefix(msg, "partial write: unable to parse 'cpu,host=a value= 2000000000'") {
		t.Fatalf("message %q", msg)
	}
	if !strings.Contains(msg, "line 2") {
		t.Errorf("message does not name the failed line's number: %q", msg)
	}
	// The type conflict is reported by a second write of its own.
	r = s.Write(params("db", "db"), `cpu,host=c value="str" 4000000000`)
	if r.Status != http.StatusBadRequest {
		t.Fatalf("type conflict: status %d: %s", r.Status, r.Body)
	}
	want := `partial write: field type conflict: input field "value" on measurement "cpu" is type string, already exists as type float dropped=1`
	if got := errorText(t, r.Body); got != want {
		t.Fatalf("type conflict:\n got %q\nwant %q", got, want)
	}
	s.Stop()
	got := harness.Export(t, s.Dir)
	wantLines := []string{
		"cpu,host=a value=1 1000000000",
		"cpu,host=b value=2 3000000000",
		"mem,host=a free=10i 5000000000",
	}
	if !slices.Equal(got, wantLines) {
		t.Fatalf("exported after stop:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantLines, "\n"))
	}
	// And the server reopens on that data.
	s2 := s.Restart(harness.Options{})
	r = s2.Write(params("db", "db"), "cpu,host=a value=3 6000000000")
	if r.Status != http.StatusNoContent {
		t.Fatalf("write after restart: %d %s", r.Status, r.Body)
	}
	s2.Stop()
	if got := harness.Export(t, s.Dir); len(got) != 4 {
		t.Fatalf("after second restart: %v", got)
	}
}

func TestGzipAndBodyLimits(t *testing.T) {
	s := harness.Start(t, harness.Options{Config: "[http]\nmax-body-size = 100000\n"})
	createDB(t, s, "db")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	fmt.Fprintf(zw, "cpu,host=z value=42 1000000000\n")
	zw.Close()
	r := s.Do(http.MethodPost, "/write?db=db", http.Header{"Content-Encoding": {"gzip"}}, &buf)
	if r.Status != http.StatusNoContent {
		t.Fatalf("gzip write: %d %s", r.Status, r.Body)
	}
	// A small gzip body that inflates past max-body-size is refused.
	buf.Reset()
	zw = gzip.NewWriter(&buf)
	line := []byte("cpu,host=bomb value=1 1000000000\n")
	for range 10000 {
		zw.Write(line)
	}
	zw.Close()
	if buf.Len() >= 100000 {
		t.Fatalf("test bug: compressed body is %d bytes", buf.Len())
	}
	r = s.Do(http.MethodPost, "/write?db=db", http.Header{"Content-Encoding": {"gzip"}}, &buf)
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("gzip bomb: %d %s", r.Status, r.Body)
	}
	r = s.Write(params("db", "db"), strings.Repeat("cpu value=1 1\n", 10000))
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("large body: %d %s", r.Status, r.Body)
	}
	s.Stop()
	got := harness.Export(t, s.Dir)
	if !slices.Equal(got, []string{"cpu,host=z value=42 1000000000"}) {
		t.Fatalf("exported %v", got)
	}
}

func TestShowAndDropDatabases(t *testing.T) {
	s := harness.Start(t, harness.Options{})
	createDB(t, s, "one")
	createDB(t, s, "two")
	body := s.MustQuery("SHOW DATABASES", nil)
	want := `{"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"],"values":[["one"],["two"]]}]}]}`
	if strings.TrimSpace(body) != want {
		t.Fatalf("SHOW DATABASES:\n got %s\nwant %s", body, want)
	}
	if r := s.Write(params("db", "one"), "cpu v=1 1"); r.Status != 204 {
		t.Fatalf("write: %d %s", r.Status, r.Body)
	}
	s.MustQuery("DROP DATABASE one", nil)
	if r := s.Write(params("db", "one"), "cpu v=1 1"); r.Status != 404 {
		t.Fatalf("write to dropped db: %d %s", r.Status, r.Body)
	}
	body = s.MustQuery("SHOW DATABASES", nil)
	want = `{"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"],"values":[["two"]]}]}]}`
	if strings.TrimSpace(body) != want {
		t.Fatalf("after drop:\n got %s\nwant %s", body, want)
	}
	// GET runs a state-changing statement with 1.x's deprecation warning.
	r := s.Do(http.MethodGet, "/query?q="+url.QueryEscape("CREATE DATABASE three"), nil, nil)
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "please use a POST request instead") {
		t.Fatalf("GET CREATE DATABASE: %d %s", r.Status, r.Body)
	}
}
