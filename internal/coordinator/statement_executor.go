package coordinator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/query"
)

// MetaStore is what the statement executor reads and changes in meta;
// *meta.Store implements it. Every method may be called concurrently.
type MetaStore interface {
	// Data returns the current snapshot, read-only.
	Data() *meta.Data
	// Apply runs fn on a clone of the snapshot and publishes the clone
	// when fn returns nil.
	Apply(fn func(*meta.Data) error) error
	CreateDatabase(name string) (*meta.DatabaseInfo, error)
	CreateDatabaseWithRetentionPolicy(name string, spec *meta.RetentionPolicySpec) (*meta.DatabaseInfo, error)
	// CreateUser and SetPassword hash the password themselves (bcrypt,
	// outside the serialised Apply).
	CreateUser(name, password string, admin bool) error
	SetPassword(name, password string) error
}

// DataDropper removes stored data once meta has dropped it;
// *storage.Store implements it. Each call is idempotent: removing what is
// already gone is not an error.
type DataDropper interface {
	DeleteDatabase(db string) error
	DeleteRetentionPolicy(db, rp string) error
	DeleteShard(id uint64) error
}

// SelectFunc runs a SELECT statement and passes its results to emit,
// possibly in several chunks (each Partial but the last, as
// query.ExecutionOptions.ChunkSize asks). emit returns an error once the
// client is gone; the function should then stop and return it.
type SelectFunc func(ctx context.Context, stmt *influxql.SelectStatement, opts query.ExecutionOptions, emit func(*query.Result) error) error

// ExplainFunc runs an EXPLAIN statement and passes its result to emit, as
// SelectFunc does.
type ExplainFunc func(ctx context.Context, stmt *influxql.ExplainStatement, opts query.ExecutionOptions, emit func(*query.Result) error) error

// StatementExecutor runs InfluxQL queries: the meta statements itself, and
// SELECT through the Select hook. The zero value of every optional field
// works; Meta and Store are required.
type StatementExecutor struct {
	Meta  MetaStore
	Store DataDropper

	// AuthEnabled is [http] auth-enabled. With it set, a request without a
	// user is in the bootstrap state (see authorizeQuery); without it, a
	// request without a user may run anything.
	AuthEnabled bool

	// Select runs SELECT statements; nil answers them with
	// ErrNotImplemented.
	Select SelectFunc

	// Explain runs EXPLAIN [ANALYZE] statements (query.Engine.Explain);
	// nil answers them with ErrNotImplemented.
	Explain ExplainFunc

	// Stats and Diagnostics answer SHOW STATS [FOR 'module'] and SHOW
	// DIAGNOSTICS [FOR 'module'] from the monitor; nil answers them with
	// ErrNotImplemented.
	Stats       func(module string) []*query.Row
	Diagnostics func(module string) []*query.Row

	// ShowQueries and KillQuery answer SHOW QUERIES and KILL QUERY from
	// the query engine's registry of running queries.
	ShowQueries func() *query.Row
	KillQuery   func(id uint64) error
	// Attach registers a running query (its text passwords redacted) and
	// returns the context it runs under and the function that ends it.
	Attach func(ctx context.Context, text, db string) (context.Context, func(), error)

	// Logger receives each statement at debug level (passwords redacted)
	// and recovered panics; nil discards.
	Logger *slog.Logger
	// RecoveredPanic, when set, counts a panic recovered while a
	// statement ran (the queryExecutor statistic recoveredPanics).
	RecoveredPanic func()

	// Now is the clock of DROP SHARD's deletion time; nil is time.Now.
	Now func() time.Time

	// --- schema, delete, continuous query and subscription statements ---

	// Series reads the series index and the shards for SHOW MEASUREMENTS,
	// SERIES, TAG KEYS, TAG VALUES, FIELD KEYS and their cardinalities,
	// and deletes for DELETE, DROP SERIES and DROP MEASUREMENT; nil uses
	// Store when it implements SeriesStore (as *storage.Store does).
	Series SeriesStore
}

// ExecuteQuery runs the statements of q in order and sends their results
// on the returned channel, which it closes when done or once ctx ends.
//
// The whole query is authorized first: if the user may not run one of its
// statements, the only result is an *AuthorizationError and nothing runs.
// Each statement's results carry its index as StatementID. As in 1.x, a
// failed statement ends the query: its result carries the error and every
// later statement gets a result with ErrNotExecuted.
func (e *StatementExecutor) ExecuteQuery(ctx context.Context, q *influxql.Query, opts query.ExecutionOptions) <-chan *query.Result {
	out := make(chan *query.Result)
	go func() {
		defer close(out)
		e.executeQuery(ctx, q, opts, out)
	}()
	return out
}

