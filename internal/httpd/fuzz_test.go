package httpd_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/stratadb/strata/internal/httpd"
)

// FuzzWriteBody posts arbitrary bodies, plain or gzip, to /write: the
// handler must never panic (a recovered panic would be a 500), must answer
// one of the statuses a write can have, and every error body must be JSON.
func FuzzWriteBody(f *testing.F) {
	for _, seed := range []string{
		"", " ", "\x00\x00\x00", "cpu value=1", "cpu,host=a value=1i,s=\"x\" 1700000000",
		"cpu value=1\nbad\ncpu value=", "{", `{"database":"db0","points":[{"measurement":"m","fields":{"v":1}}]}`,
		"cpu value=NaN", "cpu,time=1 v=1", "m v=\"unterminated\nnext v=1", "\xff\xfe\x00garbage",
		"# comment only", "cpu value=1 99999999999999999999",
	} {
		f.Add([]byte(seed), false, uint8(0))
		f.Add([]byte(seed), true, uint8(3))
	}
	precisions := []string{"", "n", "u", "ms", "s", "m", "h", "bogus"}
	e := newEnv(f, httpd.Options{MaxBodySize: 1 << 16})
	f.Fuzz(func(t *testing.T, body []byte, gzipped bool, prec uint8) {
		target := "/write?db=db0&precision=" + precisions[int(prec)%len(precisions)]
		if gzipped {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			_, _ = zw.Write(body) // a bytes.Buffer does not fail
			_ = zw.Close()
			body = b.Bytes()
		}
		req := httptest.NewRequest("POST", target, bytes.NewReader(body))
		if gzipped {
			req.Header.Set("Content-Encoding", "gzip")
		}
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusNoContent:
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			var msg struct{ Error string }
			if err := json.Unmarshal(rec.Body.Bytes(), &msg); err != nil || msg.Error == "" {
				t.Fatalf("status %d with body %q: not a JSON error (%v)", rec.Code, rec.Body.String(), err)
			}
		default:
			t.Fatalf("status %d, body %q", rec.Code, rec.Body.String())
		}
		e.w.mu.Lock()
		e.w.calls = nil // keep memory flat over long runs
		e.w.mu.Unlock()
		if n := statValue(t, e.h, "recoveredPanics"); n != 0 {
			t.Fatalf("handler panicked:\n%s", e.log.String())
		}
	})
}
