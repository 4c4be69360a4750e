package continuousquery

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/query"
	"github.com/stratadb/strata/internal/stats"
	"github.com/stratadb/strata/internal/vfs"
)

// DefaultMaxCatchUp is how many GROUP BY intervals one run of a query may
// cover at most when it comes back after missed runs.
const DefaultMaxCatchUp = 1000

// catchUpBatch is how many intervals one SELECT ... INTO covers at most;
// a longer window runs as several queries, oldest first.
const catchUpBatch = 100

// Config is [continuous_queries].
type Config struct {
	Enabled bool
	// LogEnabled logs every run (and what it wrote) at info level.
	LogEnabled bool
	// QueryStatsEnabled reports every run to Options.OnQueryStats (1.x
	// writes them to the monitor's database as "cq_query" points).
	QueryStatsEnabled bool
	// RunInterval is how often the service checks which queries are due.
	RunInterval time.Duration
	// MaxCatchUp bounds the window of a run after missed runs, in GROUP BY
	// intervals: older windows are skipped (and logged). 0 means
	// DefaultMaxCatchUp; a negative value keeps no state across restarts,
	// as 1.x.
	MaxCatchUp int
}

// MetaStore is the part of meta the service reads: the databases, their
// default retention policies and continuous queries.
type MetaStore interface {
	Data() *meta.Data
}

// QueryExecutor runs queries; *coordinator.StatementExecutor implements
// it. The channel is closed once every result is sent.
type QueryExecutor interface {
	ExecuteQuery(ctx context.Context, q *influxql.Query, opts query.ExecutionOptions) <-chan *query.Result
}

// QueryStats describes one run of a continuous query (1.x's cq_query
// point: tags db and cq, fields durationNs, startTime, endTime,
// pointsWrittenOK).
type QueryStats struct {
	Database, Name string
	Start, End     time.Time
	Duration       time.Duration
	PointsWritten  int64
}

// Options are the service's collaborators besides meta and the executor.
type Options struct {
	// Logger receives the service's messages; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// FS and StatePath locate the file of last runs; an empty StatePath
	// keeps them in memory only (no catch-up after a restart).
	FS        vfs.FS
	StatePath string
	// OnQueryStats receives every run when QueryStatsEnabled is set.
	OnQueryStats func(QueryStats)
}

// Service runs continuous queries.
type Service struct {
	cfg       Config
	meta      MetaStore
	exec      QueryExecutor
	logger    *slog.Logger
	now       func() time.Time
	fs        vfs.FS
	statePath string
	onStats   func(QueryStats)

	// runMu serialises the passes over the queries (the loop's and
	// RunAt's) and guards runs and parsed.
	runMu  sync.Mutex
	runs   map[runKey]lastRun
	parsed map[runKey]*cq // parsed queries, so a pass parses only new texts

	queryOK, queryFail atomic.Int64

	mu struct {
		sync.Mutex
		cancel context.CancelFunc // non-nil while open
	}
	wg sync.WaitGroup // the loop goroutine
}

