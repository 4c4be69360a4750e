package httpd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"strconv"
	"strings"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/query"
)

// serveQuery answers GET and POST /query.
func (h *Handler) serveQuery(rw *responseWriter, req *request) {
	start := h.now()
	h.stats.queryReq.Add(1)
	h.stats.queryReqActive.Add(1)
	defer func() {
		h.stats.queryReqActive.Add(-1)
		h.stats.queryReqDurationNs.Add(int64(h.now().Sub(start)))
	}()
	h.tracker.add(req, trackQuery)

	text, err := queryText(req)
	if err != nil {
		h.httpError(rw, req, err)
		return
	}
	epoch, err := parseEpoch(strings.TrimSpace(req.FormValue("epoch")))
	if err != nil {
		h.httpError(rw, req, err)
		return
	}
	params, err := parseBindParams(req.FormValue("params"))
	if err != nil {
		h.httpError(rw, req, err)
		return
	}
	parser := influxql.NewParser(strings.NewReader(text))
	if params != nil {
		parser.SetParams(params)
	}
	q, err := parser.ParseQuery()
	if err != nil {
		h.httpError(rw, req, badRequest(fmt.Errorf("error parsing query: %w", err)))
		return
	}

	chunked := req.FormValue("chunked") == "true"
	chunkSize := DefaultChunkSize
	if chunked {
		// An unusable chunk_size falls back to the default, as in 1.x.
		if n, err := strconv.ParseInt(req.FormValue("chunk_size"), 10, 64); err == nil && n > 0 {
			chunkSize = int(n)
		}
	}
	opts := query.ExecutionOptions{
		Database:        req.FormValue("db"),
		RetentionPolicy: req.FormValue("rp"),
		// Not chunked, the executor still streams chunks of the default
		// size and the handler merges them, as in 1.x.
		ChunkSize:   chunkSize,
		ReadOnly:    req.Method == http.MethodGet,
		User:        req.user,
		MaxRowLimit: h.opts.MaxRowLimit,
	}

	if req.FormValue("async") == "true" {
		if err := h.runAsync(q, opts); err != nil {
			h.httpError(rw, req, err)
			return
		}
		rw.WriteHeader(http.StatusNoContent)
		return
	}

	// The request context ends when the client disconnects, which cancels
	// the query; cancel also stops it when the handler stops reading
	// early. The executor closes the channel once ctx ends, so the drain
	// is bounded.
	ctx, cancel := context.WithCancel(req.Context())
	results := h.exec.ExecuteQuery(ctx, q, opts)
	defer func() {
		cancel()
		for range results {
		}
	}()

	enc := newEncoder(rw.format, rw.pretty, epoch)
	if chunked {
		h.streamResults(rw, req, enc, results)
		return
	}
	resp, err := h.collectResults(results)
	if err != nil {
		h.httpError(rw, req, err)
		return
	}
	rw.WriteHeader(http.StatusOK)
	n, err := enc.encode(rw, resp)
	h.stats.queryRespBytes.Add(n)
	if err != nil {
		h.log.Debug("cannot write query response", slog.Any("error", err), slog.String("request_id", req.id))
	}
}

// queryText returns the q parameter, or the multipart file part named q.
func queryText(req *request) (string, error) {
	if q := strings.TrimSpace(req.FormValue("q")); q != "" {
		return q, nil
	}
	if req.MultipartForm != nil {
		if files := req.MultipartForm.File["q"]; len(files) > 0 {
			f, err := files[0].Open()
			if err != nil {
				return "", badRequest(err)
			}
			defer func() { _ = f.Close() }() // a read-only multipart part
			b, err := io.ReadAll(f)
			if err != nil {
				return "", badRequest(err)
			}
			return string(b), nil
		}
	}
	return "", ErrMissingQuery
}

