package httpd

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/stratadb/strata/internal/query"
)

// Handler serves the InfluxDB 1.x HTTP API. It is safe for concurrent use.
type Handler struct {
	opts   Options
	writer PointsWriter
	exec   QueryExecutor
	users  UserStore
	src    StatsSource
	log    *slog.Logger
	now    func() time.Time

	started time.Time
	realm   string
	build   string
	filters statusFilters
	routes  map[string]*route
	// throttle limits concurrent writes; nil when unlimited.
	throttle *throttler
	ids      *uuidGenerator
	tracker  requestTracker
	stats    handlerStats

	// accessMu serialises lines on opts.AccessLog, which need not be safe
	// for concurrent writes.
	accessMu sync.Mutex

	// Pools of per-request scratch, each used as a Get/Put pair.
	gzipWriters sync.Pool // *gzip.Writer (klauspost)
	writeStates sync.Pool // *writeState: body buffer, gzip reader, parser
	// noWritePool bypasses writeStates; the write benchmark sets it to
	// measure what the pool saves.
	noWritePool bool

	// asyncCtx is the parent context of async queries, which outlive their
	// request; Close cancels it and waits for asyncWG.
	asyncCtx    context.Context
	asyncCancel context.CancelFunc
	asyncWG     sync.WaitGroup
	asyncMu     sync.Mutex // guards asyncClosed and asyncWG.Add against Close
	asyncClosed bool
}

