package query

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratadb/strata/internal/stats"
)

// RegistryOptions are the [coordinator] settings that apply to whole
// queries.
type RegistryOptions struct {
	// MaxConcurrentQueries refuses a query while this many run (0: no
	// limit).
	MaxConcurrentQueries int
	// QueryTimeout kills a query that runs longer (0: no limit).
	QueryTimeout time.Duration
	// LogQueriesAfter logs a query that runs longer (0: never).
	LogQueriesAfter time.Duration
	// Logger receives slow-query messages; nil discards them.
	Logger *slog.Logger
	// Now is the clock of SHOW QUERIES durations; nil means time.Now.
	Now func() time.Time
}

// Registry tracks the running queries for SHOW QUERIES and KILL QUERY and
// enforces max-concurrent-queries, query-timeout and log-queries-after.
//
// A query is attached once, for all of its statements (as in 1.x, where the
// qid names the whole request). The context Attach returns is cancelled when
// the query is killed, times out or the registry closes; context.Cause then
// gives 1.x's error (ErrQueryInterrupted, ErrQueryTimeoutLimitExceeded,
// ErrQueryEngineShutdown). The engine checks that context between batches
// of work, during planning as well as while reading, so a kill takes effect
// within milliseconds.
type Registry struct {
	opts   RegistryOptions
	logger *slog.Logger

	mu struct {
		sync.Mutex
		nextID uint64
		tasks  map[uint64]*Task // running queries, by qid
		closed bool
	}
	// stats are 1.x's queryExecutor statistics.
	stats struct {
		executed, finished, durationNs, recoveredPanics atomic.Int64
	}
}

// NewRegistry returns an empty registry.
func NewRegistry(opts RegistryOptions) *Registry {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	r := &Registry{opts: opts, logger: logger}
	r.mu.nextID = 1
	r.mu.tasks = make(map[uint64]*Task)
	return r
}

// Task is one running query.
type Task struct {
	// ID is the query id SHOW QUERIES shows and KILL QUERY takes.
	ID       uint64
	Query    string
	Database string
	start    time.Time
	cancel   context.CancelCauseFunc
	slow     *time.Timer

	mu     sync.Mutex // guards killed
	killed bool
}

type taskKey struct{}

// TaskFromContext returns the task a context belongs to, or nil.
func TaskFromContext(ctx context.Context) *Task {
	t, _ := ctx.Value(taskKey{}).(*Task)
	return t
}

// Attach registers a query (its text and default database) and returns a
// context derived from ctx that ends when the query is killed or times out,
// the task, and the function that unregisters it, which the caller must
// call when the query is done. It fails with a *LimitError when
// max-concurrent-queries queries already run, and with
// ErrQueryEngineShutdown after Close.
func (r *Registry) Attach(ctx context.Context, queryText, database string) (context.Context, *Task, func(), error) {
	t := &Task{Query: queryText, Database: database, start: r.opts.Now()}
	qctx, cancel := context.WithCancelCause(ctx)
	t.cancel = cancel
	stopTimeout := func() {}
	if d := r.opts.QueryTimeout; d > 0 {
		qctx, stopTimeout = context.WithTimeoutCause(qctx, d, ErrQueryTimeoutLimitExceeded)
	}
	qctx = context.WithValue(qctx, taskKey{}, t)

	r.mu.Lock()
	if r.mu.closed {
		r.mu.Unlock()
		stopTimeout()
		cancel(ErrQueryEngineShutdown)
		return nil, nil, nil, ErrQueryEngineShutdown
	}
	if n := len(r.mu.tasks); r.opts.MaxConcurrentQueries > 0 && n >= r.opts.MaxConcurrentQueries {
		r.mu.Unlock()
		stopTimeout()
		cancel(context.Canceled)
		return nil, nil, nil, &LimitError{Kind: ErrMaxConcurrentQueriesLimit, N: n, Limit: r.opts.MaxConcurrentQueries}
	}
	t.ID = r.mu.nextID
	r.mu.nextID++
	r.mu.tasks[t.ID] = t
	r.mu.Unlock()
	r.stats.executed.Add(1)

	if d := r.opts.LogQueriesAfter; d > 0 {
		t.slow = time.AfterFunc(d, func() {
			r.logger.Warn("Detected slow query", "query", t.Query, "qid", t.ID, "database", t.Database, "threshold", d)
		})
	}
	detach := func() {
		if t.slow != nil {
			t.slow.Stop()
		}
		stopTimeout()
		cancel(context.Canceled)
		r.mu.Lock()
		delete(r.mu.tasks, t.ID)
		r.mu.Unlock()
		r.stats.finished.Add(1)
		r.stats.durationNs.Add(int64(r.opts.Now().Sub(t.start)))
	}
	return qctx, t, detach, nil
}

