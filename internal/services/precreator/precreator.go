// Package precreator creates shard groups, and their shards, before the
// data for them arrives ([shard-precreation] enabled, check-interval,
// advance-period), so that the first write of a new time window does not
// wait for a meta change and a shard's files to be created.
//
// Every check interval, for each retention policy whose latest live group
// ends within (now, now + advance-period), the group that follows it is
// created in meta (meta.Data.PrecreateShardGroups, whose rule is 1.x's
// Client.PrecreateShardGroups: the latest group must end after now, so that
// nothing is created wholly in the past, and the successor is made only
// once). A policy that never had a group gets none: precreation follows
// data, it does not start it.
//
// Then every live group overlapping [now, now + advance-period] gets its
// shards in storage, through storage's CreateShard with a stillWanted check
// against the current meta, as the points writer does, so that a group
// dropped meanwhile (DROP DATABASE, retention) is never brought back. 1.x
// creates the local shard only on the first write; doing it here takes the
// file creation off the write path, and retries a creation that failed.
//
// As in 1.x, a policy that stops receiving data keeps getting a new empty
// group per window until retention drops them.
package precreator

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/services/periodic"
)

// Config is [shard-precreation].
type Config struct {
	Enabled       bool
	CheckInterval time.Duration
	AdvancePeriod time.Duration
}

// MetaStore is the part of meta.Store the service reads and changes.
type MetaStore interface {
	// Data returns the current, read-only snapshot.
	Data() *meta.Data
	// Apply runs fn on a copy of the snapshot and publishes it (see
	// meta.Store.Apply).
	Apply(fn func(*meta.Data) error) error
}

// ShardStore is the part of storage.Store the service creates shards in.
type ShardStore interface {
	// ShardIDs returns the ids of the local shards.
	ShardIDs() []uint64
	// CreateShardIfNotExists opens a new shard unless it exists; it
	// calls stillWanted under the store's lock and creates nothing when
	// it returns false.
	CreateShardIfNotExists(db, rp string, id uint64, stillWanted func() bool) error
}

// Options are the service's collaborators other than the stores.
type Options struct {
	// Logger receives what the service does; nil discards it.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Result says what one check did.
type Result struct {
	// GroupsCreated counts the shard groups created in meta.
	GroupsCreated int
	// ShardsCreated counts the shards created in storage.
	ShardsCreated int
}

// Service is the shard precreation service.
type Service struct {
	cfg    Config
	meta   MetaStore
	store  ShardStore
	logger *slog.Logger
	now    func() time.Time

	checkMu sync.Mutex // serialises checks (the loop's and direct calls)
	loop    periodic.Loop
}

// New returns a service; nothing runs until Open.
func New(cfg Config, m MetaStore, s ShardStore, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{cfg: cfg, meta: m, store: s, logger: opts.Logger, now: opts.Now}
}

// Open starts the check loop; a disabled service does nothing. The first
// check runs one interval after Open, as in 1.x.
func (s *Service) Open() error {
	if !s.cfg.Enabled {
		return nil
	}
	if s.cfg.CheckInterval <= 0 {
		return fmt.Errorf("%w (got %s)", ErrInvalidCheckInterval, s.cfg.CheckInterval)
	}
	if s.cfg.AdvancePeriod <= 0 {
		return fmt.Errorf("%w (got %s)", ErrInvalidAdvancePeriod, s.cfg.AdvancePeriod)
	}
	if !s.loop.Start(s.cfg.CheckInterval, s.check) {
		return ErrAlreadyOpen
	}
	s.logger.Info("starting shard precreation",
		"check_interval", s.cfg.CheckInterval, "advance_period", s.cfg.AdvancePeriod)
	return nil
}

// Close stops the loop and waits for a running check to end. It may be
// called more than once.
func (s *Service) Close() error {
	s.loop.Stop()
	return nil
}

// check is one run of the loop: its outcome is logged.
func (s *Service) check() {
	res, err := s.Precreate()
	if err != nil {
		s.logger.Warn("shard precreation failed; it will be retried at the next check", "err", err)
	}
	if res != (Result{}) {
		s.logger.Info("shard precreation done",
			"groups_created", res.GroupsCreated, "shards_created", res.ShardsCreated)
	}
}

// newGroup is a group created by a check, copied out of meta.
type newGroup struct {
	db, rp string
	id     uint64
	start  time.Time
}

// wantedShard is a shard that should exist locally.
type wantedShard struct {
	db, rp string
	id     uint64
}

// Precreate runs one check now (see the package comment). The errors of
// the shards that could not be created are joined; the others are made.
func (s *Service) Precreate() (Result, error) {
	s.checkMu.Lock()
	defer s.checkMu.Unlock()
	now := s.now().UTC()
	until := now.Add(s.cfg.AdvancePeriod)
	var (
		res  Result
		errs []error
	)

	var created []newGroup
	err := s.meta.Apply(func(d *meta.Data) error {
		created = created[:0]
		before := d.MaxShardGroupID
		if d.PrecreateShardGroups(now, until) == 0 {
			return nil
		}
		created = groupsAfter(d, before)
		return nil
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("precreate shard groups: %w", err))
	} else {
		res.GroupsCreated = len(created)
		for _, g := range created {
			s.logger.Info("precreated shard group", "db", g.db, "rp", g.rp,
				"shard_group", g.id, "start", g.start)
		}
	}

	local := make(map[uint64]bool)
	for _, id := range s.store.ShardIDs() {
		local[id] = true
	}
	for _, w := range wantedShards(s.meta.Data(), now, until) {
		if local[w.id] {
			continue
		}
		id := w.id
		err := s.store.CreateShardIfNotExists(w.db, w.rp, id, func() bool {
			_, _, sg := s.meta.Data().ShardOwner(id)
			return sg != nil
		})
		if err != nil {
			// A group dropped since the snapshot is not a failure.
			if _, _, sg := s.meta.Data().ShardOwner(id); sg != nil {
				errs = append(errs, fmt.Errorf("create shard %d of %s.%s: %w", id, w.db, w.rp, err))
			}
			continue
		}
		res.ShardsCreated++
	}
	return res, errors.Join(errs...)
}

// groupsAfter copies out the live groups whose id is above minID: those a
// mutation just created.
func groupsAfter(d *meta.Data, minID uint64) []newGroup {
	var out []newGroup
	for i := range d.Databases {
		di := &d.Databases[i]
		for j := range di.RetentionPolicies {
			rpi := &di.RetentionPolicies[j]
			for k := range rpi.ShardGroups {
				g := &rpi.ShardGroups[k]
				if g.ID <= minID || g.Deleted() {
					continue
				}
				out = append(out, newGroup{db: di.Name, rp: rpi.Name, id: g.ID, start: g.StartTime})
			}
		}
	}
	return out
}

// wantedShards lists the shards of the live groups overlapping
// [from, to].
func wantedShards(d *meta.Data, from, to time.Time) []wantedShard {
	var out []wantedShard
	for i := range d.Databases {
		di := &d.Databases[i]
		for j := range di.RetentionPolicies {
			rpi := &di.RetentionPolicies[j]
			for k := range rpi.ShardGroups {
				g := &rpi.ShardGroups[k]
				if g.Deleted() || !g.Overlaps(from, to) {
					continue
				}
				for _, sh := range g.Shards {
					out = append(out, wantedShard{db: di.Name, rp: rpi.Name, id: sh.ID})
				}
			}
		}
	}
	return out
}