// NewHandler returns a Handler. writer, exec and src must not be nil; users
// is nil when auth is disabled. A nil logger discards.
func NewHandler(opts Options, w PointsWriter, q QueryExecutor, users UserStore, src StatsSource, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With(slog.String("service", "httpd"))
	h := &Handler{
		opts:   opts,
		writer: w,
		exec:   q,
		users:  users,
		src:    src,
		log:    logger,
		now:    opts.Now,
		realm:  opts.Realm,
		build:  opts.Build,
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.realm == "" {
		h.realm = DefaultRealm
	}
	if h.build == "" {
		h.build = DefaultBuild
	}
	h.started = h.now()
	for _, s := range opts.AccessLogStatusFilters {
		f, err := ParseStatusFilter(s)
		if err != nil {
			// Config validation rejects bad filters; one that slipped
			// through is ignored rather than failing every request.
			logger.Warn("ignoring access log status filter", slog.Any("error", err))
			continue
		}
		h.filters = append(h.filters, f)
	}
	if opts.AuthEnabled && users == nil {
		logger.Error("auth is enabled but no user store was given: authenticated routes will answer 500")
	}
	if opts.AuthEnabled && opts.SharedSecret == "" {
		logger.Info("auth is enabled but shared-secret is blank: bearer authentication is disabled")
	}
	h.throttle = newThrottler(opts.MaxConcurrentWriteLimit, opts.MaxEnqueuedWriteLimit, opts.EnqueuedWriteTimeout)
	h.ids = newUUIDGenerator(h.now)
	h.tracker.init()
	h.asyncCtx, h.asyncCancel = context.WithCancel(context.Background())
	h.routes = h.buildRoutes()
	return h
}

// Close cancels the async queries still draining and waits for them. The
// handler keeps serving requests after Close; only async=true queries are
// refused.
func (h *Handler) Close() error {
	h.asyncMu.Lock()
	h.asyncClosed = true
	h.asyncMu.Unlock()
	h.asyncCancel()
	h.asyncWG.Wait()
	return nil
}

// request is what one routed request carries through the handlers.
type request struct {
	*http.Request
	params url.Values // the URL query, parsed once
	user   query.User // nil when auth is off, or during bootstrap
	start  time.Time
	id     string
}

// routeAuth is the authentication a route requires.
type routeAuth uint8

const (
	authNone  routeAuth = iota // never authenticated
	authUser                   // authenticated when auth is enabled
	authAdmin                  // authenticated, and only admins pass
)

// route is one path of the API.
type route struct {
	name    string
	handle  map[string]func(*responseWriter, *request) // by method
	allow   string                                     // the Allow header of a 405
	auth    routeAuth
	gzip    bool // compress 200 responses for clients that accept gzip
	log     bool // write access-log lines
	options bool // answer OPTIONS (CORS preflight) with an empty 200
	raw     bool // the handler sets its own Content-Type (pprof, vars)
	writes  bool // throttled by the write limits
}

func (h *Handler) buildRoutes() map[string]*route {
	pingAuth := authNone
	if h.opts.PingAuthEnabled {
		pingAuth = authUser
	}
	debugAuth := authNone
	if h.opts.AuthEnabled && h.opts.PprofEnabled && h.opts.PprofAuthEnabled {
		debugAuth = authAdmin
	}
	writeLog := h.opts.LogEnabled && !h.opts.SuppressWriteLog
	routes := map[string]*route{
		"/query": {name: "query", auth: authUser, gzip: true, log: true, options: true,
			handle: map[string]func(*responseWriter, *request){"GET": h.serveQuery, "POST": h.serveQuery}},
		"/write": {name: "write", auth: authUser, gzip: true, log: writeLog, options: true, writes: true,
			handle: map[string]func(*responseWriter, *request){"POST": h.serveWriteV1}},
		"/api/v2/write": {name: "write", auth: authUser, gzip: true, log: writeLog, writes: true,
			handle: map[string]func(*responseWriter, *request){"POST": h.serveWriteV2}},
		"/api/v2/query": {name: "flux-read", log: true,
			handle: map[string]func(*responseWriter, *request){"POST": h.serveFluxDisabled}},
		"/ping": {name: "ping", auth: pingAuth, log: true,
			handle: map[string]func(*responseWriter, *request){"GET": h.servePing, "HEAD": h.servePing}},
		"/status": {name: "status", auth: pingAuth, log: true,
			handle: map[string]func(*responseWriter, *request){"GET": h.serveStatus, "HEAD": h.serveStatus}},
		"/health": {name: "health", auth: pingAuth, log: true,
			handle: map[string]func(*responseWriter, *request){"GET": h.serveHealth}},
		"/debug/vars": {name: "debug-vars", auth: debugAuth, raw: true, log: true,
			handle: map[string]func(*responseWriter, *request){"GET": h.serveExpvar}},
		"/debug/requests": {name: "debug-requests", auth: debugAuth, raw: true, log: true,
			handle: map[string]func(*responseWriter, *request){"GET": h.serveDebugRequests}},
	}
	if h.opts.Metrics != nil {
		routes["/metrics"] = &route{name: "metrics", auth: debugAuth, raw: true, log: true,
			handle: map[string]func(*responseWriter, *request){"GET": h.serveMetrics}}
	}
	if h.opts.PprofEnabled {
		routes["/debug/pprof/"] = &route{name: "pprof", auth: debugAuth, raw: true, log: true,
			handle: map[string]func(*responseWriter, *request){"GET": h.servePprof, "POST": h.servePprof}}
	}
	for _, rt := range routes {
		var methods []string
		for _, m := range []string{"GET", "HEAD", "POST", "OPTIONS"} {
			if rt.handle[m] != nil || (m == "OPTIONS" && rt.options) {
				methods = append(methods, m)
			}
		}
		rt.allow = strings.Join(methods, ", ")
		rt.log = rt.log && h.opts.LogEnabled
	}
	return routes
}

// lookup finds the route of a path: exact paths, and /debug/pprof/ as a
// prefix.
func (h *Handler) lookup(path string) *route {
	if rt, ok := h.routes[path]; ok {
		return rt
	}
	if strings.HasPrefix(path, "/debug/pprof/") || path == "/debug/pprof" {
		return h.routes["/debug/pprof/"] // nil when pprof is disabled
	}
	return nil
}

// ServeHTTP serves one request: version headers, request id, CORS, panic
// recovery and the access log for every path, then routing, throttling,
// authentication and the route's handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.now()
	h.stats.req.Add(1)
	h.stats.reqActive.Add(1)
	defer func() {
		h.stats.reqActive.Add(-1)
		h.stats.reqDurationNs.Add(int64(h.now().Sub(start)))
	}()

	hdr := w.Header()
	hdr.Set("X-Influxdb-Version", h.opts.Version)
	hdr.Set("X-Influxdb-Build", h.build)
	id := r.Header.Get("X-Request-Id")
	if id == "" {
		id = r.Header.Get("Request-Id")
	}
	if id == "" {
		id = h.ids.next()
	}
	hdr.Set("X-Request-Id", id)
	hdr.Set("Request-Id", id)
	if origin := r.Header.Get("Origin"); origin != "" {
		hdr.Set("Access-Control-Allow-Origin", origin)
		hdr.Set("Access-Control-Allow-Methods", "DELETE, GET, OPTIONS, POST, PUT")
		hdr.Set("Access-Control-Allow-Headers", "Accept, Accept-Encoding, Authorization, Content-Length, Content-Type, X-CSRF-Token, X-HTTP-Method-Override")
		hdr.Set("Access-Control-Expose-Headers", "Date, X-InfluxDB-Version, X-InfluxDB-Build")
	}

	req := &request{Request: r, params: r.URL.Query(), start: start, id: id}
	f, contentType := negotiate(r.Header["Accept"])
	rw := &responseWriter{w: w, h: h, format: f, pretty: req.params.Get("pretty") == "true"}
	rt := h.lookup(r.URL.Path)

	// Deferred in this order so that the panic is recovered (and the 500
	// written) first, the gzip stream closed next, and the access-log line,
	// which needs the final status and size, written last.
	defer h.accessLog(rw, req, rt)
	defer rw.finish()
	defer h.recoverPanic(rw, req)

	if rt == nil {
		h.httpError(rw, req, ErrNotFound)
		return
	}
	if r.Method == http.MethodOptions && rt.options {
		return // CORS preflight: the headers above are the answer (1.x: empty 200)
	}
	handle := rt.handle[r.Method]
	if handle == nil {
		hdr.Set("Allow", rt.allow)
		h.httpError(rw, req, ErrMethodNotAllowed)
		return
	}
	if !rt.raw {
		hdr.Set("Content-Type", contentType)
		rw.gzipOK = rt.gzip && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip")
	}
	if rt.writes && h.throttle != nil {
		release, err := h.throttle.acquire(r.Context())
		if err != nil {
			h.log.Warn(err.Error(), slog.Duration("timeout", h.opts.EnqueuedWriteTimeout))
			h.httpError(rw, req, err)
			return
		}
		defer release()
	}
	if rt.auth != authNone {
		user, err := h.authenticate(req)
		if err != nil {
			h.httpError(rw, req, err)
			return
		}
		if rt.auth == authAdmin && (user == nil || !user.IsAdmin()) {
			h.log.Info("unauthorized request", slog.String("path", r.URL.Path), slog.String("user", userName(user)))
			h.httpError(rw, req, ErrAdminRequired)
			return
		}
		req.user = user
	}
	handle(rw, req)
}

