package subscriber

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/stratadb/strata/internal/lineprotocol"
	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/stats"
)

// PointsSink receives every accepted write. The points writer calls it
// after a write succeeded (or partly succeeded, with the points that were
// stored), concurrently from many writes.
//
// ForwardPoints must not block and must not keep points or anything they
// reference: the points borrow the request's buffer, which is reused once
// the write returns. rp is the retention policy the points were written
// to; "" means the database's default.
type PointsSink interface {
	ForwardPoints(db, rp string, points []models.Point)
}

// MetaStore is the part of meta.Store the service follows.
type MetaStore interface {
	// Data returns the current, read-only snapshot.
	Data() *meta.Data
	// Changed returns a channel closed by the next change.
	Changed() <-chan struct{}
}

// Options are the service's collaborators other than meta.
type Options struct {
	// Logger receives what the service does; nil discards it.
	Logger *slog.Logger
}

// dbrp keys the routing table.
type dbrp struct{ db, rp string }

// routes is an immutable routing table, replaced whole on every meta
// change.
type routes struct {
	subs      map[dbrp][]*subscription
	defaultRP map[string]string // database → default policy, for rp ""
}

// Service is the subscriber service. It implements PointsSink.
type Service struct {
	cfg    Config
	meta   MetaStore
	logger *slog.Logger
	svc    serviceCounters

	routes atomic.Pointer[routes] // nil: nothing to forward

	mu struct {
		sync.Mutex
		cancel context.CancelFunc       // non-nil while open
		ctx    context.Context          // the service's; writers derive from it
		subs   map[subKey]*subscription // the running subscriptions
	}
	wg sync.WaitGroup // the meta watcher
}

var _ PointsSink = (*Service)(nil)

// New returns a service; nothing runs until Open. Zero settings in cfg
// take the defaults of NewConfig (Enabled excepted).
func New(cfg Config, m MetaStore, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{cfg: cfg.withDefaults(), meta: m, logger: opts.Logger}
	return s
}

// Open starts the subscriptions meta lists and follows its changes. A
// disabled service does nothing, and ForwardPoints stays a no-op.
func (s *Service) Open() error {
	if !s.cfg.Enabled {
		return nil
	}
	if err := s.cfg.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.mu.cancel != nil {
		s.mu.Unlock()
		return ErrAlreadyOpen
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.ctx, s.mu.cancel = ctx, cancel
	s.mu.subs = map[subKey]*subscription{}
	s.mu.Unlock()

	// The first update is synchronous: subscriptions that exist are
	// served as soon as Open returns.
	ch := s.meta.Changed()
	s.update()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.watch(ctx, ch)
	}()
	return nil
}

// Close stops forwarding, cancels the writes in flight and waits for
// every goroutine. It may be called more than once.
func (s *Service) Close() error {
	s.mu.Lock()
	cancel := s.mu.cancel
	s.mu.cancel = nil
	s.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	s.wg.Wait() // the watcher: no update runs past this point
	s.routes.Store(nil)
	s.mu.Lock()
	subs := s.mu.subs
	s.mu.subs = nil
	s.mu.Unlock()
	for _, sub := range subs {
		sub.stop()
	}
	return nil
}

func (s *Service) watch(ctx context.Context, ch <-chan struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
		}
		ch = s.meta.Changed()
		s.update()
	}
}

// update brings the running subscriptions in line with meta and
// publishes the new routing table.
func (s *Service) update() {
	data := s.meta.Data()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.cancel == nil {
		return // closed
	}
	want := map[subKey][]string{}
	defaults := map[string]string{}
	for i := range data.Databases {
		di := &data.Databases[i]
		for j := range di.RetentionPolicies {
			rpi := &di.RetentionPolicies[j]
			for _, si := range rpi.Subscriptions {
				want[keyOf(di.Name, rpi.Name, si.Name, si.Mode, si.Destinations)] = si.Destinations
				defaults[di.Name] = di.DefaultRetentionPolicy
			}
		}
	}

	var stopped []*subscription
	for k, sub := range s.mu.subs {
		if _, ok := want[k]; !ok {
			stopped = append(stopped, sub)
			delete(s.mu.subs, k)
		}
	}
	for k, dests := range want {
		if _, ok := s.mu.subs[k]; ok {
			continue
		}
		sub, err := newSubscription(k, dests, s.cfg, &s.svc, s.logger)
		if err != nil {
			s.svc.createFailures.Add(1)
			s.logger.Warn("cannot start subscription", "db", k.db, "rp", k.rp, "subscription", k.name, "err", err)
			continue
		}
		sub.start(s.mu.ctx, s.cfg.WriteConcurrency)
		s.mu.subs[k] = sub
		s.logger.Info("started subscription", "db", k.db, "rp", k.rp, "subscription", k.name,
			"mode", k.mode, "destinations", dests)
	}

	r := &routes{subs: map[dbrp][]*subscription{}, defaultRP: defaults}
	for k, sub := range s.mu.subs {
		key := dbrp{k.db, k.rp}
		r.subs[key] = append(r.subs[key], sub)
	}
	if len(r.subs) == 0 {
		r = nil
	}
	s.routes.Store(r)

	// The stopped ones are out of the table: wait for them outside the
	// table swap, but under mu so that Close sees a consistent set.
	for _, sub := range stopped {
		sub.stop()
		s.logger.Info("stopped subscription", "db", sub.db, "rp", sub.rp, "subscription", sub.name)
	}
}

// ForwardPoints offers an accepted write to the subscriptions of db.rp
// (see PointsSink). It encodes the points once, synchronously, and never
// waits for a destination.
func (s *Service) ForwardPoints(db, rp string, points []models.Point) {
	r := s.routes.Load()
	if r == nil || len(points) == 0 {
		return
	}
	if rp == "" {
		rp = r.defaultRP[db]
	}
	subs := r.subs[dbrp{db, rp}]
	if len(subs) == 0 {
		return
	}
	b := &batch{db: db, rp: rp, data: encode(points), points: len(points)}
	for _, sub := range subs {
		sub.offer(b)
	}
}

// encode renders points as line protocol in one buffer.
func encode(points []models.Point) []byte {
	size := 0
	for i := range points {
		p := &points[i]
		size += len(p.Measurement) + 24
		for _, t := range p.Tags {
			size += len(t.Key) + len(t.Value) + 2
		}
		for _, f := range p.Fields {
			size += len(f.Key) + len(f.Str) + 24
		}
	}
	buf := make([]byte, 0, size)
	for i := range points {
		buf = lineprotocol.AppendPoint(buf, &points[i])
	}
	return buf
}

// Statistics returns the service's "subscriber" statistic and one per
// destination.
func (s *Service) Statistics(tags map[string]string) []stats.Statistic {
	t := maps.Clone(tags)
	if t == nil {
		t = map[string]string{}
	}
	out := []stats.Statistic{{Name: "subscriber", Tags: t, Values: map[string]any{
		"createFailures": s.svc.createFailures.Load(),
		"pointsWritten":  s.svc.pointsWritten.Load(),
		"writeFailures":  s.svc.writeFailures.Load(),
		"writesDropped":  s.svc.writesDropped.Load(),
		"pointsDropped":  s.svc.pointsDropped.Load(),
	}}}
	s.mu.Lock()
	subs := make([]*subscription, 0, len(s.mu.subs))
	for _, sub := range s.mu.subs {
		subs = append(subs, sub)
	}
	s.mu.Unlock()
	for _, sub := range subs {
		out = append(out, sub.statistics(tags)...)
	}
	return out
}
