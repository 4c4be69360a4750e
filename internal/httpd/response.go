package httpd

import (
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// format is a response encoding chosen by the Accept header.
type format uint8

const (
	formatJSON format = iota
	formatCSV
	formatMsgpack
)

// negotiate picks the response format from the Accept headers as 1.x does:
// clauses are ordered by q (stably), and the first clause that matches a
// supported type, wildcards included, wins; otherwise JSON. It returns the
// Content-Type to send.
func negotiate(headers []string) (format, string) {
	// The encodings /query can answer with, in the order 1.x tries them
	// against each Accept clause; the first is the default.
	contentTypes := [...]struct {
		full, typ, sub string
		format         format
	}{
		{"application/json", "application", "json", formatJSON},
		{"application/csv", "application", "csv", formatCSV},
		{"text/csv", "text", "csv", formatCSV},
		{"application/x-msgpack", "application", "x-msgpack", formatMsgpack},
	}
	if len(headers) == 0 {
		return formatJSON, contentTypes[0].full
	}
	type clause struct {
		typ, sub string
		q        float64
	}
	var clauses []clause
	for _, header := range headers {
		for part := range strings.SplitSeq(header, ",") {
			mt, params, err := mime.ParseMediaType(part)
			if err != nil {
				continue
			}
			c := clause{q: 1}
			typ, sub, ok := strings.Cut(mt, "/")
			switch {
			case !ok && typ == "*":
				c.typ, c.sub = "*", "*"
			case ok && !strings.Contains(sub, "/"):
				c.typ, c.sub = typ, sub
			default:
				continue
			}
			if q, ok := params["q"]; ok {
				c.q, _ = strconv.ParseFloat(q, 64) // unparsable q counts as 0, as in 1.x
			}
			clauses = append(clauses, c)
		}
	}
	slices.SortStableFunc(clauses, func(a, b clause) int {
		switch {
		case a.q > b.q:
			return -1
		case a.q < b.q:
			return 1
		}
		return 0
	})
	for _, c := range clauses {
		for _, ct := range contentTypes {
			if (c.typ == "*" || c.typ == ct.typ) && (c.sub == "*" || c.sub == ct.sub) {
				return ct.format, ct.full
			}
		}
	}
	return formatJSON, contentTypes[0].full
}

// responseWriter wraps the http.ResponseWriter of one routed request. It
// records the status and the bytes sent (for the access log and the
// statistics), counts client and server errors, and compresses a 200
// response with gzip when the route allows it and the client accepts it —
// only a 200, as in 1.x, so error bodies stay readable.
type responseWriter struct {
	w      http.ResponseWriter
	h      *Handler
	format format
	pretty bool

	status      int
	size        int64 // bytes handed to the underlying writer
	wroteHeader bool

	gzipOK bool         // route compresses and client sent Accept-Encoding: gzip
	gz     *gzip.Writer // non-nil once the body is compressed
}

func (rw *responseWriter) Header() http.Header { return rw.w.Header() }

func (rw *responseWriter) WriteHeader(code int) {
	if rw.wroteHeader {
		return
	}
	rw.wroteHeader = true
	rw.status = code
	switch code / 100 {
	case 4:
		rw.h.stats.clientError.Add(1)
	case 5:
		rw.h.stats.serverError.Add(1)
	}
	if rw.gzipOK && code == http.StatusOK {
		rw.w.Header().Set("Content-Encoding", "gzip")
		rw.w.Header().Del("Content-Length")
		rw.gz = rw.h.getGzipWriter(countingWriter{rw})
	}
	rw.w.WriteHeader(code)
}

func (rw *responseWriter) Write(p []byte) (int, error) {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	if rw.gz != nil {
		return rw.gz.Write(p)
	}
	return rw.writeRaw(p)
}

func (rw *responseWriter) writeRaw(p []byte) (int, error) {
	n, err := rw.w.Write(p)
	rw.size += int64(n)
	return n, err
}

// Flush sends what is buffered, through gzip if the body is compressed.
func (rw *responseWriter) Flush() {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	if rw.gz != nil {
		_ = rw.gz.Flush() // a failed write shows up on the next Write
	}
	_ = http.NewResponseController(rw.w).Flush() // not every writer flushes; nothing to do then
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (rw *responseWriter) Unwrap() http.ResponseWriter { return rw.w }

// finish completes a compressed body and returns the gzip writer to its
// pool. It is called once, after the route handler returned.
func (rw *responseWriter) finish() {
	if rw.gz != nil {
		_ = rw.gz.Close() // flushes the gzip trailer; the client sees a failure as a short body
		rw.h.putGzipWriter(rw.gz)
		rw.gz = nil
	}
}

// statusCode is the status sent, 200 if the handler wrote nothing.
func (rw *responseWriter) statusCode() int {
	if rw.status == 0 {
		return http.StatusOK
	}
	return rw.status
}

// countingWriter feeds compressed bytes to the underlying writer while the
// responseWriter counts them.
type countingWriter struct{ rw *responseWriter }

func (c countingWriter) Write(p []byte) (int, error) { return c.rw.writeRaw(p) }

var _ io.Writer = countingWriter{}

// getGzipWriter returns a pooled gzip writer reset onto w.
func (h *Handler) getGzipWriter(w io.Writer) *gzip.Writer {
	if gz, ok := h.gzipWriters.Get().(*gzip.Writer); ok {
		gz.Reset(w)
		return gz
	}
	return gzip.NewWriter(w)
}

func (h *Handler) putGzipWriter(gz *gzip.Writer) {
	gz.Reset(io.Discard) // drop the reference to the response
	h.gzipWriters.Put(gz)
}
