package httpd

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	rpprof "runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/influxdata/influxql"
	"github.com/klauspost/compress/gzip"

	"github.com/stratadb/strata/internal/stats"
)

// serveExpvar answers /debug/vars in 1.x's layout: an object with
// "system", "cmdline" and "memstats", then one member per statistic
// ({name, tags, values}) keyed by the statistic's name and identifying
// tags ("httpd::8086", "shard:/path:12", "database:db0", …).
func (h *Handler) serveExpvar(rw *responseWriter, _ *request) {
	now := h.now()
	var b bytes.Buffer
	b.WriteString("{\n")
	system, _ := json.Marshal(map[string]any{ // plain values: cannot fail
		"currentTime": now.UTC(),
		"started":     h.started.UTC(),
		"uptime":      int64(now.Sub(h.started).Seconds()),
	})
	b.WriteString(`"system": `)
	b.Write(system)
	cmdline, _ := json.Marshal(os.Args) // strings: cannot fail
	b.WriteString(",\n\"cmdline\": ")
	b.Write(cmdline)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mem, err := json.Marshal(&ms)
	if err == nil {
		b.WriteString(",\n\"memstats\": ")
		b.Write(mem)
	}

	all := h.Statistics(h.statTags())
	if h.src != nil {
		all = append(all, h.src.Statistics()...)
	}
	seen := make(map[string]bool, len(all))
	for _, s := range all {
		key := expvarKey(s)
		if seen[key] {
			continue // the source may report this handler's statistic too
		}
		seen[key] = true
		val, err := json.Marshal(s)
		if err != nil {
			continue
		}
		b.WriteString(",\n")
		b.Write(appendJSONString(nil, key))
		b.WriteString(": ")
		b.Write(val)
	}
	b.WriteString("\n}\n")
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	rw.WriteHeader(http.StatusOK)
	_, _ = rw.Write(b.Bytes()) // the client is gone if this fails
}

// statTags are the tags of the handler's own statistic in /debug/vars.
func (h *Handler) statTags() map[string]string {
	if h.opts.BindAddress == "" {
		return nil
	}
	return map[string]string{"bind": h.opts.BindAddress}
}

// expvarKey builds the key 1.x gives a statistic in /debug/vars: its name
// followed by the values of the tags that identify it.
func expvarKey(s stats.Statistic) string {
	var b strings.Builder
	b.WriteString(s.Name)
	if path, ok := s.Tags["path"]; ok {
		b.WriteString(":" + path)
		if id, ok := s.Tags["id"]; ok {
			b.WriteString(":" + id)
		}
	} else if bind, ok := s.Tags["bind"]; ok {
		if proto, ok := s.Tags["proto"]; ok {
			b.WriteString(":" + proto)
		}
		b.WriteString(":" + bind)
	} else if db, ok := s.Tags["database"]; ok {
		b.WriteString(":" + db)
		if rp, ok := s.Tags["retention_policy"]; ok {
			b.WriteString(":" + rp)
			if name, ok := s.Tags["name"]; ok {
				b.WriteString(":" + name)
			}
			if dest, ok := s.Tags["destination"]; ok {
				b.WriteString(":" + dest)
			}
		}
	}
	return b.String()
}

// Bounds of /debug/requests?seconds=N, as in 1.x.
const (
	defaultDebugRequestsInterval = 10 * time.Second
	maxDebugRequestsInterval     = 6 * time.Hour
)

// serveDebugRequests counts the writes and queries per "user:ip" for N
// seconds and answers with the counts.
func (h *Handler) serveDebugRequests(rw *responseWriter, req *request) {
	d := defaultDebugRequestsInterval
	if s := req.params.Get("seconds"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			h.httpError(rw, req, badRequest(err))
			return
		}
		d = time.Duration(n) * time.Second
		if n > int64(maxDebugRequestsInterval/time.Second) || d > maxDebugRequestsInterval {
			h.httpError(rw, req, badRequest(fmt.Errorf("exceeded maximum interval time: %s > %s",
				influxql.FormatDuration(d), influxql.FormatDuration(maxDebugRequestsInterval))))
			return
		}
	}
	profile := h.tracker.start()
	timer := time.NewTimer(d)
	select {
	case <-timer.C:
		h.tracker.stop(profile)
	case <-req.Context().Done():
		timer.Stop()
		h.tracker.stop(profile)
		return
	}

	counts := profile.snapshot()
	keys := slices.Sorted(maps.Keys(counts))
	var b bytes.Buffer
	b.WriteString("{\n")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(",\n")
		}
		c := counts[k]
		b.Write(appendJSONString(nil, k))
		fmt.Fprintf(&b, `: {"writes":%d,"queries":%d}`, c.writes, c.queries)
	}
	b.WriteString("\n}\n")
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	rw.Header().Set("Connection", "close")
	rw.WriteHeader(http.StatusOK)
	_, _ = rw.Write(b.Bytes()) // the client is gone if this fails
}

