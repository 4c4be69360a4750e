package httpd

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/klauspost/compress/gzip"

	"github.com/stratadb/strata/internal/lineprotocol"
	"github.com/stratadb/strata/internal/models"
)

const (
	// maxPooledBody bounds the body buffers kept for reuse: one rare huge
	// write must not pin its buffer for the life of the process.
	maxPooledBody = 8 << 20
	// minBodyBuffer is the first allocation for a body of unknown length.
	minBodyBuffer = 4 << 10
)

// writeState is the pooled scratch of one /write request: the body buffer
// the parser works in (points are views into it), a gzip reader and the
// parser with its point slices. It returns to the pool only after the
// points writer has returned, when nothing refers to it any more.
type writeState struct {
	buf    []byte
	gz     *gzip.Reader
	parser lineprotocol.Parser
}

func (h *Handler) getWriteState() *writeState {
	if h.noWritePool {
		return &writeState{}
	}
	if st, ok := h.writeStates.Get().(*writeState); ok {
		return st
	}
	return &writeState{}
}

func (h *Handler) putWriteState(st *writeState) {
	if h.noWritePool {
		return
	}
	if cap(st.buf) > maxPooledBody {
		st.buf = nil
	}
	h.writeStates.Put(st)
}

// serveWriteV1 answers POST /write.
func (h *Handler) serveWriteV1(rw *responseWriter, req *request) {
	precision := req.params.Get("precision")
	switch precision {
	case "", "n", "ns", "u", "ms", "s", "m", "h":
	default:
		h.countWrite(func() {
			h.httpError(rw, req, badRequest(fmt.Errorf("invalid precision %q (use n, u, ms, s, m or h)", precision)))
		})
		return
	}
	h.countWrite(func() {
		h.serveWrite(rw, req, req.params.Get("db"), req.params.Get("rp"), precision)
	})
}

// serveWriteV2 answers POST /api/v2/write, the 2.x-compatible endpoint:
// bucket is "db/rp" ("db" or "db/" for the default retention policy),
// precision is ns, us, ms or s, and org is ignored.
func (h *Handler) serveWriteV2(rw *responseWriter, req *request) {
	h.countWrite(func() {
		precision := req.params.Get("precision")
		switch precision {
		case "ns":
			precision = "n"
		case "us":
			precision = "u"
		case "", "ms", "s":
		default:
			h.httpError(rw, req, badRequest(fmt.Errorf("invalid precision %q (use ns, us, ms or s)", precision)))
			return
		}
		db, rp, err := bucketToDBRP(req.params.Get("bucket"))
		if err != nil {
			h.httpError(rw, req, err)
			return
		}
		h.serveWrite(rw, req, db, rp, precision)
	})
}

// bucketToDBRP splits a 2.x bucket name into database and retention
// policy, with 1.x's texts for the names it refuses (404).
func bucketToDBRP(bucket string) (db, rp string, err error) {
	db, rp, found := strings.Cut(bucket, "/")
	switch {
	case !found && db == "":
		return "", "", notFound(fmt.Errorf(`bucket name %q is missing a slash; not in "database/retention-policy" format`, bucket))
	case found && db == "":
		return "", "", notFound(fmt.Errorf(`bucket name %q is in db/rp form but has an empty database`, bucket))
	}
	return db, rp, nil
}

// countWrite keeps the write counters around serve.
func (h *Handler) countWrite(serve func()) {
	start := h.now()
	h.stats.writeReq.Add(1)
	h.stats.writeReqActive.Add(1)
	defer func() {
		h.stats.writeReqActive.Add(-1)
		h.stats.writeReqDurationNs.Add(int64(h.now().Sub(start)))
	}()
	serve()
}