func (e *StatementExecutor) executeQuery(ctx context.Context, q *influxql.Query, opts query.ExecutionOptions, out chan<- *query.Result) {
	// Results are sent while the request lives; the statements run under
	// runCtx, which KILL QUERY and query-timeout also end. A query ended
	// that way still tells its client why (1.x's "query interrupted").
	reqCtx := ctx
	send := func(r *query.Result) bool {
		select {
		case out <- r:
			return true
		case <-reqCtx.Done():
			return false
		}
	}
	log := e.logger()
	current := 0
	defer func() {
		// A bug in a statement (the SELECT engine above all) must not take
		// the server down: this goroutine is outside any HTTP recovery.
		if r := recover(); r != nil {
			if e.RecoveredPanic != nil {
				e.RecoveredPanic()
			}
			text := q.String()
			if current < len(q.Statements) {
				text = q.Statements[current].String()
			}
			log.Error("panic while executing a statement", "statement", text, "panic", r, "stack", string(debug.Stack()))
			send(&query.Result{StatementID: current, Err: fmt.Errorf("%s [panic:%v]", text, r)})
		}
	}()

	if err := e.authorizeQuery(q, opts); err != nil {
		send(&query.Result{Err: err})
		return
	}
	if e.Attach != nil {
		// The whole query is one entry of SHOW QUERIES (it lists itself,
		// as in 1.x), bounded by query-timeout and max-concurrent-queries,
		// and KILL QUERY cancels ctx.
		actx, detach, err := e.Attach(ctx, q.String(), opts.Database)
		if err != nil {
			send(&query.Result{Err: err})
			return
		}
		defer detach()
		ctx = actx
	}
	// stopped reports whether the statements must stop, sending the reason
	// when the query was killed or timed out rather than abandoned.
	stopped := func(i int) bool {
		if ctx.Err() == nil {
			return false
		}
		if reqCtx.Err() == nil {
			send(&query.Result{StatementID: i, Err: context.Cause(ctx)})
		}
		return true
	}
	for i, stmt := range q.Statements {
		current = i
		if stopped(i) {
			return
		}
		log.Debug("executing statement", "statement", stmt.String(), "database", opts.Database)
		err := e.executeStatement(ctx, i, stmt, opts, send)
		if err == nil {
			continue
		}
		if stopped(i) {
			return // the client is gone, or the query was killed or timed out
		}
		if !errors.Is(err, errFailed) && !send(&query.Result{StatementID: i, Err: err}) {
			return
		}
		for j := i + 1; j < len(q.Statements); j++ {
			if !send(&query.Result{StatementID: j, Err: ErrNotExecuted}) {
				return
			}
		}
		return
	}
}