// New returns a service; nothing runs until Open.
func New(cfg Config, m MetaStore, exec QueryExecutor, opts Options) *Service {
	if cfg.MaxCatchUp == 0 {
		cfg.MaxCatchUp = DefaultMaxCatchUp
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.FS == nil {
		opts.FS = vfs.Default
	}
	if cfg.MaxCatchUp < 0 {
		opts.StatePath = ""
	}
	return &Service{
		cfg: cfg, meta: m, exec: exec,
		logger: opts.Logger, now: opts.Now,
		fs: opts.FS, statePath: opts.StatePath, onStats: opts.OnQueryStats,
		runs:   map[runKey]lastRun{},
		parsed: map[runKey]*cq{},
	}
}

// Open loads the last runs and starts the loop; a disabled service does
// nothing. A state file that cannot be read is logged and ignored: the
// queries then start as after a first start.
func (s *Service) Open() error {
	if !s.cfg.Enabled {
		return nil
	}
	if s.cfg.RunInterval <= 0 {
		return fmt.Errorf("%w (got %s)", ErrInvalidRunInterval, s.cfg.RunInterval)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.cancel != nil {
		return ErrAlreadyOpen
	}
	if s.statePath != "" {
		runs, err := loadState(s.fs, s.statePath)
		if err != nil {
			s.logger.Warn("ignoring the last runs of continuous queries", "err", err)
			runs = map[runKey]lastRun{}
		}
		s.runMu.Lock()
		s.runs = runs
		s.runMu.Unlock()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.cancel = cancel
	s.logger.Info("starting continuous query service", "run_interval", s.cfg.RunInterval)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.loop(ctx)
	}()
	return nil
}

// Close stops the loop, cancelling a running query, and waits for it. It
// may be called more than once.
func (s *Service) Close() error {
	s.mu.Lock()
	cancel := s.mu.cancel
	s.mu.cancel = nil
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	s.wg.Wait()
	return nil
}

func (s *Service) loop(ctx context.Context) {
	t := time.NewTimer(s.cfg.RunInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.RunAt(ctx, s.now())
			t.Reset(s.cfg.RunInterval)
		}
	}
}

// Statistics reports 1.x's "cq" statistic: queryOk and queryFail count the
// runs that executed without and with an error.
func (s *Service) Statistics(tags map[string]string) []stats.Statistic {
	return []stats.Statistic{{
		Name: "cq",
		Tags: tags,
		Values: map[string]any{
			"queryOk":   s.queryOK.Load(),
			"queryFail": s.queryFail.Load(),
		},
	}}
}

// RunAt runs, in order, every continuous query that is due at now (the
// loop calls it every run-interval with the clock's time).
func (s *Service) RunAt(ctx context.Context, now time.Time) {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	changed := false
	live := map[runKey]bool{}
	data := s.meta.Data()
	for i := range data.Databases {
		di := &data.Databases[i]
		for _, cqi := range di.ContinuousQueries {
			if ctx.Err() != nil {
				return
			}
			k := runKey{di.Name, cqi.Name}
			live[k] = true
			if s.runQuery(ctx, di, cqi, now) {
				changed = true
			}
		}
	}
	for k := range s.runs {
		if !live[k] {
			delete(s.runs, k) // dropped: a new query of that name starts afresh
			changed = true
		}
	}
	for k := range s.parsed {
		if !live[k] {
			delete(s.parsed, k)
		}
	}
	if changed && s.statePath != "" {
		if err := saveState(s.fs, s.statePath, s.runs); err != nil {
			s.logger.Error("cannot save the last runs of continuous queries", "err", err)
		}
	}
}

// runQuery runs one query if it is due; it reports whether its last run
// changed. runMu is held.
func (s *Service) runQuery(ctx context.Context, di *meta.DatabaseInfo, cqi meta.ContinuousQueryInfo, now time.Time) bool {
	k := runKey{di.Name, cqi.Name}
	q := s.parsed[k]
	if q == nil || q.text != cqi.Query {
		var err error
		if q, err = parseCQ(di.Name, cqi.Name, cqi.Query); err != nil {
			s.logger.Error("cannot run continuous query", "db", di.Name, "name", cqi.Name, "err", err)
			return false
		}
		s.parsed[k] = q
	}
	prev, has := s.runs[k]
	if has && prev.query != cqi.Query {
		has = false // another query under the same name
	}
	due, next := q.shouldRun(prev.at, has, now)
	if !due {
		return false
	}
	s.runs[k] = lastRun{query: cqi.Query, at: q.lastRunAt(now)}
	start, end, ok := q.window(next, now)
	if !ok {
		return true
	}
	if earliest := end.Add(-time.Duration(s.cfg.MaxCatchUp) * q.interval); start.Before(earliest) {
		s.logger.Warn("continuous query missed more runs than it catches up; skipping the oldest windows",
			"db", q.db, "name", q.name, "skipped_start", start, "skipped_end", earliest)
		start = earliest
	}
	if q.raw {
		s.queryFail.Add(1)
		s.logger.Error("cannot run continuous query", "db", q.db, "name", q.name, "err", ErrRawQuery)
		return true
	}
	began := s.now()
	var written int64
	for from := start; from.Before(end); {
		to := from.Add(catchUpBatch * q.interval)
		if to.After(end) {
			to = end
		}
		n, err := s.execute(ctx, q, di, from, to)
		written += n
		if err != nil {
			s.queryFail.Add(1)
			s.logger.Error("continuous query failed", "db", q.db, "name", q.name,
				"start", from, "end", to, "err", err)
			return true
		}
		from = to
	}
	s.queryOK.Add(1)
	took := s.now().Sub(began)
	if s.cfg.LogEnabled {
		s.logger.Info("finished continuous query", "db", q.db, "name", q.name,
			"start", start, "end", end, "written", written, "duration", took)
	}
	if s.cfg.QueryStatsEnabled && s.onStats != nil {
		s.onStats(QueryStats{Database: q.db, Name: q.name, Start: start, End: end, Duration: took, PointsWritten: written})
	}
	return true
}

// execute runs the query's SELECT ... INTO over [start, end) and returns
// how many points it wrote.
func (s *Service) execute(ctx context.Context, q *cq, di *meta.DatabaseInfo, start, end time.Time) (int64, error) {
	stmt := q.stmt.Clone()
	if t := q.stmt.Target; t != nil && t.Measurement != nil && stmt.Target != nil {
		stmt.Target.Measurement.IsTarget = t.Measurement.IsTarget // Clone drops it
		if stmt.Target.Measurement.RetentionPolicy == "" {
			stmt.Target.Measurement.RetentionPolicy = di.DefaultRetentionPolicy
		}
	}
	if err := stmt.SetTimeRange(start, end); err != nil {
		return 0, fmt.Errorf("set time range: %w", err)
	}
	if s.cfg.LogEnabled {
		s.logger.Info("executing continuous query", "db", q.db, "name", q.name, "start", start, "end", end)
	}
	opts := query.ExecutionOptions{Database: q.db, User: serviceUser{}}
	var written int64
	var firstErr error
	for r := range s.exec.ExecuteQuery(ctx, &influxql.Query{Statements: influxql.Statements{stmt}}, opts) {
		if r.Err != nil && firstErr == nil {
			firstErr = r.Err
		}
		written += writtenCount(r)
	}
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return written, firstErr
}

// writtenCount reads the "written" column of SELECT ... INTO's result.
func writtenCount(r *query.Result) int64 {
	var n int64
	for _, row := range r.Series {
		for i, c := range row.Columns {
			if c != "written" {
				continue
			}
			for _, v := range row.Values {
				if i < len(v) {
					switch w := v[i].(type) {
					case int64:
						n += w
					case int:
						n += int64(w)
					case uint64:
						n += int64(w)
					case float64:
						n += int64(w)
					}
				}
			}
		}
	}
	return n
}

// serviceUser is who continuous queries run as: the server itself, which
// may read and write every database (with authentication on, an anonymous
// query would be refused).
type serviceUser struct{}

func (serviceUser) Name() string        { return "continuous query service" }
func (serviceUser) IsAdmin() bool       { return true }
func (serviceUser) CanRead(string) bool { return true }
func (serviceUser) CanWrite(string) bool {
	return true
}
