package monitor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/stratadb/strata/internal/config"
	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/stats"
)

// The retention policy of the store database, as 1.x creates it.
const (
	// RetentionPolicyName is the policy statistics are written to.
	RetentionPolicyName = "monitor"
	// RetentionPolicyDuration is how long statistics are kept.
	RetentionPolicyDuration = 7 * 24 * time.Hour
	// RetentionPolicyReplicaN is the policy's replication factor.
	RetentionPolicyReplicaN = 1
)

// batchSize bounds the points of one write, as 1.x's monitor does.
const batchSize = 5000

// Config is [monitor].
type Config struct {
	StoreEnabled  bool
	StoreDatabase string
	StoreInterval time.Duration
}

// MetaClient is what the monitor reads and changes in meta.
type MetaClient interface {
	Database(name string) *meta.DatabaseInfo
	CreateDatabaseWithRetentionPolicy(name string, spec *meta.RetentionPolicySpec) (*meta.DatabaseInfo, error)
}

// PointsWriter writes the statistics' points (coordinator.PointsWriter).
// The monitor does not keep the points after WritePoints returns.
type PointsWriter interface {
	WritePoints(ctx context.Context, db, rp string, points []models.Point) error
}

// BuildInfo describes the running binary, for SHOW DIAGNOSTICS.
type BuildInfo struct {
	Version string
	Commit  string
	Branch  string
	Time    string
}

// Options are the monitor's collaborators and settings other than Config.
type Options struct {
	// Logger receives what the monitor does; nil discards it.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now. The store loop's ticker runs on
	// real (or synctest) time regardless.
	Now func() time.Time
	// Hostname is the "hostname" tag of stored points and SHOW DIAGNOSTICS'
	// network section; "" means os.Hostname().
	Hostname string
	// Build is SHOW DIAGNOSTICS' build section.
	Build BuildInfo
	// Config feeds SHOW DIAGNOSTICS' configuration sections; nil leaves
	// them out.
	Config *config.Config
	// ExtraDiagnostics are more SHOW DIAGNOSTICS sections, by name (for
	// example config-subscriber, whose settings are not in config.Config).
	ExtraDiagnostics map[string]map[string]any
}

// Monitor gathers statistics, stores them periodically and renders them.
// Its methods are safe for concurrent use.
type Monitor struct {
	cfg      Config
	meta     MetaClient
	writer   PointsWriter
	logger   *slog.Logger
	now      func() time.Time
	hostname string
	build    BuildInfo
	conf     *config.Config
	extra    map[string]map[string]any
	started  time.Time

	reportersMu sync.RWMutex
	reporters   []stats.Reporter // guarded by reportersMu

	mu struct {
		sync.Mutex
		cancel context.CancelFunc // non-nil while the store loop runs
	}
	wg sync.WaitGroup // the store loop

	// storeCreated is set once the store database is known to exist; only
	// the store loop (or a direct Store call, serialised by storeMu) uses it.
	storeMu      sync.Mutex
	storeCreated bool
}

// New returns a monitor. meta and w may be nil when storing is disabled;
// statistics and diagnostics work without them.
func New(cfg Config, m MetaClient, w PointsWriter, opts Options) *Monitor {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Hostname == "" {
		opts.Hostname, _ = os.Hostname()
	}
	return &Monitor{
		cfg: cfg, meta: m, writer: w, logger: opts.Logger, now: opts.Now,
		hostname: opts.Hostname, build: opts.Build, conf: opts.Config,
		extra: opts.ExtraDiagnostics, started: opts.Now().UTC(),
	}
}

// AddReporter registers a component whose statistics the monitor gathers.
// It may be called at any time, also while the monitor is open.
func (m *Monitor) AddReporter(r stats.Reporter) {
	m.reportersMu.Lock()
	defer m.reportersMu.Unlock()
	m.reporters = append(m.reporters, r)
}