// executeStatement runs one statement and sends its results. It returns
// the statement's error, which the caller sends; a statement that failed
// after sending a result that carries its error returns errFailed.
func (e *StatementExecutor) executeStatement(ctx context.Context, id int, stmt influxql.Statement, opts query.ExecutionOptions, send func(*query.Result) bool) error {
	if s, ok := stmt.(*influxql.SelectStatement); ok {
		return e.executeSelect(ctx, id, s, opts, send)
	}
	// EXPLAIN goes to the query engine like SELECT (added with the engine's
	// EXPLAIN support).
	if s, ok := stmt.(*influxql.ExplainStatement); ok && e.Explain != nil {
		return e.executeExplain(ctx, id, s, opts, send)
	}
	res := &query.Result{StatementID: id}
	if opts.ReadOnly && changesState(stmt) {
		res.Messages = append(res.Messages, readOnlyWarning(stmt))
	}
	var err error
	switch s := stmt.(type) {
	case *influxql.CreateDatabaseStatement:
		err = e.createDatabase(s)
	case *influxql.DropDatabaseStatement:
		err = e.dropDatabase(s)
	case *influxql.ShowDatabasesStatement:
		res.Series = e.showDatabases(opts.User)
	case *influxql.CreateRetentionPolicyStatement:
		err = e.createRetentionPolicy(s)
	case *influxql.AlterRetentionPolicyStatement:
		err = e.alterRetentionPolicy(s)
	case *influxql.DropRetentionPolicyStatement:
		err = e.dropRetentionPolicy(s)
	case *influxql.ShowRetentionPoliciesStatement:
		res.Series, err = e.showRetentionPolicies(s, opts.Database)
	case *influxql.ShowShardsStatement:
		res.Series = e.showShards()
	case *influxql.ShowShardGroupsStatement:
		res.Series = e.showShardGroups()
	case *influxql.DropShardStatement:
		err = e.dropShard(s)
	case *influxql.CreateUserStatement:
		err = e.Meta.CreateUser(s.Name, s.Password, s.Admin)
	case *influxql.DropUserStatement:
		err = e.Meta.Apply(func(d *meta.Data) error { return d.DropUser(s.Name) })
	case *influxql.SetPasswordUserStatement:
		err = e.Meta.SetPassword(s.Name, s.Password)
	case *influxql.GrantStatement:
		err = e.grant(s)
	case *influxql.GrantAdminStatement:
		err = e.Meta.Apply(func(d *meta.Data) error { return d.SetAdminPrivilege(s.User, true) })
	case *influxql.RevokeStatement:
		err = e.revoke(s)
	case *influxql.RevokeAdminStatement:
		err = e.Meta.Apply(func(d *meta.Data) error { return d.SetAdminPrivilege(s.User, false) })
	case *influxql.ShowUsersStatement:
		res.Series = e.showUsers()
	case *influxql.ShowGrantsForUserStatement:
		res.Series, err = e.showGrants(s)
	case *influxql.ShowQueriesStatement:
		if e.ShowQueries == nil {
			err = fmt.Errorf("%w: %s", ErrNotImplemented, stmt)
			break
		}
		res.Series = []*query.Row{e.ShowQueries()}
	case *influxql.KillQueryStatement:
		if e.KillQuery == nil {
			err = fmt.Errorf("%w: %s", ErrNotImplemented, stmt)
			break
		}
		err = e.KillQuery(s.QueryID)
	case *influxql.ShowStatsStatement:
		if e.Stats == nil {
			err = fmt.Errorf("%w: %s", ErrNotImplemented, stmt)
			break
		}
		res.Series = e.Stats(s.Module)
	case *influxql.ShowDiagnosticsStatement:
		if e.Diagnostics == nil {
			err = fmt.Errorf("%w: %s", ErrNotImplemented, stmt)
			break
		}
		res.Series = e.Diagnostics(s.Module)
	// --- schema, delete, continuous query and subscription statements ---
	case *influxql.ShowMeasurementsStatement:
		res.Series, err = e.showMeasurements(s, opts)
	case *influxql.ShowSeriesStatement:
		res.Series, err = e.showSeries(s, opts)
	case *influxql.ShowTagKeysStatement:
		res.Series, err = e.showTagKeys(s, opts)
	case *influxql.ShowTagValuesStatement:
		res.Series, err = e.showTagValues(s, opts)
	case *influxql.ShowFieldKeysStatement:
		res.Series, err = e.showFieldKeys(s, opts)
	case *influxql.ShowMeasurementCardinalityStatement:
		res.Series, err = e.showMeasurementCardinality(s, opts)
	case *influxql.ShowSeriesCardinalityStatement:
		res.Series, err = e.showSeriesCardinality(s, opts)
	case *influxql.ShowTagKeyCardinalityStatement:
		res.Series, err = e.showTagKeyCardinality(s, opts)
	case *influxql.ShowTagValuesCardinalityStatement:
		res.Series, err = e.showTagValuesCardinality(s, opts)
	case *influxql.ShowFieldKeyCardinalityStatement:
		res.Series, err = e.showFieldKeyCardinality(s, opts)
	case *influxql.DropMeasurementStatement:
		err = e.dropMeasurement(ctx, s, opts.Database)
	case *influxql.DropSeriesStatement:
		err = e.dropSeries(ctx, s, opts.Database)
	case *influxql.DeleteSeriesStatement:
		err = e.deleteSeries(ctx, s, opts.Database)
	case *influxql.CreateContinuousQueryStatement:
		var q *influxql.CreateContinuousQueryStatement
		if q, err = e.createContinuousQuery(s, opts); err == nil && opts.ReadOnly {
			// 1.x warns with the qualified text it stored.
			res.Messages = []*query.Message{readOnlyWarning(q)}
		}
	case *influxql.DropContinuousQueryStatement:
		err = e.dropContinuousQuery(s)
	case *influxql.ShowContinuousQueriesStatement:
		res.Series = e.showContinuousQueries()
	case *influxql.CreateSubscriptionStatement:
		err = e.createSubscription(s)
	case *influxql.DropSubscriptionStatement:
		err = e.dropSubscription(s)
	case *influxql.ShowSubscriptionsStatement:
		res.Series = e.showSubscriptions()
	default:
		err = fmt.Errorf("%w: %s", ErrNotImplemented, stmt)
	}
	if err != nil {
		return err
	}
	send(res)
	return nil
}