// requestTracker feeds /debug/requests: while at least one profile is
// recording, every /write and /query is counted under "user:ip".
type requestTracker struct {
	active atomic.Int32 // number of recording profiles, read on every request
	mu     sync.Mutex   // guards profiles
	// profiles are the recording profiles.
	profiles map[*requestProfile]struct{}
}

type trackKind uint8

const (
	trackWrite trackKind = iota
	trackQuery
)

type requestProfile struct {
	mu     sync.Mutex // guards counts
	counts map[string]requestCounts
}

type requestCounts struct{ writes, queries int64 }

func (t *requestTracker) init() { t.profiles = make(map[*requestProfile]struct{}) }

func (t *requestTracker) start() *requestProfile {
	p := &requestProfile{counts: make(map[string]requestCounts)}
	t.mu.Lock()
	t.profiles[p] = struct{}{}
	t.active.Store(int32(len(t.profiles)))
	t.mu.Unlock()
	return p
}

func (t *requestTracker) stop(p *requestProfile) {
	t.mu.Lock()
	delete(t.profiles, p)
	t.active.Store(int32(len(t.profiles)))
	t.mu.Unlock()
}

func (t *requestTracker) add(req *request, kind trackKind) {
	if t.active.Load() == 0 {
		return
	}
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		return
	}
	key := host
	if name := userName(req.user); name != "" {
		key = name + ":" + host
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for p := range t.profiles {
		p.mu.Lock()
		c := p.counts[key]
		if kind == trackWrite {
			c.writes++
		} else {
			c.queries++
		}
		p.counts[key] = c
		p.mu.Unlock()
	}
}

func (p *requestProfile) snapshot() map[string]requestCounts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.counts)
}

// servePprof serves /debug/pprof/* with net/http/pprof (whose import also
// registers its handlers on http.DefaultServeMux; nothing in Strata serves
// that mux, so they stay unreachable), plus
// /debug/pprof/all: a tar.gz of every runtime profile, with a CPU profile
// when ?cpu=<duration> (or cpu=true for 30s, the pre-1.8.3 form) asks.
func (h *Handler) servePprof(rw *responseWriter, req *request) {
	switch req.URL.Path {
	case "/debug/pprof/cmdline":
		pprof.Cmdline(rw, req.Request)
	case "/debug/pprof/profile":
		pprof.Profile(rw, req.Request)
	case "/debug/pprof/symbol":
		pprof.Symbol(rw, req.Request)
	case "/debug/pprof/trace":
		pprof.Trace(rw, req.Request)
	case "/debug/pprof/all":
		h.serveProfileArchive(rw, req)
	default:
		pprof.Index(rw, req.Request)
	}
}

// serveProfileArchive writes profiles.tar.gz.
func (h *Handler) serveProfileArchive(rw *responseWriter, req *request) {
	var cpu time.Duration
	switch s := req.params.Get("cpu"); s {
	case "", "false":
	case "true":
		cpu = 30 * time.Second
	default:
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			h.httpError(rw, req, badRequest(fmt.Errorf("invalid cpu duration %q", s)))
			return
		}
		cpu = d
	}
	var files []struct {
		name string
		data []byte
	}
	if cpu > 0 {
		var buf bytes.Buffer
		if err := rpprof.StartCPUProfile(&buf); err != nil {
			h.httpError(rw, req, fmt.Errorf("cpu profile: %w", err))
			return
		}
		timer := time.NewTimer(cpu)
		select {
		case <-timer.C:
		case <-req.Context().Done():
			timer.Stop()
		}
		rpprof.StopCPUProfile()
		files = append(files, struct {
			name string
			data []byte
		}{"profiles/cpu.pb.gz", buf.Bytes()})
	}
	for _, p := range rpprof.Profiles() {
		var buf bytes.Buffer
		if err := p.WriteTo(&buf, 0); err != nil {
			continue
		}
		files = append(files, struct {
			name string
			data []byte
		}{"profiles/" + p.Name() + ".pb.gz", buf.Bytes()})
	}

	rw.Header().Set("Content-Type", "application/gzip")
	rw.Header().Set("Content-Disposition", "attachment; filename=profiles.tar.gz")
	rw.WriteHeader(http.StatusOK)
	gz := gzip.NewWriter(rw)
	tw := tar.NewWriter(gz)
	now := h.now()
	for _, f := range files {
		hdr := &tar.Header{Name: f.name, Mode: 0o600, Size: int64(len(f.data)), ModTime: now}
		if tw.WriteHeader(hdr) != nil {
			return // the client is gone
		}
		if _, err := tw.Write(f.data); err != nil {
			return
		}
	}
	if tw.Close() == nil {
		_ = gz.Close() // a failure is the client's truncated download
	}
}

// serveMetrics answers GET /metrics with the statistics in Prometheus'
// exposition format; the route's authentication has been checked.
func (h *Handler) serveMetrics(rw *responseWriter, req *request) {
	h.opts.Metrics.ServeHTTP(rw, req.Request)
}
