package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Defaults of a write run.
const (
	DefaultBatch         = 5000
	DefaultWorkers       = 4
	DefaultDatabase      = "benchmark"
	DefaultURL           = "http://127.0.0.1:8086"
	DefaultProgressEvery = 5 * time.Second
)

// WriteConfig configures a write run.
type WriteConfig struct {
	// URL is the server's base URL (DefaultURL when empty).
	URL string
	// Database is created first (CREATE DATABASE) and written to.
	Database string
	// Batch is the number of lines per request.
	Batch int
	// Workers is the number of requests in flight.
	Workers int
	// Gzip compresses every request body (Content-Encoding: gzip).
	Gzip bool
	// Progress receives a progress line every ProgressEvery; nil for none.
	Progress      io.Writer
	ProgressEvery time.Duration
	// Client overrides the HTTP client (tests); nil means a keep-alive
	// client with one connection per worker.
	Client *http.Client
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// ProfileDir, when set, receives cpu.pprof and heap.pprof fetched from
	// the server's /debug/pprof while the load runs (ProfileDelay after the
	// start, a ProfileSeconds-long CPU profile, then the heap).
	ProfileDir     string
	ProfileDelay   time.Duration
	ProfileSeconds int
}

func (c *WriteConfig) setDefaults() error {
	if c.URL == "" {
		c.URL = DefaultURL
	}
	if c.Database == "" {
		c.Database = DefaultDatabase
	}
	if c.Batch == 0 {
		c.Batch = DefaultBatch
	}
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = DefaultProgressEvery
	}
	if c.ProfileSeconds <= 0 {
		c.ProfileSeconds = 15
	}
	if c.ProfileDelay <= 0 {
		c.ProfileDelay = 2 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Batch < 1 || c.Workers < 1 {
		return fmt.Errorf("%w: batch %d and workers %d must be positive", ErrInvalidConfig, c.Batch, c.Workers)
	}
	if _, err := url.Parse(c.URL); err != nil {
		return fmt.Errorf("%w: url %q: %v", ErrInvalidConfig, c.URL, err)
	}
	return nil
}

// StatusCount counts the failed requests of one kind: an HTTP status, or
// 0 for a transport error (refused, reset, timed out), with the first
// body or error text seen.
type StatusCount struct {
	Status    int    `json:"status"`
	Requests  int    `json:"requests"`
	Points    int64  `json:"points"`
	FirstBody string `json:"first_body"`
}

// WriteResult is the outcome of a write run.
type WriteResult struct {
	URL           string  `json:"url"`
	Database      string  `json:"database"`
	ServerVersion string  `json:"server_version"`
	Dataset       Dataset `json:"dataset"`
	Batch         int     `json:"batch"`
	Workers       int     `json:"workers"`
	Gzip          bool    `json:"gzip"`
	// CreateDatabaseError is the failure of CREATE DATABASE, if any; the
	// run goes on so that the write failures show too.
	CreateDatabaseError string `json:"create_database_error,omitempty"`
	// Interrupted is set when the context ended before every line was
	// sent; the figures cover what was sent.
	Interrupted bool `json:"interrupted,omitempty"`

	Elapsed       time.Duration `json:"elapsed_ns"`
	Requests      int           `json:"requests"`
	Failed        int           `json:"failed_requests"`
	PointsOK      int64         `json:"points_ok"`
	PointsFailed  int64         `json:"points_failed"`
	BytesSent     int64         `json:"bytes_sent"`
	PointsPerSec  float64       `json:"points_per_sec"`
	ValuesPerSec  float64       `json:"values_per_sec"`
	BatchLatency  Latency       `json:"batch_latency"`
	Failures      []StatusCount `json:"failures"`
	ProfileErrors []string      `json:"profile_errors,omitempty"`
}

// batch is one request body and the number of lines in it.
type batch struct {
	buf   []byte
	lines int
}

