package httpd_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influxdata/influxql"
	"go.uber.org/goleak"

	"github.com/stratadb/strata/internal/httpd"
	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/query"
	"github.com/stratadb/strata/internal/stats"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testVersion is the version every test handler reports.
const testVersion = "1.8.10-test"

// fixedNow is the clock of every test handler.
var fixedNow = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// fakeUser is a query.User with explicit privileges.
type fakeUser struct {
	name  string
	admin bool
	write map[string]bool
	read  map[string]bool
}

func (u *fakeUser) Name() string            { return u.name }
func (u *fakeUser) IsAdmin() bool           { return u.admin }
func (u *fakeUser) CanRead(db string) bool  { return u.admin || u.read[db] }
func (u *fakeUser) CanWrite(db string) bool { return u.admin || u.write[db] }

// fakeUsers is a UserStore with passwords in clear.
type fakeUsers struct {
	mu       sync.Mutex
	noAdmin  bool
	users    map[string]*fakeUser
	password map[string]string
}

// errBadCredentials is what the fake store says for an unknown user and a
// wrong password alike.
var errBadCredentials = errors.New("store: bad credentials")

func newFakeUsers() *fakeUsers {
	return &fakeUsers{
		users: map[string]*fakeUser{
			"admin":  {name: "admin", admin: true},
			"writer": {name: "writer", write: map[string]bool{"db0": true}, read: map[string]bool{"db0": true}},
			"reader": {name: "reader", read: map[string]bool{"db0": true}},
		},
		password: map[string]string{"admin": "s3cr3t-admin", "writer": "s3cr3t-writer", "reader": "s3cr3t-reader"},
	}
}

func (s *fakeUsers) Authenticate(name, password string) (query.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[name]
	if !ok || s.password[name] != password {
		return nil, errBadCredentials
	}
	return u, nil
}

func (s *fakeUsers) LookupUser(name string) (query.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[name]
	if !ok {
		return nil, errors.New("user not found")
	}
	return u, nil
}

func (s *fakeUsers) AdminUserExists() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.noAdmin
}

// writeCall is one recorded WritePoints call, with the points copied out
// of the request buffer.
type writeCall struct {
	db, rp      string
	consistency httpd.Consistency
	user        string
	points      []string // "measurement,tags field=value… time"
}

// fakeWriter records writes; fn, when set, decides the result.
type fakeWriter struct {
	mu    sync.Mutex
	calls []writeCall
	fn    func(ctx context.Context, db string, points []models.Point) error
}

func (w *fakeWriter) WritePoints(ctx context.Context, db, rp string, c httpd.Consistency, user query.User, points []models.Point) error {
	call := writeCall{db: db, rp: rp, consistency: c}
	if user != nil {
		call.user = user.Name()
	}
	for i := range points {
		p := &points[i]
		var b []byte
		b = append(b, p.Measurement...)
		for _, t := range p.Tags {
			b = append(b, ',')
			b = append(b, t.Key...)
			b = append(b, '=')
			b = append(b, t.Value...)
		}
		for j := range p.Fields {
			b = append(b, ' ')
			b = append(b, p.Fields[j].Key...)
			b = append(b, '=')
			b = p.Fields[j].AppendValue(b)
		}
		b = append(b, ' ')
		b = strconv.AppendInt(b, p.Time, 10)
		call.points = append(call.points, string(b))
	}
	w.mu.Lock()
	w.calls = append(w.calls, call)
	fn := w.fn
	w.mu.Unlock()
	if fn != nil {
		return fn(ctx, db, points)
	}
	if db == "missing" {
		return &models.DatabaseNotFoundError{Name: db}
	}
	return nil
}

func (w *fakeWriter) lastCall(t *testing.T) writeCall {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.calls) == 0 {
		t.Fatalf("WritePoints was not called")
	}
	return w.calls[len(w.calls)-1]
}

func (w *fakeWriter) numCalls() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.calls)
}

// execCall is one recorded ExecuteQuery call.
type execCall struct {
	query string
	opts  query.ExecutionOptions
}

