package bench

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

// fakeServer is a minimal 1.x write endpoint that records what it gets.
type fakeServer struct {
	t *testing.T
	// fail decides the answer to write request n (1-based): 0 means 204,
	// -1 drops the connection, anything else is that status.
	fail func(n int) int
	// createStatus is the status of CREATE DATABASE (0 means 200).
	createStatus int
	delay        time.Duration

	writes  atomic.Int64
	conns   atomic.Int64
	mu      sync.Mutex
	lines   []string
	queries []string
}

func (f *fakeServer) start() *httptest.Server {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.conns.Add(1)
		}
	}
	srv.Start()
	f.t.Cleanup(srv.Close)
	return srv
}

func (f *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Influxdb-Version", "fake-1.0")
	switch r.URL.Path {
	case "/ping":
		w.WriteHeader(http.StatusNoContent)
	case "/query":
		f.mu.Lock()
		f.queries = append(f.queries, r.Method+" "+r.URL.Query().Get("q"))
		f.mu.Unlock()
		if f.createStatus != 0 {
			w.WriteHeader(f.createStatus)
			_, _ = io.WriteString(w, `{"error":"not allowed"}`)
			return
		}
		_, _ = io.WriteString(w, `{"results":[{"statement_id":0}]}`)
	case "/write":
		n := int(f.writes.Add(1))
		if r.URL.Query().Get("db") != "benchdb" {
			http.Error(w, `{"error":"wrong db"}`, http.StatusNotFound)
			return
		}
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		time.Sleep(f.delay)
		status := 0
		if f.fail != nil {
			status = f.fail(n)
		}
		switch status {
		case 0:
			f.mu.Lock()
			for line := range strings.Lines(string(b)) {
				f.lines = append(f.lines, line)
			}
			f.mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
		case -1:
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		default:
			w.WriteHeader(status)
			_, _ = io.WriteString(w, `{"error":"status `+http.StatusText(status)+`"}`)
		}
	default:
		http.NotFound(w, r)
	}
}

func TestWriteSendsEverything(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "gzip"}[gz], func(t *testing.T) {
			f := &fakeServer{t: t}
			srv := f.start()
			ds := testDataset(30, 10*time.Minute) // 1,800 points
			res, err := Write(context.Background(), WriteConfig{URL: srv.URL, Database: "benchdb", Batch: 50, Workers: 3, Gzip: gz}, ds)
			if err != nil {
				t.Fatal(err)
			}
			if res.PointsOK != ds.Points() || res.Requests != 36 || res.Failed != 0 || len(res.Failures) != 0 {
				t.Fatalf("points ok %d requests %d failed %d failures %v", res.PointsOK, res.Requests, res.Failed, res.Failures)
			}
			if res.ServerVersion != "fake-1.0" || res.BatchLatency.Count != 36 || res.PointsPerSec <= 0 || res.ValuesPerSec != 10*res.PointsPerSec {
				t.Fatalf("version %q latency %+v rate %v/%v", res.ServerVersion, res.BatchLatency, res.PointsPerSec, res.ValuesPerSec)
			}
			// A connection returns to the idle pool a moment after its
			// response is read, so a worker may dial once or twice more
			// than the minimum; without keep-alive it would be 38.
			if got := f.conns.Load(); got > 5 {
				t.Fatalf("%d connections for 38 requests by 3 workers: keep-alive is not working", got)
			}
			if len(f.queries) != 1 || f.queries[0] != `POST CREATE DATABASE "benchdb"` {
				t.Fatalf("queries %q, want one CREATE DATABASE", f.queries)
			}
			want := strings.SplitAfter(string(generate(t, ds, 1000)), "\n")
			want = want[:len(want)-1]
			slices.Sort(want)
			got := slices.Clone(f.lines)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("server received %d lines, not the %d of the data set", len(got), len(want))
			}
		})
	}
}

