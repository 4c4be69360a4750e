package query

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/influxdata/influxql"
)

// EngineOptions configure an Engine; the limits are [coordinator]'s.
type EngineOptions struct {
	// MaxSelectPointN fails a query that reads more points (0: no limit).
	MaxSelectPointN int
	// MaxSelectSeriesN fails a query that reads more series (0: no limit).
	MaxSelectSeriesN int
	// MaxSelectBucketsN fails a GROUP BY time query with more buckets
	// (0: no limit).
	MaxSelectBucketsN int
	// QueryTimeout, MaxConcurrentQueries and LogQueriesAfter configure the
	// engine's Registry.
	QueryTimeout         time.Duration
	MaxConcurrentQueries int
	LogQueriesAfter      time.Duration
	// Workers bounds the goroutines that read the output series of one
	// query in parallel; 0 means GOMAXPROCS.
	Workers int
	// DisablePushdown makes aggregates decode every block instead of using
	// block statistics, and raw queries build every row instead of letting
	// a field comparison drive the read (for benchmarks and differential
	// tests).
	DisablePushdown bool
	// PointsWriter writes the points of SELECT … INTO; nil refuses such
	// statements with ErrNoPointsWriter.
	PointsWriter PointsWriter
	// Logger receives slow-query and error messages; nil discards them.
	Logger *slog.Logger
	// Now is the clock (now() in queries); nil means time.Now.
	Now func() time.Time
}

// Engine runs SELECT statements. It is safe for concurrent use.
type Engine struct {
	opts     EngineOptions
	mapper   ShardMapper
	meta     MetaReader
	logger   *slog.Logger
	registry *Registry
}

// NewEngine returns an engine that reads the shards mapper finds, with the
// databases meta knows.
func NewEngine(opts EngineOptions, mapper ShardMapper, meta MetaReader) *Engine {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Engine{
		opts:   opts,
		mapper: mapper,
		meta:   meta,
		logger: logger,
		registry: NewRegistry(RegistryOptions{
			MaxConcurrentQueries: opts.MaxConcurrentQueries,
			QueryTimeout:         opts.QueryTimeout,
			LogQueriesAfter:      opts.LogQueriesAfter,
			Logger:               logger,
			Now:                  opts.Now,
		}),
	}
}

// Registry returns the engine's registry of running queries, for SHOW
// QUERIES and KILL QUERY. A statement executor attaches each query to it
// (all statements of a request under one qid); Select attaches a statement
// itself when its context carries no task.
func (e *Engine) Registry() *Registry { return e.registry }

// Close kills the running queries.
func (e *Engine) Close() error { return e.registry.Close() }

// Select runs one SELECT and calls emit with its results, in order: one
// Result when opts.ChunkSize is 0, otherwise Results of one series (piece)
// of at most ChunkSize rows each, with Partial set on every one but the
// last and Row.Partial set on a piece when its series continues in the
// next, as 1.x's chunked responses. A statement that fails is reported as a
// Result whose Err holds 1.x's text (after the chunks already sent). The
// StatementID of the results is left to the caller. Select returns an
// error only when emit does (the receiver is gone).
//
// A SELECT … INTO writes its rows through EngineOptions.PointsWriter and
// answers with one row, {"time": 0, "written": N} (see into.go).
func (e *Engine) Select(ctx context.Context, stmt *influxql.SelectStatement, opts ExecutionOptions, emit func(*Result) error) error {
	if TaskFromContext(ctx) == nil {
		qctx, _, detach, err := e.registry.Attach(ctx, stmt.String(), opts.Database)
		if err != nil {
			return emit(&Result{Err: err})
		}
		defer detach()
		ctx = qctx
	}
	if err := authorize(stmt, opts); err != nil {
		return emit(&Result{Err: err})
	}
	if stmt.Target != nil {
		return e.selectInto(ctx, stmt, opts, emit)
	}
	return e.selectRows(ctx, stmt, opts, emit)
}

// selectRows runs a SELECT and emits its rows (see Select).
func (e *Engine) selectRows(ctx context.Context, stmt *influxql.SelectStatement, opts ExecutionOptions, emit func(*Result) error) error {
	now := e.opts.Now()
	p, sets, err := e.prepare(ctx, stmt, opts, now)
	if err == nil {
		if cerr := ctx.Err(); cerr != nil {
			err = context.Cause(ctx)
		}
	}
	if err != nil {
		em := newEmitter(nil, opts.ChunkSize, 0, emit)
		return em.finish(err)
	}
	maxRows := 0
	if opts.ChunkSize <= 0 && opts.MaxRowLimit > 0 {
		// The handler cuts the result at max-row-limit; one row more tells
		// it that rows were cut, and the rest need not be read.
		maxRows = opts.MaxRowLimit + 1
	}
	em := newEmitter(p.columns, opts.ChunkSize, maxRows, emit)
	err = e.execute(ctx, p, sets, em)
	return em.finish(err)
}