// Open starts storing statistics when store-enabled is set; otherwise it
// does nothing (statistics and diagnostics are always available).
func (m *Monitor) Open() error {
	if !m.cfg.StoreEnabled {
		return nil
	}
	switch {
	case m.cfg.StoreInterval <= 0:
		return fmt.Errorf("%w (got %s)", ErrInvalidStoreInterval, m.cfg.StoreInterval)
	case m.cfg.StoreDatabase == "":
		return ErrStoreDatabaseRequired
	case m.meta == nil || m.writer == nil:
		return ErrNoPointsWriter
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.cancel != nil {
		return ErrAlreadyOpen
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.mu.cancel = cancel
	m.logger.Info("storing statistics", "db", m.cfg.StoreDatabase, "rp", RetentionPolicyName,
		"interval", m.cfg.StoreInterval)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.run(ctx)
	}()
	return nil
}

// Close stops storing, cancelling a store in progress, and waits for the
// loop to end. It may be called more than once.
func (m *Monitor) Close() error {
	m.mu.Lock()
	cancel := m.mu.cancel
	m.mu.cancel = nil
	m.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	m.wg.Wait()
	return nil
}

// run stores statistics every interval until ctx ends. Cancelling ctx
// also aborts a write in progress, so that Close never waits on storage.
func (m *Monitor) run(ctx context.Context) {
	d := m.cfg.StoreInterval
	// Start on a multiple of the interval, as 1.x does, so that the points
	// of every node and every restart line up.
	now := time.Now()
	wait := time.NewTimer(now.Truncate(d).Add(d).Sub(now))
	select {
	case <-ctx.Done():
		wait.Stop()
		return
	case <-wait.C:
	}
	tick := time.NewTicker(d)
	defer tick.Stop()
	for {
		if err := m.Store(ctx); err != nil && ctx.Err() == nil {
			m.logger.Warn("storing statistics failed", "db", m.cfg.StoreDatabase, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Store writes the current statistics to the store database once, with
// the current time truncated to the store interval, creating the database
// first if needed. Errors are returned after every batch was tried.
func (m *Monitor) Store(ctx context.Context) error {
	m.storeMu.Lock()
	defer m.storeMu.Unlock()
	if err := m.createStoreLocked(); err != nil {
		return err
	}
	at := m.now()
	if m.cfg.StoreInterval > 0 {
		at = at.Truncate(m.cfg.StoreInterval)
	}
	points := Points(m.Statistics(map[string]string{"hostname": m.hostname}), at)
	timeout := m.cfg.StoreInterval
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	var errs []error
	for len(points) > 0 {
		n := min(len(points), batchSize)
		wctx, cancel := context.WithTimeout(ctx, timeout)
		err := m.writer.WritePoints(wctx, m.cfg.StoreDatabase, RetentionPolicyName, points[:n])
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("write %d points to %s.%s: %w", n, m.cfg.StoreDatabase, RetentionPolicyName, err))
		}
		points = points[n:]
	}
	return errors.Join(errs...)
}

// createStoreLocked creates the store database with the monitor policy
// unless it exists. The caller holds storeMu.
func (m *Monitor) createStoreLocked() error {
	if m.storeCreated {
		return nil
	}
	if m.meta.Database(m.cfg.StoreDatabase) == nil {
		d, n := RetentionPolicyDuration, RetentionPolicyReplicaN
		spec := &meta.RetentionPolicySpec{Name: RetentionPolicyName, Duration: &d, ReplicaN: &n}
		if _, err := m.meta.CreateDatabaseWithRetentionPolicy(m.cfg.StoreDatabase, spec); err != nil {
			return fmt.Errorf("create database %s: %w", m.cfg.StoreDatabase, err)
		}
		m.logger.Info("created the monitor database", "db", m.cfg.StoreDatabase, "rp", RetentionPolicyName)
	}
	m.storeCreated = true
	return nil
}

// Statistics returns the runtime statistic and every reporter's, each with
// tags added (a statistic's own tag wins over an added one of the same
// key), sorted by name. The maps are the caller's.
func (m *Monitor) Statistics(tags map[string]string) []stats.Statistic {
	out := []stats.Statistic{RuntimeStatistic()}
	m.reportersMu.RLock()
	reporters := slices.Clone(m.reporters)
	m.reportersMu.RUnlock()
	for _, r := range reporters {
		out = append(out, r.Statistics(nil)...)
	}
	for i := range out {
		t := make(map[string]string, len(out[i].Tags)+len(tags))
		maps.Copy(t, tags)
		maps.Copy(t, out[i].Tags)
		out[i].Tags = t
	}
	slices.SortStableFunc(out, func(a, b stats.Statistic) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// StatsRows returns SHOW STATS [FOR module]'s rows for the current
// statistics.
func (m *Monitor) StatsRows(module string) []*Row {
	return StatsRows(m.Statistics(nil), module)
}