// RecoveredPanic counts a panic recovered while a query ran (the query
// failed, the server did not).
func (r *Registry) RecoveredPanic() { r.stats.recoveredPanics.Add(1) }

// Statistics implements stats.Reporter: 1.x's queryExecutor statistic.
func (r *Registry) Statistics(tags map[string]string) []stats.Statistic {
	r.mu.Lock()
	active := len(r.mu.tasks)
	r.mu.Unlock()
	return []stats.Statistic{{Name: "queryExecutor", Tags: tags, Values: map[string]any{
		"queriesActive":   int64(active),
		"queriesExecuted": r.stats.executed.Load(),
		"queriesFinished": r.stats.finished.Load(),
		"queryDurationNs": r.stats.durationNs.Load(),
		"recoveredPanics": r.stats.recoveredPanics.Load(),
	}}}
}

// Kill stops a running query: its context is cancelled with
// ErrQueryInterrupted. The query stays listed (status "killed") until it
// has stopped.
func (r *Registry) Kill(id uint64) error {
	r.mu.Lock()
	t := r.mu.tasks[id]
	r.mu.Unlock()
	if t == nil {
		return &NoSuchQueryError{ID: id}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.killed {
		return ErrAlreadyKilled
	}
	t.killed = true
	t.cancel(ErrQueryInterrupted)
	return nil
}

// QueryInfo describes a running query.
type QueryInfo struct {
	ID       uint64
	Query    string
	Database string
	Duration time.Duration
	Killed   bool
}

// Queries returns the running queries, by id.
func (r *Registry) Queries() []QueryInfo {
	now := r.opts.Now()
	r.mu.Lock()
	tasks := slices.Collect(maps.Values(r.mu.tasks))
	r.mu.Unlock()
	slices.SortFunc(tasks, func(a, b *Task) int { return cmpUint64(a.ID, b.ID) })
	out := make([]QueryInfo, 0, len(tasks))
	for _, t := range tasks {
		t.mu.Lock()
		killed := t.killed
		t.mu.Unlock()
		out = append(out, QueryInfo{ID: t.ID, Query: t.Query, Database: t.Database, Duration: now.Sub(t.start), Killed: killed})
	}
	return out
}

// ShowQueries is the answer to SHOW QUERIES: one row per running query with
// 1.x's columns qid, query, database, duration and status. Durations are
// truncated to the largest unit they reach (s, ms or µs), as in 1.x.
func (r *Registry) ShowQueries() *Row {
	row := &Row{Columns: []string{"qid", "query", "database", "duration", "status"}}
	for _, q := range r.Queries() {
		d := q.Duration
		switch {
		case d >= time.Second:
			d -= d % time.Second
		case d >= time.Millisecond:
			d -= d % time.Millisecond
		case d >= time.Microsecond:
			d -= d % time.Microsecond
		}
		status := "running"
		if q.Killed {
			status = "killed"
		}
		row.Values = append(row.Values, []any{q.ID, q.Query, q.Database, d.String(), status})
	}
	return row
}

// Close kills every running query with ErrQueryEngineShutdown and refuses
// new ones.
func (r *Registry) Close() error {
	r.mu.Lock()
	r.mu.closed = true
	tasks := slices.Collect(maps.Values(r.mu.tasks))
	r.mu.Unlock()
	for _, t := range tasks {
		t.cancel(ErrQueryEngineShutdown)
	}
	return nil
}

func cmpUint64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