// authorize checks that the user may read every database the statement
// reads (nil User: authentication is off).
func authorize(stmt *influxql.SelectStatement, opts ExecutionOptions) error {
	u := opts.User
	if u == nil || u.IsAdmin() {
		return nil
	}
	var check func(s *influxql.SelectStatement) error
	check = func(s *influxql.SelectStatement) error {
		for _, src := range s.Sources {
			switch src := src.(type) {
			case *influxql.SubQuery:
				if err := check(src.Statement); err != nil {
					return err
				}
			case *influxql.Measurement:
				db := src.Database
				if db == "" {
					db = opts.Database
				}
				if db != "" && !u.CanRead(db) {
					return &AuthorizationError{User: u.Name(), Statement: stmt.String(), Database: db}
				}
			}
		}
		return nil
	}
	return check(stmt)
}

// prepare compiles, maps and plans a statement, and resolves its series.
func (e *Engine) prepare(ctx context.Context, stmt *influxql.SelectStatement, opts ExecutionOptions, now time.Time) (*plan, []*tagSet, error) {
	c, err := compile(stmt, now)
	if err != nil {
		return nil, nil, err
	}
	return e.prepareCompiled(ctx, c, opts)
}

// prepareCompiled maps and plans a compiled statement (running its
// subqueries) and resolves its series.
func (e *Engine) prepareCompiled(ctx context.Context, c *compiled, opts ExecutionOptions) (*plan, []*tagSet, error) {
	if err := e.resolveSources(c.stmt, opts); err != nil {
		return nil, nil, err
	}
	readMin, readMax := c.tmin, c.tmax
	if c.interval > 0 && e.opts.MaxSelectBucketsN > 0 {
		w := windower{interval: c.interval, offset: c.ivOffset, loc: c.loc}
		last := w.start(c.tmax)
		if c.tmin == influxql.MinTime {
			// Without a lower bound only the last buckets the limit allows
			// are read, as 1.x maps its shards.
			if span := c.interval * int64(e.opts.MaxSelectBucketsN-1); span/c.interval == int64(e.opts.MaxSelectBucketsN-1) && last > influxql.MinTime+span {
				readMin = last - span
			}
		} else if n := (last-w.start(c.tmin))/c.interval + 1; n > int64(e.opts.MaxSelectBucketsN) {
			return nil, nil, &LimitError{Kind: ErrMaxSelectBucketsLimit, N: int(n), Limit: e.opts.MaxSelectBucketsN}
		}
	}
	if ext := int64(extraIntervals(c)) * c.interval; ext > 0 {
		// Transformations read intervals before the range (after it when
		// descending), so that their first bucket has a predecessor.
		if c.ascending {
			if readMin > influxql.MinTime+ext {
				readMin -= ext
			}
		} else if readMax < influxql.MaxTime-ext {
			readMax += ext
		}
	}
	// A subquery reads only what the statement around it maps (1.x maps
	// the shards of every level with the outer time range).
	readMin, readMax = max(readMin, c.mapMin), min(readMax, c.mapMax)
	if err := ctx.Err(); err != nil {
		return nil, nil, context.Cause(ctx)
	}
	sources, err := e.mapSources(ctx, c, opts, readMin, readMax)
	if err != nil {
		return nil, nil, err
	}
	rewritten, err := rewriteFields(c.stmt, sources)
	if err != nil {
		return nil, nil, err
	}
	if err := validateTypes(rewritten); err != nil {
		return nil, nil, err
	}
	p := &plan{
		c:          c,
		stmt:       rewritten,
		columns:    columnNames(rewritten),
		sources:    sources,
		dims:       mergeDims(dimensions(rewritten), c.extraDims),
		limit:      rewritten.Limit,
		offset:     rewritten.Offset,
		slimit:     rewritten.SLimit + c.slimitAdd,
		soffset:    rewritten.SOffset + c.soffsetAdd,
		slimitDims: c.slimitDims,
		readMin:    readMin,
		readMax:    readMax,
		noPushdown: e.opts.DisablePushdown,
		seed:       xxhash.Sum64String(c.text) ^ uint64(c.now.UnixNano()),
	}
	if allVirtual(sources) {
		// SLIMIT and SOFFSET went into the subqueries, where 1.x applies
		// them.
		p.slimit, p.soffset = 0, 0
	}
	p.planCondition(typeRefs(c.cond, rewritten.Sources, newFieldMapper(sources)))
	if len(c.calls) > 0 {
		if err := p.buildAgg(); err != nil {
			return nil, nil, err
		}
	} else {
		p.buildRaw()
	}
	sets, err := e.resolveSeries(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	return p, sets, nil
}

// columnNames returns the statement's output columns. Unlike influxql's
// ColumnNames, the tag columns of top() and bottom() are there for SELECT
// … INTO too: 1.x writes them as fields.
func columnNames(stmt *influxql.SelectStatement) []string {
	target := stmt.Target
	stmt.Target = nil
	defer func() { stmt.Target = target }()
	return stmt.ColumnNames()
}

// mergeDims adds extra tags to sorted dims.
func mergeDims(dims, extra []string) []string {
	if len(extra) == 0 {
		return dims
	}
	out := append(slices.Clone(dims), extra...)
	sort.Strings(out)
	return slices.Compact(out)
}

// typeRefs assigns field and tag types to the references of a condition,
// as influxql's RewriteFields does to the fields.
func typeRefs(cond influxql.Expr, sources influxql.Sources, m *fieldMapper) influxql.Expr {
	if cond == nil {
		return nil
	}
	cond = influxql.CloneExpr(cond)
	influxql.WalkFunc(cond, func(n influxql.Node) {
		ref, ok := n.(*influxql.VarRef)
		if !ok || (ref.Type != influxql.Unknown && ref.Type != influxql.AnyField) {
			return
		}
		typ := influxql.EvalType(ref, sources, m)
		if typ == influxql.Tag && ref.Type == influxql.AnyField {
			return
		}
		ref.Type = typ
	})
	return cond
}

// validateTypes rejects expressions that mix incompatible types, with 1.x's
// "type error" text.
func validateTypes(stmt *influxql.SelectStatement) error {
	valuer := influxql.TypeValuerEval{TypeMapper: callTypes{}}
	for _, f := range stmt.Fields {
		if _, err := valuer.EvalType(f.Expr); err != nil {
			return err
		}
	}
	return nil
}

// callTypes maps calls to their result types for validateTypes.
type callTypes struct{}

func (callTypes) MapType(*influxql.Measurement, string) influxql.DataType { return influxql.Unknown }

func (callTypes) CallType(name string, args []influxql.DataType) (influxql.DataType, error) {
	return (&fieldMapper{}).CallType(name, args)
}

// jobMsg is a batch of output rows of one tag set, or its error.
type jobMsg struct {
	rows [][]any
	err  error
}

// errStopped ends the workers of a query whose consumer stopped early.
var errStopped = errors.New("query stopped")

// execute runs the tag sets on a bounded pool of workers and hands their
// rows to the emitter in order. A tag set's rows travel in batches over a
// small buffered channel, so a worker that runs ahead blocks instead of
// buffering its whole output; the consumer always drains the earliest tag
// set, which was started first, so the pool cannot deadlock.
func (e *Engine) execute(ctx context.Context, p *plan, sets []*tagSet, em *emitter) error {
	if len(sets) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(errStopped)
	rc := &readCtx{ctx: ctx, maxPoints: e.opts.MaxSelectPointN, tmin: p.readMin, tmax: p.readMax, stats: p.stats}
	workers := min(e.opts.Workers, len(sets))

	type job struct {
		ts  *tagSet
		out chan jobMsg
	}
	jobs := make(chan *job, workers)
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(jobs)
		for _, ts := range sets {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			j := &job{ts: ts, out: make(chan jobMsg, 4)}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				defer close(j.out)
				e.runJob(ctx, rc, p, j.ts, j.out, max(1, e.opts.Workers/len(sets)))
			}()
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
		}
	}()

	var err error
