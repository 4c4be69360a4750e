package httpd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/influxdata/influxql"
	"github.com/klauspost/compress/gzip"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/query"
)

type nopWriter struct{ points atomic.Int64 }

func (w *nopWriter) WritePoints(_ context.Context, _, _ string, _ Consistency, _ query.User, points []models.Point) error {
	w.points.Add(int64(len(points)))
	return nil
}

type nopExecutor struct{}

func (nopExecutor) ExecuteQuery(context.Context, *influxql.Query, query.ExecutionOptions) <-chan *query.Result {
	ch := make(chan *query.Result)
	close(ch)
	return ch
}

// discardWriter is a ResponseWriter that keeps nothing but its header map.
type discardWriter struct {
	h    http.Header
	code int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(code int)        { d.code = code }

// benchBody is lines of Telegraf-like cpu points.
func benchBody(lines int) []byte {
	var b bytes.Buffer
	for i := range lines {
		fmt.Fprintf(&b, "cpu,cpu=cpu%d,host=server%02d,region=us-west usage_user=%d.25,usage_system=3.5,usage_idle=84.125,usage_iowait=%di %d\n",
			i%8, i%50, i%100, i%7, 1700000000000000000+int64(i)*1e9)
	}
	return b.Bytes()
}

// BenchmarkWriteHandler measures /write end to end through the handler
// (parameters, body read, parse, points writer), with the pooled body
// buffer and parser and without.
func BenchmarkWriteHandler(b *testing.B) {
	body := benchBody(5000)
	var zbuf bytes.Buffer
	zw := gzip.NewWriter(&zbuf)
	_, _ = zw.Write(body)
	_ = zw.Close()
	for _, pooled := range []bool{true, false} {
		for _, gz := range []bool{false, true} {
			name := fmt.Sprintf("pool=%v/gzip=%v", pooled, gz)
			b.Run(name, func(b *testing.B) {
				w := &nopWriter{}
				h := NewHandler(Options{Version: "bench", MaxBodySize: 25e6}, w, nopExecutor{}, nil, nil, nil)
				defer func() { _ = h.Close() }()
				h.noWritePool = !pooled
				payload := body
				if gz {
					payload = zbuf.Bytes()
				}
				dw := &discardWriter{h: http.Header{}}
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for b.Loop() {
					req := httptest.NewRequest("POST", "/write?db=db0&precision=ns", bytes.NewReader(payload))
					if gz {
						req.Header.Set("Content-Encoding", "gzip")
					}
					clear(dw.h)
					h.ServeHTTP(dw, req)
					if dw.code != http.StatusNoContent {
						b.Fatalf("status %d", dw.code)
					}
				}
				b.ReportMetric(float64(w.points.Load())/b.Elapsed().Seconds(), "points/s")
			})
		}
	}
}

// BenchmarkReadBody isolates reading a request body into the buffer.
func BenchmarkReadBody(b *testing.B) {
	body := benchBody(5000)
	h := NewHandler(Options{MaxBodySize: 25e6}, &nopWriter{}, nopExecutor{}, nil, nil, nil)
	defer func() { _ = h.Close() }()
	for _, pooled := range []bool{true, false} {
		b.Run(fmt.Sprintf("pool=%v", pooled), func(b *testing.B) {
			h.noWritePool = !pooled
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest("POST", "/write", io.NopCloser(bytes.NewReader(body)))
				st := h.getWriteState()
				if _, err := h.readBody(st, &request{Request: r}); err != nil {
					b.Fatal(err)
				}
				h.putWriteState(st)
			}
		})
	}
}