// serveWrite reads, parses and stores one write.
func (h *Handler) serveWrite(rw *responseWriter, req *request, db, rp, precision string) {
	h.tracker.add(req, trackWrite)
	consistency, err := ParseConsistency(req.params.Get("consistency"))
	if err != nil {
		h.httpError(rw, req, err)
		return
	}
	if precision == "" || precision == "ns" {
		precision = "n"
	}
	prec, err := lineprotocol.ParsePrecision(precision)
	if err != nil {
		h.httpError(rw, req, badRequest(fmt.Errorf("invalid precision %q (use n, u, ms, s, m or h)", precision)))
		return
	}
	if db != "" {
		// Refuse before reading a body the caller may not write.
		if err := h.authorizeWrite(req, db); err != nil {
			h.httpError(rw, req, err)
			return
		}
	}

	st := h.getWriteState()
	defer h.putWriteState(st)
	body, err := h.readBody(st, req)
	if err != nil {
		h.httpError(rw, req, err)
		return
	}
	h.stats.writeReqBytes.Add(int64(len(body)))
	if h.opts.WriteTracing {
		h.log.Debug("write body received by handler", slog.String("body", string(body)))
	}

	now := h.now().UnixNano()
	var (
		points   []models.Point
		lineErrs []*lineprotocol.LineError
	)
	if isJSONBody(body) {
		// The 0.9 JSON write format names its database and retention
		// policy in the body; the URL parameters win when both are given.
		jdb, jrp, pts, err := lineprotocol.ParseJSONBatch(body, now)
		if err != nil {
			h.httpError(rw, req, badRequest(err))
			return
		}
		if db == "" {
			if db = jdb; db != "" {
				if err := h.authorizeWrite(req, db); err != nil {
					h.httpError(rw, req, err)
					return
				}
			}
		}
		if rp == "" {
			rp = jrp
		}
		points = pts
	} else if db != "" {
		points, lineErrs = st.parser.Parse(body, prec, now)
	}
	if db == "" {
		h.httpError(rw, req, ErrDatabaseRequired)
		return
	}

	// Called even with no points: an unknown database must still be a 404.
	err = h.writer.WritePoints(req.Context(), db, rp, consistency, req.user, points)
	h.finishWrite(rw, req, len(points), lineErrs, err)
}

// finishWrite counts the outcome of a write and answers it.
func (h *Handler) finishWrite(rw *responseWriter, req *request, n int, lineErrs []*lineprotocol.LineError, err error) {
	var partial *models.PartialWriteError
	if err != nil && !errors.As(err, &partial) {
		h.stats.pointsWrittenFail.Add(int64(n))
		h.stats.pointsWrittenDropped.Add(int64(len(lineErrs)))
		h.httpError(rw, req, err)
		return
	}
	dropped := len(lineErrs)
	written := n
	if partial != nil {
		written = max(n-partial.Dropped, 0)
		dropped += partial.Dropped
	}
	h.stats.pointsWrittenOK.Add(int64(written))
	h.stats.pointsWrittenDropped.Add(int64(dropped))

	switch {
	case len(lineErrs) == 0 && partial == nil:
		rw.WriteHeader(http.StatusNoContent)
	case len(lineErrs) == 0:
		h.httpError(rw, req, err) // the writer's own text, unchanged
	case n == 0 && partial == nil && !slices.ContainsFunc(lineErrs, (*lineprotocol.LineError).Rejected):
		// Nothing parsed: 1.x answers with the parse errors alone, without
		// the "partial write:" prefix, since nothing was written.
		h.httpError(rw, req, badRequest(errors.New(lineErrorsText(lineErrs))))
	default:
		reason := lineErrorsText(lineErrs)
		if partial != nil {
			reason += "\n" + partial.Reason
		}
		h.httpError(rw, req, &models.PartialWriteError{Reason: reason, Dropped: dropped})
	}
}

// Bounds of the parse errors named in a write response.
const (
	// maxLineErrors is how many failed lines a response names.
	maxLineErrors = 10
	// maxLineText is how much of a failed line is quoted.
	maxLineText = 1024
)