// fakeExecutor answers queries with fn, or by default with one empty
// result per statement; it records what it was asked.
type fakeExecutor struct {
	mu    sync.Mutex
	calls []execCall
	fn    func(ctx context.Context, q *influxql.Query, opts query.ExecutionOptions) <-chan *query.Result
}

func (e *fakeExecutor) ExecuteQuery(ctx context.Context, q *influxql.Query, opts query.ExecutionOptions) <-chan *query.Result {
	e.mu.Lock()
	e.calls = append(e.calls, execCall{query: q.String(), opts: opts})
	fn := e.fn
	e.mu.Unlock()
	if fn != nil {
		return fn(ctx, q, opts)
	}
	ch := make(chan *query.Result, len(q.Statements))
	for i := range q.Statements {
		ch <- &query.Result{StatementID: i}
	}
	close(ch)
	return ch
}

func (e *fakeExecutor) lastCall(t *testing.T) execCall {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.calls) == 0 {
		t.Fatalf("ExecuteQuery was not called")
	}
	return e.calls[len(e.calls)-1]
}

// sendResults returns an executor function that sends results, then
// closes the channel; it stops early when ctx ends.
func sendResults(results ...*query.Result) func(context.Context, *influxql.Query, query.ExecutionOptions) <-chan *query.Result {
	return func(ctx context.Context, _ *influxql.Query, _ query.ExecutionOptions) <-chan *query.Result {
		ch := make(chan *query.Result)
		go func() {
			defer close(ch)
			for _, r := range results {
				select {
				case ch <- r:
				case <-ctx.Done():
					return
				}
			}
		}()
		return ch
	}
}

// fakeStats is a StatsSource.
type fakeStats struct{ stats []stats.Statistic }

func (s *fakeStats) Statistics() []stats.Statistic { return s.stats }

// syncBuffer is a bytes.Buffer safe for concurrent writers (log output).
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is a handler wired to fakes.
type env struct {
	h      *httpd.Handler
	w      *fakeWriter
	q      *fakeExecutor
	users  *fakeUsers
	src    *fakeStats
	log    *syncBuffer // slog output, every level
	access *syncBuffer // access log
}

// newEnv builds a handler with opts (Version, Now and AccessLog filled in
// unless set) and registers its Close.
func newEnv(t testing.TB, opts httpd.Options) *env {
	t.Helper()
	e := &env{
		w:      &fakeWriter{},
		q:      &fakeExecutor{},
		users:  newFakeUsers(),
		src:    &fakeStats{},
		log:    &syncBuffer{},
		access: &syncBuffer{},
	}
	if opts.Version == "" {
		opts.Version = testVersion
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return fixedNow }
	}
	if opts.AccessLog == nil {
		opts.AccessLog = e.access
	}
	var users httpd.UserStore
	if opts.AuthEnabled {
		users = e.users
	}
	e.h = httpd.NewHandler(opts, e.w, e.q, users, e.src, newTextLogger(e.log))
	t.Cleanup(func() { _ = e.h.Close() })
	return e
}

// newTextLogger logs every level as text into w.
func newTextLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// do serves one request through the handler. headers are "Key: value".
func (e *env) do(method, target, body string, headers ...string) *httptest.ResponseRecorder {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Add(k, strings.TrimSpace(v))
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

// wantStatus fails the test when rec's status is not want.
func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, want int) {
	t.Helper()
	if rec.Code != want {
		t.Fatalf("status = %d, want %d; body %q", rec.Code, want, rec.Body.String())
	}
}

// wantBody fails the test when rec's body is not want.
func wantBody(t *testing.T, rec *httptest.ResponseRecorder, want string) {
	t.Helper()
	if got := rec.Body.String(); got != want {
		t.Fatalf("body = %q, want %q", got, want)
	}
}

// statValue returns one value of the handler's httpd statistic.
func statValue(t *testing.T, h *httpd.Handler, name string) int64 {
	t.Helper()
	s := h.Statistics(nil)
	if len(s) != 1 || s[0].Name != "httpd" {
		t.Fatalf("Statistics = %+v, want one httpd statistic", s)
	}
	v, ok := s[0].Values[name].(int64)
	if !ok {
		t.Fatalf("statistic %q missing or not int64: %#v", name, s[0].Values[name])
	}
	return v
}