// recoverPanic turns a panic in a handler into a 500 and a log record; the
// server keeps running. http.ErrAbortHandler is net/http's way to abort a
// response on purpose and is passed on.
func (h *Handler) recoverPanic(rw *responseWriter, req *request) {
	p := recover()
	if p == nil {
		return
	}
	if p == http.ErrAbortHandler { //nolint:errorlint // the sentinel is compared by identity, as net/http does
		panic(p)
	}
	h.stats.recoveredPanics.Add(1)
	h.log.Error("recovered panic in HTTP handler",
		slog.String("method", req.Method),
		slog.String("path", req.URL.Path),
		slog.String("request_id", req.id),
		slog.String("panic", fmt.Sprint(p)),
		slog.String("stack", string(debug.Stack())))
	if !rw.wroteHeader {
		h.httpError(rw, req, errInternal)
	}
}

// accessLog writes the request's access-log line when the route logs and
// the status passes the filters, and logs server errors.
func (h *Handler) accessLog(rw *responseWriter, req *request, rt *route) {
	status := rw.statusCode()
	if status/100 == 5 {
		h.log.Error("server error", slog.Int("status", status),
			slog.String("error", rw.Header().Get("X-Influxdb-Error")),
			slog.String("request_id", req.id))
	}
	if rt == nil || !rt.log || !h.filters.match(status) {
		return
	}
	line := buildLogLine(req, status, rw.size, h.now())
	if h.opts.AccessLog == nil {
		h.log.Info(line)
		return
	}
	h.accessMu.Lock()
	defer h.accessMu.Unlock()
	if _, err := io.WriteString(h.opts.AccessLog, line+"\n"); err != nil {
		h.log.Warn("cannot write access log", slog.Any("error", err))
	}
}

func userName(u query.User) string {
	if u == nil {
		return ""
	}
	return u.Name()
}