// recorder collects the outcome of every request; workers call it
// concurrently.
type recorder struct {
	pointsOK     atomic.Int64
	pointsFailed atomic.Int64
	requests     atomic.Int64
	failed       atomic.Int64
	bytesSent    atomic.Int64

	mu struct {
		sync.Mutex
		latencies []time.Duration      // of every request, failed ones included
		failures  map[int]*StatusCount // by status; 0 is a transport error
	}
}

func (r *recorder) record(lines int, size int, lat time.Duration, status int, body string) {
	r.requests.Add(1)
	r.bytesSent.Add(int64(size))
	ok := status/100 == 2
	if ok {
		r.pointsOK.Add(int64(lines))
	} else {
		r.failed.Add(1)
		r.pointsFailed.Add(int64(lines))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mu.latencies = append(r.mu.latencies, lat)
	if ok {
		return
	}
	if r.mu.failures == nil {
		r.mu.failures = make(map[int]*StatusCount)
	}
	sc := r.mu.failures[status]
	if sc == nil {
		sc = &StatusCount{Status: status, FirstBody: body}
		r.mu.failures[status] = sc
	}
	sc.Requests++
	sc.Points += int64(lines)
}

// Write sends the data set ds to the server in batches and measures it. It
// returns an error only when the run cannot start (bad configuration,
// server unreachable); failed requests are part of the result. A cancelled
// context stops the run early with Interrupted set.
func Write(ctx context.Context, cfg WriteConfig, ds Dataset) (*WriteResult, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	gen, err := NewGenerator(ds)
	if err != nil {
		return nil, err
	}
	client := cfg.Client
	if client == nil {
		client = newClient(cfg.Workers)
		defer client.CloseIdleConnections()
	}
	res := &WriteResult{URL: cfg.URL, Database: cfg.Database, Dataset: ds, Batch: cfg.Batch,
		Workers: cfg.Workers, Gzip: cfg.Gzip}
	if res.ServerVersion, err = ServerVersion(ctx, client, cfg.URL); err != nil {
		return nil, err
	}
	if err := execute(ctx, client, cfg.URL, "", "CREATE DATABASE "+quoteIdent(cfg.Database)); err != nil {
		res.CreateDatabaseError = err.Error()
		cfg.Logger.Warn("create database failed", "err", err)
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "warning: %v\n", err)
		}
	}

	writeURL := endpoint(cfg.URL, "/write", url.Values{"db": {cfg.Database}})
	var rec recorder
	// Buffers circulate between the generator and the workers: a few more
	// than the workers, so generation overlaps sending without holding the
	// whole data set in memory.
	free := make(chan *batch, 2*cfg.Workers)
	for range cap(free) {
		free <- &batch{}
	}
	work := make(chan *batch, cfg.Workers)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	start := time.Now()
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(work)
		for !gen.Done() {
			var b *batch
			select {
			case b = <-free:
			case <-runCtx.Done():
				return
			}
			b.buf, b.lines = gen.Next(b.buf[:0], cfg.Batch)
			select {
			case work <- b:
			case <-runCtx.Done():
				return
			}
		}
	})
	for range cfg.Workers {
		wg.Go(func() {
			s := sender{client: client, url: writeURL, gzip: cfg.Gzip}
			for b := range work {
				status, body, size, lat := s.send(runCtx, b.buf)
				if runCtx.Err() != nil && status == 0 {
					// Cancelled mid-request: not a server failure.
					continue
				}
				rec.record(b.lines, size, lat, status, body)
				free <- b
			}
		})
	}
	var side sync.WaitGroup
	progressDone := make(chan struct{})
	if cfg.Progress != nil {
		side.Go(func() { progress(cfg, ds.Points(), &rec, start, progressDone) })
	}
	var profileErrs []string
	if cfg.ProfileDir != "" {
		side.Go(func() { profileErrs = fetchProfiles(runCtx, client, cfg) })
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	close(progressDone)
	side.Wait()

	res.Interrupted = ctx.Err() != nil
	res.ProfileErrors = profileErrs
	res.Requests = int(rec.requests.Load())
	res.Failed = int(rec.failed.Load())
	res.PointsOK = rec.pointsOK.Load()
	res.PointsFailed = rec.pointsFailed.Load()
	res.BytesSent = rec.bytesSent.Load()
	if secs := res.Elapsed.Seconds(); secs > 0 {
		res.PointsPerSec = float64(res.PointsOK) / secs
		res.ValuesPerSec = res.PointsPerSec * FieldsPerPoint
	}
	rec.mu.Lock()
	res.BatchLatency = Summarize(rec.mu.latencies)
	for _, sc := range rec.mu.failures {
		res.Failures = append(res.Failures, *sc)
	}
	rec.mu.Unlock()
	slices.SortFunc(res.Failures, func(a, b StatusCount) int { return a.Status - b.Status })
	return res, nil
}

