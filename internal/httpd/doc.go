// Package httpd is Strata's HTTP service: the InfluxDB 1.x API on /write,
// /query, /ping, /status, /health, /api/v2/write and /debug/*.
//
// The package owns HTTP matters only. It parses parameters (db, rp,
// precision, consistency, epoch, chunked, chunk_size, params, pretty,
// async), decodes gzip request bodies within max-body-size, authenticates
// callers (u/p parameters, Basic, "Token user:pass", Bearer JWT), throttles
// writes, encodes results as JSON, CSV or msgpack, writes the access log
// and keeps the "httpd" statistics. Everything else is reached through the
// small interfaces declared in interfaces.go, which the composition root
// (internal/server) implements with the real coordinator, query executor
// and meta store.
//
// # Compatibility
//
// Status codes, headers and error texts follow InfluxDB 1.x
// (services/httpd in influxdata/influxdb, branch master-1.x); the golden
// files under testdata/golden pin them (go test -run TestGolden -rewrite
// regenerates them). Where 1.x is weak Strata does better, and each such
// place says so in a comment:
//   - a gzip body is limited by max-body-size after decompression too
//     (1.x lets a small body inflate without bound);
//   - an unknown epoch is a 400 (1.x silently answers in nanoseconds);
//   - a partial write names each failed line with its line number, up to
//     maxLineErrors lines (1.x concatenates every failed line);
//   - parse failures count in "dropped" (1.x reports dropped=0 for them);
//   - the access log redacts passwords without re-encoding the URL, and
//     a write waiting for a throttled turn gives up when its client leaves;
//   - NaN and ±Inf row values are sent as null (1.x sends the marshalling
//     error instead of the response).
//
// # Errors
//
// One function, statusOf in httperror.go, maps every error to its status
// code; one function, Handler.httpError, writes every error response. Error
// bodies are {"error":"…"} in the format the Accept header chose, with the
// text repeated in X-Influxdb-Error (cut at 1024 bytes) except on 401,
// which carries WWW-Authenticate instead, as in 1.x.
//
// # Goroutines
//
// The handler starts one goroutine per async query (async=true) to drain
// its results; Handler.Close cancels and waits for them. The Service runs
// one http.Server goroutine per listener; Service.Close stops accepting,
// waits for in-flight requests up to ServiceOptions.ShutdownTimeout, then
// closes what is left and closes the handler.
package httpd