// executeSelect hands a SELECT to the Select hook, numbering its results.
// A SELECT always answers with at least one result, as in 1.x.
func (e *StatementExecutor) executeSelect(ctx context.Context, id int, s *influxql.SelectStatement, opts query.ExecutionOptions, send func(*query.Result) bool) error {
	if e.Select == nil {
		return fmt.Errorf("%w: %s", ErrNotImplemented, s)
	}
	var warning *query.Message
	if opts.ReadOnly && changesState(s) {
		warning = readOnlyWarning(e.qualifiedSelect(s, opts))
	}
	emitted, failed := false, false
	err := e.Select(ctx, s, opts, func(r *query.Result) error {
		if r == nil {
			return nil
		}
		r.StatementID = id
		if warning != nil {
			r.Messages = append(r.Messages, warning)
			warning = nil
		}
		emitted = true
		failed = failed || r.Err != nil
		if !send(r) {
			return ctx.Err()
		}
		return nil
	})
	switch {
	case err != nil:
		return err
	case failed:
		return errFailed
	case !emitted:
		res := &query.Result{StatementID: id}
		if warning != nil {
			res.Messages = []*query.Message{warning}
		}
		send(res)
	}
	return nil
}

// executeExplain hands an EXPLAIN to the Explain hook, numbering its
// result.
func (e *StatementExecutor) executeExplain(ctx context.Context, id int, s *influxql.ExplainStatement, opts query.ExecutionOptions, send func(*query.Result) bool) error {
	failed := false
	err := e.Explain(ctx, s, opts, func(r *query.Result) error {
		r.StatementID = id
		failed = failed || r.Err != nil
		if !send(r) {
			return ctx.Err()
		}
		return nil
	})
	switch {
	case err != nil:
		return err
	case failed:
		return errFailed
	}
	return nil
}

// changesState reports whether 1.x warns about the statement when it comes
// in a GET request. 1.x still runs it (issue #6290 planned to refuse it,
// and never did); DELETE and KILL QUERY get no warning in 1.x either.
func changesState(stmt influxql.Statement) bool {
	switch s := stmt.(type) {
	case *influxql.SelectStatement:
		return s.Target != nil
	case *influxql.AlterRetentionPolicyStatement, *influxql.CreateContinuousQueryStatement,
		*influxql.CreateDatabaseStatement, *influxql.CreateRetentionPolicyStatement,
		*influxql.CreateSubscriptionStatement, *influxql.CreateUserStatement,
		*influxql.DropContinuousQueryStatement, *influxql.DropDatabaseStatement,
		*influxql.DropMeasurementStatement, *influxql.DropSeriesStatement,
		*influxql.DropRetentionPolicyStatement, *influxql.DropShardStatement,
		*influxql.DropSubscriptionStatement, *influxql.DropUserStatement,
		*influxql.GrantStatement, *influxql.GrantAdminStatement,
		*influxql.RevokeStatement, *influxql.RevokeAdminStatement,
		*influxql.SetPasswordUserStatement:
		return true
	}
	return false
}

// qualifiedSelect returns a copy of s with every measurement's database
// and retention policy filled in from the defaults, as 1.x quotes a SELECT
// … INTO in its read-only warning. A name that cannot be qualified (no such
// database) stays as written; the SELECT itself reports that.
func (e *StatementExecutor) qualifiedSelect(s *influxql.SelectStatement, opts query.ExecutionOptions) *influxql.SelectStatement {
	c := s.Clone()
	if s.Target != nil && s.Target.Measurement != nil {
		// Clone drops IsTarget, without which a :MEASUREMENT target
		// (no name) cannot be qualified.
		c.Target.Measurement.IsTarget = s.Target.Measurement.IsTarget
	}
	data := e.Meta.Data()
	influxql.WalkFunc(c, func(n influxql.Node) {
		if m, ok := n.(*influxql.Measurement); ok {
			q := *m
			if qualifyMeasurement(data, &q, opts.Database, opts.RetentionPolicy) == nil {
				m.Database, m.RetentionPolicy = q.Database, q.RetentionPolicy
			}
		}
	})
	return c
}

// readOnlyWarning is 1.x's message for a statement that changes state sent
// with GET. stmt.String() redacts passwords.
func readOnlyWarning(stmt influxql.Statement) *query.Message {
	return &query.Message{
		Level: "warning",
		Text:  fmt.Sprintf("deprecated use of '%s' in a read only context, please use a POST request instead", stmt),
	}
}

func (e *StatementExecutor) logger() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}

func (e *StatementExecutor) now() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}