// lineErrorsText renders the lines that failed. Format (pinned by
// TestLineErrorsText and the write golden files):
//
//	unable to parse '<line>': <reason> (line <n>)
//	<reason> (line <n>)
//
// the first for a syntax error, the second for a well-formed line whose
// point is rejected (a "time" tag key, a reserved key, …; 1.x reports
// those as bare partial-write reasons). One entry per failed line in body
// order, joined by "\n", at most maxLineErrors of them, then "and <k> more
// lines failed to parse" when there were more. A line longer than
// maxLineText bytes is cut and ends in "...". Each entry keeps 1.x's text
// and so, after the "partial write: " prefix, the whole message still
// starts as 1.x's does; the line number is what 1.x does not say.
//
// A partial write therefore reads, in full:
//
//	partial write: unable to parse 'cpu value=': missing field value (line 2)
//	unable to parse 'cpu,host=a': missing fields (line 5)
//	<the points writer's reason, when it also dropped points>
//	and 3 more lines failed to parse dropped=7
//
// where the last line's "dropped" counts unparsable lines and points the
// writer rejected.
func lineErrorsText(errs []*lineprotocol.LineError) string {
	var b strings.Builder
	for i, e := range errs {
		if i == maxLineErrors {
			fmt.Fprintf(&b, "\nand %d more lines failed to parse", len(errs)-maxLineErrors)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		if len(e.Text) > maxLineText && !e.Rejected() {
			fmt.Fprintf(&b, "unable to parse '%s...': %v", e.Text[:maxLineText], e.Err)
		} else {
			b.WriteString(e.Error())
		}
		fmt.Fprintf(&b, " (line %d)", e.Line)
	}
	return b.String()
}

// isJSONBody reports whether the first byte that is not whitespace (any
// byte ≤ space, NUL included) is '{': the 0.9 JSON write format.
func isJSONBody(body []byte) bool {
	for _, c := range body {
		if c > ' ' {
			return c == '{'
		}
	}
	return false
}

// readBody reads the request body into st.buf, decompressing gzip, and
// enforces MaxBodySize on the bytes received and — unlike 1.x, where a
// small gzip body could inflate without bound — on the decompressed bytes.
func (h *Handler) readBody(st *writeState, req *request) ([]byte, error) {
	limit := int64(h.opts.MaxBodySize)
	if limit > 0 && req.ContentLength > limit {
		return nil, ErrBodyTooLarge
	}
	var body io.Reader = req.Body
	if limit > 0 {
		body = &limitReader{r: body, left: limit + 1}
	}
	gzipped := req.Header.Get("Content-Encoding") == "gzip"
	if gzipped {
		var err error
		if st.gz == nil {
			st.gz, err = gzip.NewReader(body)
		} else {
			err = st.gz.Reset(body)
		}
		if err != nil {
			if errors.Is(err, ErrBodyTooLarge) {
				return nil, err
			}
			return nil, badRequest(err)
		}
		body = st.gz
		if limit > 0 {
			body = &limitReader{r: body, left: limit + 1}
		}
	}

	buf := st.buf[:0]
	if !gzipped && req.ContentLength > 0 && int64(cap(buf)) < req.ContentLength+1 {
		// +1 so that the read that sees EOF does not grow the buffer.
		buf = make([]byte, 0, req.ContentLength+1)
	}
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, max(minBodyBuffer, cap(buf)))
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			st.buf = buf
			if errors.Is(err, ErrBodyTooLarge) {
				return nil, err
			}
			var maxErr *http.MaxBytesError
			if errors.As(err, &maxErr) {
				return nil, ErrBodyTooLarge
			}
			if h.opts.WriteTracing {
				h.log.Debug("write handler unable to read bytes from request body", slog.Any("error", err))
			}
			return nil, badRequest(err)
		}
	}
	st.buf = buf
	return buf, nil
}

// limitReader reads at most left-1 bytes and fails with ErrBodyTooLarge
// once a byte beyond that arrives.
type limitReader struct {
	r    io.Reader
	left int64 // the limit plus one
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, ErrBodyTooLarge
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left <= 0 {
		return n, ErrBodyTooLarge
	}
	return n, err
}