// Every failure is counted by status with its first body, and nothing is
// retried: the server sees exactly one request per batch.
func TestWriteCountsFailuresAndNeverRetries(t *testing.T) {
	f := &fakeServer{t: t, fail: func(n int) int {
		switch {
		case n%5 == 0:
			return http.StatusInternalServerError
		case n%7 == 0:
			return http.StatusBadRequest
		case n == 3:
			return -1
		}
		return 0
	}}
	srv := f.start()
	ds := testDataset(10, 40*time.Minute) // 2,400 points in 24 batches
	res, err := Write(context.Background(), WriteConfig{URL: srv.URL, Database: "benchdb", Batch: 100, Workers: 2}, ds)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.writes.Load(); got != 24 {
		t.Fatalf("server saw %d write requests for 24 batches: something was retried or lost", got)
	}
	// 5,10,15,20 → 500; 7,14,21 → 400; 3 → dropped connection.
	want := []StatusCount{
		{Status: 0, Requests: 1, Points: 100},
		{Status: 400, Requests: 3, Points: 300, FirstBody: `{"error":"status Bad Request"}`},
		{Status: 500, Requests: 4, Points: 400, FirstBody: `{"error":"status Internal Server Error"}`},
	}
	if len(res.Failures) != 3 {
		t.Fatalf("failures %+v", res.Failures)
	}
	for i, w := range want {
		g := res.Failures[i]
		if g.Status != w.Status || g.Requests != w.Requests || g.Points != w.Points || (w.Status != 0 && g.FirstBody != w.FirstBody) || g.FirstBody == "" {
			t.Fatalf("failure %d = %+v, want %+v", i, g, w)
		}
	}
	if res.Failed != 8 || res.PointsFailed != 800 || res.PointsOK != 1600 || int64(len(f.lines)) != res.PointsOK {
		t.Fatalf("failed %d points failed %d ok %d (server stored %d)", res.Failed, res.PointsFailed, res.PointsOK, len(f.lines))
	}
	var out bytes.Buffer
	PrintWrite(&out, res)
	for _, s := range []string{"status 500: 4 requests", "status 400: 3 requests", "transport error: 1 requests"} {
		if !strings.Contains(out.String(), s) {
			t.Fatalf("summary lacks %q:\n%s", s, out.String())
		}
	}
}

func TestWriteCreateDatabaseFailureIsReported(t *testing.T) {
	f := &fakeServer{t: t, createStatus: http.StatusForbidden}
	srv := f.start()
	res, err := Write(context.Background(), WriteConfig{URL: srv.URL, Database: "benchdb"}, testDataset(2, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.CreateDatabaseError, "403") || res.PointsOK != 12 {
		t.Fatalf("create error %q, points %d", res.CreateDatabaseError, res.PointsOK)
	}
}

func TestWriteUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	if _, err := Write(context.Background(), WriteConfig{URL: url}, testDataset(1, time.Minute)); err == nil {
		t.Fatal("no error for a server that is not there")
	}
	if _, err := Write(context.Background(), WriteConfig{URL: url, Batch: -1}, testDataset(1, time.Minute)); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("negative batch: %v", err)
	}
}

func TestWriteInterruptedAndProgress(t *testing.T) {
	f := &fakeServer{t: t, delay: 20 * time.Millisecond}
	srv := f.start()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var progress syncBuffer
	res, err := Write(ctx, WriteConfig{URL: srv.URL, Database: "benchdb", Batch: 10, Workers: 1,
		Progress: &progress, ProgressEvery: 50 * time.Millisecond}, testDataset(10, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || res.PointsOK == 0 || res.PointsOK >= 3600 || res.Failed != 0 {
		t.Fatalf("interrupted %v points %d failed %d %+v", res.Interrupted, res.PointsOK, res.Failed, res.Failures)
	}
	if !strings.Contains(progress.String(), "points/s now") {
		t.Fatalf("no progress lines: %q", progress.String())
	}
}

func TestWriteProfile(t *testing.T) {
	f := &fakeServer{t: t, delay: 5 * time.Millisecond}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/profile", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("seconds") != "1" {
			http.Error(w, "seconds", http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, "cpu-profile")
	})
	mux.HandleFunc("/debug/pprof/heap", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "heap-profile") })
	mux.HandleFunc("/", f.serve)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	dir := t.TempDir()
	res, err := Write(context.Background(), WriteConfig{URL: srv.URL, Database: "benchdb", Batch: 50, Workers: 1,
		ProfileDir: dir, ProfileDelay: time.Millisecond, ProfileSeconds: 1}, testDataset(5, 10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.ProfileErrors) != 0 {
		t.Fatal(res.ProfileErrors)
	}
	for file, want := range map[string]string{"cpu.pprof": "cpu-profile", "heap.pprof": "heap-profile"} {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil || string(b) != want {
			t.Fatalf("%s: %q %v", file, b, err)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the progress goroutine and the
// test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestWaitReady(t *testing.T) {
	var up atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if !up.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	time.AfterFunc(50*time.Millisecond, func() { up.Store(true) })
	d, err := WaitReady(context.Background(), srv.URL)
	if err != nil || d < 40*time.Millisecond {
		t.Fatalf("WaitReady = %v, %v", d, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	up.Store(false)
	if _, err := WaitReady(ctx, srv.URL); err == nil {
		t.Fatal("WaitReady returned for a server that never answers 2xx")
	}
}