// parseBindParams decodes the params parameter: a JSON object whose
// numbers become float64 when written with a '.' and int64 otherwise, as
// in 1.x (so 1e3 is refused as an integer).
func parseBindParams(raw string) (map[string]any, error) {
	if raw == "" {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var params map[string]any
	if err := dec.Decode(&params); err != nil {
		return nil, badRequest(fmt.Errorf("error parsing query parameters: %w", err))
	}
	for k, v := range params {
		n, ok := v.(json.Number)
		if !ok {
			continue
		}
		var err error
		if strings.Contains(n.String(), ".") {
			params[k], err = n.Float64()
		} else {
			params[k], err = n.Int64()
		}
		if err != nil {
			return nil, badRequest(fmt.Errorf("error parsing json value: %w", err))
		}
	}
	return params, nil
}

// isAuthorizationFailure reports whether err says the user may not run the
// statement.
func isAuthorizationFailure(err error) bool {
	var authz authorizationError
	return err != nil && errors.As(err, &authz) && authz.AuthorizationFailed()
}

// streamResults writes each result as its own document and flushes it
// (chunked=true).
func (h *Handler) streamResults(rw *responseWriter, req *request, enc resultEncoder, results <-chan *query.Result) {
	for r := range results {
		if r == nil {
			continue
		}
		if !rw.wroteHeader {
			if isAuthorizationFailure(r.Err) {
				h.httpError(rw, req, forbidden(fmt.Errorf("error authorizing query: %w", r.Err)))
				return
			}
			rw.WriteHeader(http.StatusOK)
		}
		n, err := enc.encode(rw, []*query.Result{r})
		h.stats.queryRespBytes.Add(n)
		if err != nil {
			return // the client is gone; the deferred cancel stops the query
		}
		rw.Flush()
	}
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
}

// collectResults gathers a non-chunked response as 1.x does: chunks of the
// same statement are merged (rows of the same series joined), and with
// max-row-limit the rows beyond the limit are cut, the cut series marked
// partial, and later results dropped. A first result refused for lack of
// privilege is returned as a 403 error.
func (h *Handler) collectResults(results <-chan *query.Result) ([]*query.Result, error) {
	limit := h.opts.MaxRowLimit
	resp := make([]*query.Result, 0, 1)
	rows := 0
	first := true
	for r := range results {
		if r == nil {
			continue
		}
		if first {
			first = false
			if isAuthorizationFailure(r.Err) {
				return nil, forbidden(fmt.Errorf("error authorizing query: %w", r.Err))
			}
		}
		if limit > 0 {
			for i, row := range r.Series {
				if n := limit - rows; n < len(row.Values) {
					row.Values = row.Values[:n]
					row.Partial = true
				}
				rows += len(row.Values)
				if rows >= limit {
					r.Series = r.Series[:i+1]
					break
				}
			}
		}
		if last := len(resp) - 1; last >= 0 && resp[last].StatementID == r.StatementID {
			mergeResult(&resp[last], r)
		} else {
			resp = append(resp, r)
		}
		if limit > 0 && rows >= limit {
			// The response is cut here, so it does not continue in a later
			// document: only the truncated series stays partial.
			resp[len(resp)-1].Partial = false
			break
		}
	}
	return resp, nil
}

// mergeResult folds r, a later chunk of the same statement, into *dst.
func mergeResult(dst **query.Result, r *query.Result) {
	if r.Err != nil {
		*dst = r // an error replaces what the statement sent so far
		return
	}
	cur := *dst
	merged := 0
	if len(cur.Series) > 0 {
		last := cur.Series[len(cur.Series)-1]
		for _, row := range r.Series {
			if row.Name != last.Name || !maps.Equal(row.Tags, last.Tags) {
				break
			}
			last.Values = append(last.Values, row.Values...)
			last.Partial = row.Partial
			merged++
		}
	}
	cur.Series = append(cur.Series, r.Series[merged:]...)
	cur.Messages = append(cur.Messages, r.Messages...)
	cur.Partial = r.Partial
}

// runAsync starts q and drains its results in the background
// (async=true): the caller gets its 204 at once. Failures are only logged.
func (h *Handler) runAsync(q *influxql.Query, opts query.ExecutionOptions) error {
	h.asyncMu.Lock()
	if h.asyncClosed {
		h.asyncMu.Unlock()
		return ErrClosed
	}
	h.asyncWG.Add(1)
	h.asyncMu.Unlock()

	results := h.exec.ExecuteQuery(h.asyncCtx, q, opts)
	go func() {
		defer h.asyncWG.Done()
		for r := range results {
			if r != nil && r.Err != nil {
				h.log.Info("error while running async query",
					slog.String("query", influxql.Sanitize(q.String())), slog.Any("error", r.Err))
			}
		}
	}()
	return nil
}
