package subscriber

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratadb/strata/internal/stats"
)

// Balance modes, as CREATE SUBSCRIPTION spells them.
const (
	ModeAll = "ALL"
	ModeAny = "ANY"
)

// failureLogEvery limits the log lines of a failing destination.
const failureLogEvery = 10 * time.Second

// subKey identifies a subscription as meta describes it; any change
// restarts it.
type subKey struct {
	db, rp, name, mode, dests string
}

// serviceCounters are the service-wide "subscriber" values.
type serviceCounters struct {
	createFailures, pointsWritten, writeFailures, writesDropped, pointsDropped atomic.Int64
}

// subscription is one running subscription: its destinations, their
// queues and writers.
type subscription struct {
	key    subKey
	db, rp string
	name   string
	mode   string
	dests  []*destination
	rr     atomic.Uint64 // ANY: the next destination
	svc    *serviceCounters
	logger *slog.Logger

	cancel context.CancelFunc
	wg     sync.WaitGroup // the writers
}

// destination is one destination of a subscription with its queue.
type destination struct {
	url      string
	w        writer
	queue    chan *batch
	maxBytes int64
	queued   atomic.Int64 // bytes in queue
	logLimit logLimiter

	pointsWritten, writeFailures, writesDropped, pointsDropped atomic.Int64
}

// newSubscription sets up the destinations; nothing runs until start.
func newSubscription(key subKey, dests []string, cfg Config, svc *serviceCounters, logger *slog.Logger) (*subscription, error) {
	if key.mode != ModeAll && key.mode != ModeAny {
		return nil, errors.Join(ErrUnknownMode, errors.New("mode "+key.mode))
	}
	s := &subscription{key: key, db: key.db, rp: key.rp, name: key.name, mode: key.mode, svc: svc,
		logger: logger.With("db", key.db, "rp", key.rp, "subscription", key.name)}
	for _, u := range dests {
		w, err := newWriter(u, cfg)
		if err != nil {
			s.closeWriters()
			return nil, err
		}
		s.dests = append(s.dests, &destination{
			url: u, w: w, queue: make(chan *batch, cfg.WriteBufferSize), maxBytes: cfg.WriteBufferBytes,
		})
	}
	return s, nil
}

// start launches the writers: concurrency per destination.
func (s *subscription) start(parent context.Context, concurrency int) {
	ctx, cancel := context.WithCancel(parent)
	s.cancel = cancel
	for _, d := range s.dests {
		for range concurrency {
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.work(ctx, d)
			}()
		}
	}
}

// stop cancels the writers (in-flight writes are aborted), waits for them,
// and counts what is left in the queues as dropped.
func (s *subscription) stop() {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	for _, d := range s.dests {
		for b := d.dequeue(); b != nil; b = d.dequeue() {
			s.dropped(d, b)
		}
	}
	s.closeWriters()
}

func (s *subscription) closeWriters() {
	for _, d := range s.dests {
		d.w.close()
	}
}

// offer hands a batch to the subscription without blocking: to every
// destination (ALL) or to the next one round robin (ANY).
func (s *subscription) offer(b *batch) {
	if s.mode == ModeAll {
		for _, d := range s.dests {
			if !d.tryEnqueue(b) {
				s.dropped(d, b)
			}
		}
		return
	}
	n := uint64(len(s.dests))
	first := s.rr.Add(1) - 1
	for i := range n {
		if s.dests[(first+i)%n].tryEnqueue(b) {
			return
		}
	}
	s.dropped(s.dests[first%n], b)
}

// tryEnqueue queues b unless the queue is full in writes or bytes.
func (d *destination) tryEnqueue(b *batch) bool {
	size := int64(len(b.data))
	if n := d.queued.Add(size); n > d.maxBytes && n != size {
		// Over the byte bound. A batch larger than the whole bound still
		// goes into an empty queue: it would never fit otherwise.
		d.queued.Add(-size)
		return false
	}
	select {
	case d.queue <- b:
		return true
	default:
		d.queued.Add(-size)
		return false
	}
}

func (s *subscription) dropped(d *destination, b *batch) {
	d.writesDropped.Add(1)
	d.pointsDropped.Add(int64(b.points))
	s.svc.writesDropped.Add(1)
	s.svc.pointsDropped.Add(int64(b.points))
	// 1.x counts a write dropped on a full buffer as a write failure.
	s.svc.writeFailures.Add(1)
}

// dequeue takes a queued batch without waiting; nil when none.
func (d *destination) dequeue() *batch {
	select {
	case b := <-d.queue:
		d.queued.Add(-int64(len(b.data)))
		return b
	default:
		return nil
	}
}

// work is one writer of destination d.
func (s *subscription) work(ctx context.Context, d *destination) {
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-d.queue:
			d.queued.Add(-int64(len(b.data)))
			s.deliver(ctx, d, b)
		}
	}
}

// deliver writes b to d; with ANY, a failure moves on to the other
// destinations in turn until one takes it.
func (s *subscription) deliver(ctx context.Context, d *destination, b *batch) {
	if s.writeTo(ctx, d, b) || s.mode != ModeAny {
		return
	}
	i := slices.Index(s.dests, d)
	for k := 1; k < len(s.dests) && ctx.Err() == nil; k++ {
		if s.writeTo(ctx, s.dests[(i+k)%len(s.dests)], b) {
			return
		}
	}
}

func (s *subscription) writeTo(ctx context.Context, d *destination, b *batch) bool {
	err := d.w.write(ctx, b)
	if err == nil {
		d.pointsWritten.Add(int64(b.points))
		s.svc.pointsWritten.Add(int64(b.points))
		return true
	}
	if ctx.Err() != nil {
		// Stopping: the write was cancelled, not refused.
		s.dropped(d, b)
		return false
	}
	d.writeFailures.Add(1)
	s.svc.writeFailures.Add(1)
	if d.logLimit.allow(time.Now(), failureLogEvery) {
		s.logger.Warn("subscription write failed", "destination", d.url, "points", b.points, "err", err)
	}
	return false
}

// statistics returns one "subscriber" statistic per destination.
func (s *subscription) statistics(tags map[string]string) []stats.Statistic {
	out := make([]stats.Statistic, 0, len(s.dests))
	for _, d := range s.dests {
		t := maps.Clone(tags)
		if t == nil {
			t = map[string]string{}
		}
		t["database"] = s.db
		t["retention_policy"] = s.rp
		t["name"] = s.name
		t["mode"] = s.mode
		t["destination"] = d.url
		out = append(out, stats.Statistic{Name: "subscriber", Tags: t, Values: map[string]any{
			"pointsWritten": d.pointsWritten.Load(),
			"writeFailures": d.writeFailures.Load(),
			"writesDropped": d.writesDropped.Load(),
			"pointsDropped": d.pointsDropped.Load(),
			"queueLength":   int64(len(d.queue)),
			"queueBytes":    d.queued.Load(),
		}})
	}
	return out
}

// keyOf builds a subscription's key from its meta description.
func keyOf(db, rp, name, mode string, dests []string) subKey {
	return subKey{db: db, rp: rp, name: name, mode: strings.ToUpper(mode), dests: strings.Join(dests, "\x00")}
}
