package httpd_test

import (
	"archive/tar"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/stratadb/strata/internal/httpd"
	"github.com/stratadb/strata/internal/stats"
)

func TestDebugVars(t *testing.T) {
	e := newEnv(t, httpd.Options{BindAddress: ":8086"})
	e.src.stats = []stats.Statistic{
		{Name: "shard", Tags: map[string]string{"path": "/data/db0/autogen/1", "id": "1"}, Values: map[string]any{"writePointsOk": 3}},
		{Name: "database", Tags: map[string]string{"database": "db0"}, Values: map[string]any{"numSeries": 2}},
		{Name: "httpd", Tags: map[string]string{"bind": ":8086"}, Values: map[string]any{"req": -1}}, // a duplicate of the handler's own
		{Name: "runtime", Values: map[string]any{"NumGoroutine": 9}},
	}
	e.do("GET", "/ping", "")
	rec := e.do("GET", "/debug/vars", "")
	wantStatus(t, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("Content-Type = %q", ct)
	}
	var vars map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &vars); err != nil {
		t.Fatalf("/debug/vars is not JSON: %v\n%s", err, rec.Body.String())
	}
	for _, key := range []string{"system", "cmdline", "memstats", "httpd::8086", "shard:/data/db0/autogen/1:1", "database:db0", "runtime"} {
		if _, ok := vars[key]; !ok {
			t.Errorf("missing key %q in %s", key, rec.Body.String())
		}
	}
	var httpdStat stats.Statistic
	if err := json.Unmarshal(vars["httpd::8086"], &httpdStat); err != nil {
		t.Fatal(err)
	}
	if httpdStat.Name != "httpd" || httpdStat.Tags["bind"] != ":8086" || httpdStat.Values["pingReq"] != float64(1) {
		t.Fatalf("httpd statistic = %+v (the handler's own must win over the source's duplicate)", httpdStat)
	}
	if !strings.HasPrefix(rec.Body.String(), "{\n\"system\": {") || !strings.HasSuffix(rec.Body.String(), "\n}\n") {
		t.Fatalf("layout differs from 1.x's:\n%.200s", rec.Body.String())
	}
}

func TestDebugRequests(t *testing.T) {
	e := newEnv(t, httpd.Options{AuthEnabled: true})
	e.users.noAdmin = true // requests pass anonymously, keyed by ip alone

	rec := e.do("GET", "/debug/requests?seconds=x", "")
	wantStatus(t, rec, http.StatusBadRequest)
	rec = e.do("GET", "/debug/requests?seconds=21601", "")
	wantStatus(t, rec, http.StatusBadRequest)
	wantBody(t, rec, "{\"error\":\"exceeded maximum interval time: 21601s \\u003e 6h\"}\n")

	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- e.do("GET", "/debug/requests?seconds=1", "") }()
	// Keep sending until the profile answers, so that some requests fall
	// inside its window however late it starts.
	var got *httptest.ResponseRecorder
	writes, queries := 0, 0
	for got == nil {
		select {
		case got = <-done:
		default:
			e.do("POST", "/query?q=SHOW+DATABASES", "")
			queries++
			if queries%2 == 0 {
				e.do("POST", "/write?db=db0", "cpu value=1")
				writes++
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	wantStatus(t, got, http.StatusOK)
	var counts map[string]struct{ Writes, Queries int }
	if err := json.Unmarshal(got.Body.Bytes(), &counts); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, got.Body.String())
	}
	c, ok := counts["192.0.2.1"]
	if !ok || c.Queries == 0 || c.Writes == 0 || c.Queries > queries || c.Writes > writes {
		t.Fatalf("counts = %+v (sent %d queries, %d writes)", counts, queries, writes)
	}
}

func TestPprof(t *testing.T) {
	e := newEnv(t, httpd.Options{PprofEnabled: true})
	rec := e.do("GET", "/debug/pprof/", "")
	wantStatus(t, rec, http.StatusOK)
	if !strings.Contains(rec.Body.String(), "goroutine") {
		t.Fatalf("pprof index: %.200s", rec.Body.String())
	}
	wantStatus(t, e.do("GET", "/debug/pprof/heap?debug=1", ""), http.StatusOK)
	wantStatus(t, e.do("GET", "/debug/pprof/cmdline", ""), http.StatusOK)

	rec = e.do("GET", "/debug/pprof/all?cpu=50ms", "")
	wantStatus(t, rec, http.StatusOK)
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names[h.Name] = true
	}
	for _, n := range []string{"profiles/cpu.pb.gz", "profiles/heap.pb.gz", "profiles/goroutine.pb.gz"} {
		if !names[n] {
			t.Errorf("archive lacks %s: %v", n, names)
		}
	}
	wantStatus(t, e.do("GET", "/debug/pprof/all?cpu=soon", ""), http.StatusBadRequest)

	e = newEnv(t, httpd.Options{})
	wantStatus(t, e.do("GET", "/debug/pprof/", ""), http.StatusNotFound)
	wantStatus(t, e.do("GET", "/debug/pprof/heap", ""), http.StatusNotFound)
}

func TestStatisticsNames(t *testing.T) {
	e := newEnv(t, httpd.Options{})
	s := e.h.Statistics(map[string]string{"bind": ":8086"})
	if len(s) != 1 || s[0].Name != "httpd" || s[0].Tags["bind"] != ":8086" {
		t.Fatalf("Statistics = %+v", s)
	}
	for _, name := range []string{"req", "reqActive", "reqDurationNs", "writeReq", "writeReqActive", "writeReqBytes",
		"writeReqDurationNs", "pointsWrittenOK", "pointsWrittenDropped", "pointsWrittenFail", "queryReq",
		"queryReqActive", "queryReqDurationNs", "queryRespBytes", "clientError", "serverError", "authFail",
		"recoveredPanics", "pingReq", "statusReq", "promWriteReq", "promReadReq", "cqReq"} {
		if _, ok := s[0].Values[name].(int64); !ok {
			t.Errorf("value %q missing", name)
		}
	}
	e.do("GET", "/ping", "")
	e.do("HEAD", "/status", "")
	for name, want := range map[string]int64{"req": 2, "pingReq": 1, "statusReq": 1} {
		if got := statValue(t, e.h, name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
}