// sender posts batches for one worker, reusing its gzip state.
type sender struct {
	client *http.Client
	url    string
	gzip   bool
	zbuf   bytes.Buffer
	zw     *gzip.Writer
}

// send posts body and returns the status (0 for a transport error), the
// start of the response body of a non-2xx answer (or the transport
// error), the bytes sent and the latency from sending to the end of the
// response.
func (s *sender) send(ctx context.Context, body []byte) (status int, text string, size int, lat time.Duration) {
	start := time.Now()
	if s.gzip {
		s.zbuf.Reset()
		if s.zw == nil {
			// BestSpeed keeps the client's share of the two shared cores small.
			s.zw, _ = gzip.NewWriterLevel(&s.zbuf, gzip.BestSpeed)
		} else {
			s.zw.Reset(&s.zbuf)
		}
		_, _ = s.zw.Write(body)
		_ = s.zw.Close()
		body = s.zbuf.Bytes()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error(), len(body), time.Since(start)
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	if s.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err.Error(), len(body), time.Since(start)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		_, err = io.Copy(io.Discard, resp.Body)
		if err != nil {
			return 0, "read response: " + err.Error(), len(body), time.Since(start)
		}
		return resp.StatusCode, "", len(body), time.Since(start)
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, truncate(msg), len(body), time.Since(start)
}

// progress prints one line every cfg.ProgressEvery until done closes.
func progress(cfg WriteConfig, total int64, rec *recorder, start time.Time, done <-chan struct{}) {
	tick := time.NewTicker(cfg.ProgressEvery)
	defer tick.Stop()
	last, lastAt := int64(0), start
	for {
		select {
		case <-done:
			return
		case now := <-tick.C:
			ok := rec.pointsOK.Load()
			rate := float64(ok-last) / now.Sub(lastAt).Seconds()
			overall := float64(ok) / now.Sub(start).Seconds()
			fmt.Fprintf(cfg.Progress, "[%6.1fs] %s/%s points (%.0f%%), %s points/s now, %s overall, %d failed requests\n",
				now.Sub(start).Seconds(), Thousands(ok), Thousands(total), 100*float64(ok+rec.pointsFailed.Load())/float64(max(total, 1)),
				Thousands(int64(rate)), Thousands(int64(overall)), rec.failed.Load())
			last, lastAt = ok, now
		}
	}
}

// fetchProfiles saves a CPU profile and then a heap profile of the server
// under load. Failures are returned for the report, never fatal.
func fetchProfiles(ctx context.Context, client *http.Client, cfg WriteConfig) []string {
	select {
	case <-time.After(cfg.ProfileDelay):
	case <-ctx.Done():
		return []string{"run ended before the profile delay"}
	}
	var errs []string
	if err := os.MkdirAll(cfg.ProfileDir, 0o755); err != nil {
		return []string{err.Error()}
	}
	get := func(path, file string) {
		if err := download(ctx, client, endpoint(cfg.URL, path, nil), file); err != nil {
			errs = append(errs, err.Error())
			cfg.Logger.Warn("profile", "err", err)
		}
	}
	get("/debug/pprof/profile?seconds="+strconv.Itoa(cfg.ProfileSeconds), cfg.ProfileDir+"/cpu.pprof")
	get("/debug/pprof/heap", cfg.ProfileDir+"/heap.pprof")
	return errs
}

// quoteIdent quotes an InfluxQL identifier.
func quoteIdent(s string) string {
	var b bytes.Buffer
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}