consume:
	for j := range jobs {
		em.begin(j.ts.name, j.ts.tags)
		for msg := range j.out {
			if msg.err != nil {
				err = msg.err
				break consume
			}
			for _, row := range msg.rows {
				if aerr := em.add(row); aerr != nil {
					err = aerr
					break consume
				}
				if em.full() {
					break consume
				}
			}
		}
	}
	cancel(errStopped)
	// Let blocked workers finish.
	for j := range jobs {
		for range j.out {
		}
	}
	wg.Wait()
	if err == nil {
		if cerr := context.Cause(ctx); cerr != nil && !errors.Is(cerr, errStopped) {
			err = cerr
		}
	}
	if errors.Is(err, errStopped) {
		err = nil
	}
	return err
}

// runJob computes one tag set and sends its rows in batches.
func (e *Engine) runJob(ctx context.Context, rc *readCtx, p *plan, ts *tagSet, out chan<- jobMsg, par int) {
	const batchSize = 256
	var batch [][]any
	send := func(m jobMsg) bool {
		select {
		case out <- m:
			return true
		case <-ctx.Done():
			return false
		}
	}
	sink := func(row []any) (bool, error) {
		batch = append(batch, row)
		if len(batch) >= batchSize {
			if !send(jobMsg{rows: batch}) {
				return false, nil
			}
			batch = nil
		}
		return true, nil
	}
	var err error
	defer func() {
		// A panic here is a bug; it fails this query, not the server.
		if r := recover(); r != nil {
			e.Registry().RecoveredPanic()
			e.logger.Error("query panicked", "panic", r, "stack", string(debug.Stack()))
			send(jobMsg{err: fmt.Errorf("BUG: query panicked: %v", r)})
		}
	}()
	if p.raw != nil {
		err = e.runRaw(rc, p, ts, sink)
	} else {
		x := &aggRun{p: p, ap: p.agg, rc: rc, par: par, rng: rand.New(rand.NewPCG(p.seed, xxhash.Sum64String(ts.name+"\x00"+ts.key)))}
		err = x.run(ts, sink)
	}
	if err != nil {
		send(jobMsg{err: err})
		return
	}
	if len(batch) > 0 {
		send(jobMsg{rows: batch})
	}
}
