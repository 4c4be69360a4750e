package httpd

import (
	"net/http"
)

// servePing answers /ping: 204, or with verbose set (to anything but "0"
// or "false") 200 and {"version":"…"}.
func (h *Handler) servePing(rw *responseWriter, req *request) {
	h.stats.pingReq.Add(1)
	verbose := req.params.Get("verbose")
	if verbose == "" || verbose == "0" || verbose == "false" {
		rw.WriteHeader(http.StatusNoContent)
		return
	}
	body := append([]byte(`{"version":`), appendJSONString(nil, h.opts.Version)...)
	body = append(body, '}')
	rw.WriteHeader(http.StatusOK)
	_, _ = rw.Write(body) // the client is gone if this fails; nothing to do
}

// serveStatus answers the deprecated /status like /ping, with a warning.
func (h *Handler) serveStatus(rw *responseWriter, _ *request) {
	h.log.Warn("/status has been deprecated; use /ping instead")
	h.stats.statusReq.Add(1)
	rw.WriteHeader(http.StatusNoContent)
}

// serveHealth answers /health with 1.x's document (keys in the order
// encoding/json sorts them).
func (h *Handler) serveHealth(rw *responseWriter, _ *request) {
	body := append([]byte(`{"checks":[],"message":"ready for queries and writes","name":"influxdb","status":"pass","version":`),
		appendJSONString(nil, h.opts.Version)...)
	body = append(body, '}')
	rw.WriteHeader(http.StatusOK)
	_, _ = rw.Write(body) // the client is gone if this fails; nothing to do
}

// serveFluxDisabled answers /api/v2/query: Strata does not run Flux.
func (h *Handler) serveFluxDisabled(rw *responseWriter, req *request) {
	h.httpError(rw, req, ErrFluxDisabled)
}
