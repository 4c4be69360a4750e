package server

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stratadb/strata/internal/config"
)

// openBenchServer opens a whole server (meta, storage, write path, HTTP
// handler) in a temporary directory, without a listener.
func openBenchServer(b *testing.B, auth bool) *Server {
	b.Helper()
	cfg := config.NewConfig()
	cfg.SetDataRoot(b.TempDir())
	cfg.HTTP.AuthEnabled = auth
	cfg.HTTP.LogEnabled = false
	cfg.HTTP.BindAddress = "127.0.0.1:0"
	cfg.Monitor.StoreEnabled = false
	s := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := s.Open(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if auth {
		if err := s.meta.CreateUser("admin", "s3cret-pw", true); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.meta.CreateDatabase("db"); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkWriteAuth compares /write with authentication off and on
// (credentials on every request, as clients send them): the verified-
// credentials cache must keep the difference within a few percent, where
// paying bcrypt per request would cost ~100 ms each.
func BenchmarkWriteAuth(b *testing.B) {
	var body bytes.Buffer
	for i := range 5000 {
		fmt.Fprintf(&body, "cpu,host=h%d,region=eu usage_user=%di,usage_system=%di %d\n", i%100, i%97, i%13, int64(i)*1e9)
	}
	payload := body.Bytes()
	for _, auth := range []bool{false, true} {
		b.Run(fmt.Sprintf("auth=%v", auth), func(b *testing.B) {
			s := openBenchServer(b, auth)
			url := "/write?db=db"
			if auth {
				url += "&u=admin&p=s3cret-pw"
			}
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, url, bytes.NewReader(payload))
				rec := httptest.NewRecorder()
				s.handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusNoContent {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
			b.ReportMetric(float64(b.N*5000)/b.Elapsed().Seconds(), "points/s")
		})
	}
}
