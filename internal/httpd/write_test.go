package httpd_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/gzip"

	"github.com/stratadb/strata/internal/httpd"
	"github.com/stratadb/strata/internal/models"
)

func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// postBody serves a POST whose body is r (ContentLength -1 unless r is a
// *bytes.Reader or *strings.Reader).
func (e *env) postBody(target string, r io.Reader, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", target, r)
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Add(k, strings.TrimSpace(v))
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

func TestWritePoints(t *testing.T) {
	tests := []struct {
		name   string
		target string
		body   string
		want   writeCall
	}{
		{"defaults", "/write?db=db0", "cpu,host=a value=1 5",
			writeCall{db: "db0", consistency: httpd.ConsistencyOne, points: []string{"cpu,host=a value=1 5"}}},
		{"rp and consistency in any case", "/write?db=db0&rp=week&consistency=QuoRum", "cpu value=1 5",
			writeCall{db: "db0", rp: "week", consistency: httpd.ConsistencyQuorum, points: []string{"cpu value=1 5"}}},
		{"consistency any", "/write?db=db0&consistency=any", "cpu value=1 5",
			writeCall{db: "db0", consistency: httpd.ConsistencyAny, points: []string{"cpu value=1 5"}}},
		{"precision s", "/write?db=db0&precision=s", "cpu value=1 5",
			writeCall{db: "db0", consistency: httpd.ConsistencyOne, points: []string{"cpu value=1 5000000000"}}},
		{"precision ms", "/write?db=db0&precision=ms", "cpu value=1 5",
			writeCall{db: "db0", consistency: httpd.ConsistencyOne, points: []string{"cpu value=1 5000000"}}},
		{"precision u", "/write?db=db0&precision=u", "cpu value=1 5",
			writeCall{db: "db0", consistency: httpd.ConsistencyOne, points: []string{"cpu value=1 5000"}}},
		{"precision h", "/write?db=db0&precision=h", "cpu value=1 1",
			writeCall{db: "db0", consistency: httpd.ConsistencyOne, points: []string{"cpu value=1 3600000000000"}}},
		{"no timestamp takes the server time", "/write?db=db0", "cpu value=1",
			writeCall{db: "db0", consistency: httpd.ConsistencyOne, points: []string{"cpu value=1 1714979289000000000"}}},
		{"several lines and comments", "/write?db=db0", "# comment\ncpu value=1 1\r\n\nmem free=2i 2\n",
			writeCall{db: "db0", consistency: httpd.ConsistencyOne, points: []string{"cpu value=1 1", "mem free=2i 2"}}},
		{"v2 bucket db/rp, precision us", "/api/v2/write?bucket=db0/week&precision=us&org=ignored", "cpu value=1 5",
			writeCall{db: "db0", rp: "week", consistency: httpd.ConsistencyOne, points: []string{"cpu value=1 5000"}}},
		{"v2 bucket db/", "/api/v2/write?bucket=db0/", "cpu value=1 5",
			writeCall{db: "db0", consistency: httpd.ConsistencyOne, points: []string{"cpu value=1 5"}}},
		// The 0.9 JSON format's times are in seconds unless it says otherwise.
		{"legacy JSON body names the database", "/write",
			`{"database":"db0","retentionPolicy":"week","points":[{"measurement":"cpu","fields":{"value":1},"time":5}]}`,
			writeCall{db: "db0", rp: "week", consistency: httpd.ConsistencyOne, points: []string{"cpu value=1 5000000000"}}},
		{"URL parameters win over the JSON body", "/write?db=db1&rp=day",
			`  {"database":"db0","retentionPolicy":"week","points":[{"measurement":"cpu","fields":{"value":1},"time":5}]}`,
			writeCall{db: "db1", rp: "day", consistency: httpd.ConsistencyOne, points: []string{"cpu value=1 5000000000"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, httpd.Options{})
			rec := e.do("POST", tc.target, tc.body)
			wantStatus(t, rec, http.StatusNoContent)
			if diff := cmp.Diff(tc.want, e.w.lastCall(t), cmp.AllowUnexported(writeCall{})); diff != "" {
				t.Fatalf("WritePoints call (-want +got):\n%s", diff)
			}
		})
	}
}

// Empty, blank and NUL-only bodies must never panic (1.x #4625): with a db
// they are a 204 that still asks the writer (so an unknown db is a 404),
// without one a 400.
func TestWriteBlankBodies(t *testing.T) {
	for _, body := range []string{"", " ", "\n\n\n", " \t\r\n ", strings.Repeat("\x00", 10), "\x00 \n\x00"} {
		e := newEnv(t, httpd.Options{})
		rec := e.do("POST", "/write?db=db0", body)
		wantStatus(t, rec, http.StatusNoContent)
		if got := e.w.lastCall(t); len(got.points) != 0 {
			t.Fatalf("body %q: wrote %v, want no points", body, got.points)
		}
		rec = e.do("POST", "/write", body)
		wantStatus(t, rec, http.StatusBadRequest)
		wantBody(t, rec, "{\"error\":\"database is required\"}\n")
		rec = e.do("POST", "/write?db=missing", body)
		wantStatus(t, rec, http.StatusNotFound)
	}
}

func TestWriteGzip(t *testing.T) {
	e := newEnv(t, httpd.Options{MaxBodySize: 1 << 20})
	body := gzipBytes(t, []byte("cpu value=1 1\ncpu value=2 2\n"))

	rec := e.postBody("/write?db=db0", bytes.NewReader(body), "Content-Encoding: gzip")
	wantStatus(t, rec, http.StatusNoContent)
	if got := e.w.lastCall(t).points; len(got) != 2 {
		t.Fatalf("points = %v, want 2", got)
	}
	if got := statValue(t, e.h, "writeReqBytes"); got != int64(len("cpu value=1 1\ncpu value=2 2\n")) {
		t.Fatalf("writeReqBytes = %d, want the decompressed size", got)
	}

	// The pooled gzip reader is reused: a second body decodes too.
	rec = e.postBody("/write?db=db0", bytes.NewReader(gzipBytes(t, []byte("mem x=1 1"))), "Content-Encoding: gzip")
	wantStatus(t, rec, http.StatusNoContent)
	if got := e.w.lastCall(t).points; len(got) != 1 || got[0] != "mem x=1 1" {
		t.Fatalf("points = %v", got)
	}

	rec = e.postBody("/write?db=db0", strings.NewReader("not gzip at all"), "Content-Encoding: gzip")
	wantStatus(t, rec, http.StatusBadRequest)
	wantBody(t, rec, "{\"error\":\"gzip: invalid header\"}\n")

	rec = e.postBody("/write?db=db0", bytes.NewReader(body[:len(body)-6]), "Content-Encoding: gzip")
	wantStatus(t, rec, http.StatusBadRequest)
	wantBody(t, rec, "{\"error\":\"unexpected EOF\"}\n")
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// A small gzip body that inflates past max-body-size is refused, and the
// handler stops decompressing at the limit instead of inflating it all
// (1.x applies the limit to the compressed bytes only).
func TestWriteGzipBomb(t *testing.T) {
	const limit = 1 << 20
	e := newEnv(t, httpd.Options{MaxBodySize: limit})
	// Concatenated gzip members decode as one stream: 256 copies of a
	// member holding 256 KiB of zeros make a 64 MiB body of a few KiB.
	member := gzipBytes(t, make([]byte, 256<<10))
	bomb := bytes.Repeat(member, 256)
	if len(bomb) >= limit {
		t.Fatalf("bomb is %d bytes compressed; the test needs it under the limit", len(bomb))
	}
	src := &countingReader{r: bytes.NewReader(bomb)}
	rec := e.postBody("/write?db=db0", src, "Content-Encoding: gzip")
	wantStatus(t, rec, http.StatusRequestEntityTooLarge)
	wantBody(t, rec, "{\"error\":\"Request Entity Too Large\"}\n")
	if e.w.numCalls() != 0 {
		t.Fatalf("a refused body reached the writer")
	}
	// Zeros compress about 1000:1, so reading the limit's worth of output
	// takes a few KiB of input; reading everything would take all of it.
	if src.n >= int64(len(bomb)) {
		t.Fatalf("read %d of %d compressed bytes: decompression did not stop at the limit", src.n, len(bomb))
	}
}

func TestWriteBodyLimit(t *testing.T) {
	e := newEnv(t, httpd.Options{MaxBodySize: 16})
	exact := "cpu value=1 1234" // 16 bytes
	rec := e.do("POST", "/write?db=db0", exact)
	wantStatus(t, rec, http.StatusNoContent)

	// Without a Content-Length the limit applies while reading.
	rec = e.postBody("/write?db=db0", io.MultiReader(strings.NewReader(exact), strings.NewReader("\n")))
	wantStatus(t, rec, http.StatusRequestEntityTooLarge)

	// Compressed bytes are limited too.
	noisy := make([]byte, 64)
	for i := range noisy {
		noisy[i] = byte('a' + i%26)
	}
	rec = e.postBody("/write?db=db0", bytes.NewReader(gzipBytes(t, noisy)), "Content-Encoding: gzip")
	wantStatus(t, rec, http.StatusRequestEntityTooLarge)

	// 0 is unlimited.
	e = newEnv(t, httpd.Options{})
	rec = e.do("POST", "/write?db=db0", strings.Repeat("cpu value=1 1\n", 10000))
	wantStatus(t, rec, http.StatusNoContent)
}

func TestWriteStatistics(t *testing.T) {
	e := newEnv(t, httpd.Options{})
	e.do("POST", "/write?db=db0", "cpu value=1\ncpu value=2\nbad")
	e.w.fn = func(context.Context, string, []models.Point) error {
		return &models.PartialWriteError{Reason: "field type conflict", Dropped: 1}
	}
	e.do("POST", "/write?db=db0", "cpu value=1\ncpu value=2\ncpu value=3")
	e.w.fn = func(context.Context, string, []models.Point) error { return errors.New("disk full") }
	e.do("POST", "/write?db=db0", "cpu value=1\ncpu value=2")

	for name, want := range map[string]int64{
		"writeReq":             3,
		"writeReqActive":       0,
		"pointsWrittenOK":      4, // 2 + (3-1)
		"pointsWrittenDropped": 2, // one bad line, one rejected by the writer
		"pointsWrittenFail":    2,
		"clientError":          2,
		"serverError":          1,
		"req":                  3,
		"reqActive":            0,
	} {
		if got := statValue(t, e.h, name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
}

func TestWriteTracing(t *testing.T) {
	e := newEnv(t, httpd.Options{WriteTracing: true})
	e.do("POST", "/write?db=db0", "traced_measurement value=1")
	if !strings.Contains(e.log.String(), "traced_measurement value=1") {
		t.Fatalf("write tracing did not log the body:\n%s", e.log.String())
	}
	e = newEnv(t, httpd.Options{})
	e.do("POST", "/write?db=db0", "traced_measurement value=1")
	if strings.Contains(e.log.String(), "traced_measurement") {
		t.Fatalf("body logged without write tracing:\n%s", e.log.String())
	}
}

func TestWriteContextReachesWriter(t *testing.T) {
	e := newEnv(t, httpd.Options{})
	type key struct{}
	var got any
	e.w.fn = func(ctx context.Context, _ string, _ []models.Point) error {
		got = ctx.Value(key{})
		return nil
	}
	req := httptest.NewRequest("POST", "/write?db=db0", strings.NewReader("cpu value=1"))
	req = req.WithContext(context.WithValue(req.Context(), key{}, "marker"))
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	wantStatus(t, rec, http.StatusNoContent)
	if got != "marker" {
		t.Fatalf("writer context value = %v, want the request's", got)
	}
}

// A panic in a handler is a 500, is counted, and the server goes on.
func TestPanicRecovery(t *testing.T) {
	e := newEnv(t, httpd.Options{LogEnabled: true})
	e.w.fn = func(context.Context, string, []models.Point) error { panic("writer exploded") }
	rec := e.do("POST", "/write?db=db0", "cpu value=1")
	wantStatus(t, rec, http.StatusInternalServerError)
	wantBody(t, rec, "{\"error\":\"Internal Server Error\"}\n")
	if got := statValue(t, e.h, "recoveredPanics"); got != 1 {
		t.Fatalf("recoveredPanics = %d, want 1", got)
	}
	if !strings.Contains(e.log.String(), "writer exploded") {
		t.Fatalf("panic not logged:\n%s", e.log.String())
	}
	if !strings.Contains(e.access.String(), `"POST /write?db=db0 HTTP/1.1" 500`) {
		t.Fatalf("access log misses the 500:\n%s", e.access.String())
	}
	e.w.fn = nil
	wantStatus(t, e.do("POST", "/write?db=db0", "cpu value=1"), http.StatusNoContent)
	wantStatus(t, e.do("GET", "/ping", ""), http.StatusNoContent)
}

// blockingWriter holds every write until released.
type blockingWriter struct {
	entered chan struct{}
	release chan struct{}
}

func (b *blockingWriter) fn(ctx context.Context, _ string, _ []models.Point) error {
	b.entered <- struct{}{}
	select {
	case <-b.release:
	case <-ctx.Done():
	}
	return nil
}

func TestWriteThrottling(t *testing.T) {
	t.Run("queue full", func(t *testing.T) {
		e := newEnv(t, httpd.Options{MaxConcurrentWriteLimit: 1, MaxEnqueuedWriteLimit: 1})
		bw := &blockingWriter{entered: make(chan struct{}, 8), release: make(chan struct{})}
		e.w.fn = bw.fn
		first := make(chan int, 1)
		go func() { first <- e.do("POST", "/write?db=db0", "cpu value=1").Code }()
		<-bw.entered // the first write holds the only running slot
		// Of the next five, whatever their order, exactly one waits in the
		// one-place queue and the other four find it full.
		const n = 5
		recs := make(chan *httptest.ResponseRecorder, n)
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				recs <- e.do("POST", "/write?db=db0", "cpu value=2")
			}()
		}
		for range n - 1 {
			rec := <-recs
			wantStatus(t, rec, http.StatusServiceUnavailable)
			wantBody(t, rec, "{\"error\":\"request throttled, queue full\"}\n")
			if got := rec.Header().Get("X-Influxdb-Error"); got != "request throttled, queue full" {
				t.Fatalf("X-Influxdb-Error = %q", got)
			}
		}
		close(bw.release)
		wg.Wait()
		wantStatus(t, <-recs, http.StatusNoContent)
		if c := <-first; c != http.StatusNoContent {
			t.Fatalf("first write answered %d", c)
		}
	})
	t.Run("enqueue timeout", func(t *testing.T) {
		e := newEnv(t, httpd.Options{MaxConcurrentWriteLimit: 1, EnqueuedWriteTimeout: 20 * time.Millisecond})
		bw := &blockingWriter{entered: make(chan struct{}, 2), release: make(chan struct{})}
		e.w.fn = bw.fn
		done := make(chan int)
		go func() { done <- e.do("POST", "/write?db=db0", "cpu value=1").Code }()
		<-bw.entered
		rec := e.do("POST", "/write?db=db0", "cpu value=2")
		wantStatus(t, rec, http.StatusServiceUnavailable)
		wantBody(t, rec, "{\"error\":\"request throttled, exceeds timeout\"}\n")
		close(bw.release)
		if c := <-done; c != http.StatusNoContent {
			t.Fatalf("first write answered %d", c)
		}
		// Queries are never throttled.
		wantStatus(t, e.do("GET", "/query?q=SHOW+DATABASES", ""), http.StatusOK)
	})
}
