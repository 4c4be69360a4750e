// Package retention enforces retention policies: every check interval it
// drops the shard groups whose data has all expired, then their shards'
// files, and later forgets the dropped groups, as InfluxDB 1.x's retention
// service does ([retention] enabled, check-interval).
//
// # One check
//
//  1. Mark expired groups deleted in meta, in one change. A group of a
//     policy with duration D expires once EndTime + D < now (1.x's
//     RetentionPolicyInfo.ExpiredShardGroups); policies with D = 0 keep
//     everything. Marking first is what keeps a racing write from bringing
//     a shard back: the points writer creates a shard only while meta lists
//     it in a live group (storage.Store.CreateShard's stillWanted).
//  2. Delete from storage every local shard of a deleted group, and every
//     local shard that meta no longer lists at all (a group pruned while a
//     delete kept failing). Each storage delete takes the store's lock only
//     to unlink the shard from its map: writes and queries on other shards
//     go on meanwhile.
//  3. In one more meta change, drop the references of the shards that are
//     gone from their deleted groups (1.x's DropShardMetaRef) and prune the
//     groups deleted more than Config.PruneAfter ago (1.x: two weeks, its
//     ShardGroupDeletedExpiration).
//
// A failure at any step is logged and retried by the next check, because
// every step starts again from what meta and storage say.
package retention

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/services/periodic"
)

// DefaultPruneAfter is how long a deleted shard group stays listed in meta
// before it is forgotten: 1.x's two weeks.
const DefaultPruneAfter = 14 * 24 * time.Hour

// Config is [retention].
type Config struct {
	Enabled       bool
	CheckInterval time.Duration
	// PruneAfter is how long deleted groups stay in meta; 0 means
	// DefaultPruneAfter.
	PruneAfter time.Duration
}

// MetaStore is the part of meta.Store the service reads and changes.
type MetaStore interface {
	// Data returns the current, read-only snapshot.
	Data() *meta.Data
	// Apply runs fn on a copy of the snapshot and publishes it (see
	// meta.Store.Apply).
	Apply(fn func(*meta.Data) error) error
}

// ShardStore is the part of storage.Store the service deletes from.
type ShardStore interface {
	// ShardIDs returns the ids of the local shards.
	ShardIDs() []uint64
	// DeleteShard closes a shard and removes its files; an unknown shard
	// is not an error.
	DeleteShard(id uint64) error
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
	// GroupsDeleted counts the groups this check marked deleted.
	GroupsDeleted int
	// ShardsDeleted counts the local shards whose files it removed.
	ShardsDeleted int
	// GroupsPruned counts the deleted groups it removed from meta.
	GroupsPruned int
}

// Service is the retention enforcement service.
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
	if cfg.PruneAfter <= 0 {
		cfg.PruneAfter = DefaultPruneAfter
	}
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
	if !s.loop.Start(s.cfg.CheckInterval, s.check) {
		return ErrAlreadyOpen
	}
	s.logger.Info("starting retention policy enforcement", "check_interval", s.cfg.CheckInterval)
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
	res, err := s.DeletionCheck()
	if err != nil {
		s.logger.Warn("retention check failed; it will be retried at the next check",
			"err", err, "check_interval", s.cfg.CheckInterval)
	}
	if res != (Result{}) {
		s.logger.Info("retention check done", "groups_deleted", res.GroupsDeleted,
			"shards_deleted", res.ShardsDeleted, "groups_pruned", res.GroupsPruned)
	}
}

// expiredGroup names a group to mark deleted.
type expiredGroup struct {
	db, rp string
	id     uint64
}

// DeletionCheck runs one check now (see the package comment). The errors
// of its steps are joined; a step that fails does not stop the others.
func (s *Service) DeletionCheck() (Result, error) {
	s.checkMu.Lock()
	defer s.checkMu.Unlock()
	now := s.now().UTC()
	var (
		res  Result
		errs []error
	)

	// 1. Mark the expired groups deleted.
	if expired := expiredGroups(s.meta.Data(), now); len(expired) > 0 {
		var marked []expiredGroup
		err := s.meta.Apply(func(d *meta.Data) error {
			marked = marked[:0]
			for _, g := range expired {
				// The group may have gone (DROP RETENTION POLICY, DROP SHARD)
				// since the snapshot: that is not an error.
				rpi, err := d.RetentionPolicy(g.db, g.rp)
				if err != nil || !hasLiveGroup(rpi, g.id) {
					continue
				}
				if err := d.DeleteShardGroupAt(g.db, g.rp, g.id, now); err != nil {
					return fmt.Errorf("delete shard group %d of %s.%s: %w", g.id, g.db, g.rp, err)
				}
				marked = append(marked, g)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("mark expired shard groups deleted: %w", err))
		} else {
			res.GroupsDeleted = len(marked)
			for _, g := range marked {
				s.logger.Info("deleted expired shard group", "db", g.db, "rp", g.rp, "shard_group", g.id)
			}
		}
	}

	// 2. Delete the local shards that meta no longer wants. The store is
	// listed before meta is read: a shard created after that read was
	// created for a live group that the read shows.
	local := s.store.ShardIDs()
	data := s.meta.Data()
	owners := shardOwners(data)
	var unref []uint64 // shards to drop from their deleted groups
	for _, id := range local {
		o, listed := owners[id]
		if listed && o.live {
			continue
		}
		if err := s.store.DeleteShard(id); err != nil {
			errs = append(errs, fmt.Errorf("delete shard %d: %w", id, err))
			delete(owners, id) // keep its reference: the next check retries
			continue
		}
		res.ShardsDeleted++
		if listed {
			s.logger.Info("deleted shard of a deleted shard group", "db", o.db, "rp", o.rp, "shard", id)
		} else {
			s.logger.Info("deleted shard that meta no longer lists", "shard", id)
		}
	}
	for id, o := range owners {
		if !o.live {
			// Gone locally, or never here (1.x's "phantom" shards): its
			// reference can go.
			unref = append(unref, id)
		}
	}

	// 3. Drop the references and prune old deleted groups, in one change.
	cutoff := now.Add(-s.cfg.PruneAfter)
	if len(unref) > 0 || hasPrunable(data, cutoff) {
		err := s.meta.Apply(func(d *meta.Data) error {
			for _, id := range unref {
				if err := d.DropShardAt(id, now); err != nil {
					return fmt.Errorf("drop reference to shard %d: %w", id, err)
				}
			}
			res.GroupsPruned = d.PruneShardGroups(cutoff)
			return nil
		})
		if err != nil {
			res.GroupsPruned = 0
			errs = append(errs, fmt.Errorf("prune deleted shard groups: %w", err))
		}
	}
	return res, errors.Join(errs...)
}

// expiredGroups lists the live groups whose data has all expired at now.
func expiredGroups(d *meta.Data, now time.Time) []expiredGroup {
	var out []expiredGroup
	for i := range d.Databases {
		di := &d.Databases[i]
		for j := range di.RetentionPolicies {
			rpi := &di.RetentionPolicies[j]
			if rpi.Duration <= 0 {
				continue
			}
			for k := range rpi.ShardGroups {
				g := &rpi.ShardGroups[k]
				if !g.Deleted() && g.EndTime.Add(rpi.Duration).Before(now) {
					out = append(out, expiredGroup{db: di.Name, rp: rpi.Name, id: g.ID})
				}
			}
		}
	}
	return out
}

func hasLiveGroup(rpi *meta.RetentionPolicyInfo, id uint64) bool {
	for i := range rpi.ShardGroups {
		if g := &rpi.ShardGroups[i]; g.ID == id {
			return !g.Deleted()
		}
	}
	return false
}

// owner is where meta lists a shard.
type owner struct {
	db, rp string
	live   bool // in a live group (else in a deleted one)
}

// shardOwners maps every shard meta lists to its owner. A shard listed in
// a live group is live whatever else lists it.
func shardOwners(d *meta.Data) map[uint64]owner {
	out := make(map[uint64]owner)
	for i := range d.Databases {
		di := &d.Databases[i]
		for j := range di.RetentionPolicies {
			rpi := &di.RetentionPolicies[j]
			for k := range rpi.ShardGroups {
				g := &rpi.ShardGroups[k]
				for _, sh := range g.Shards {
					if o, ok := out[sh.ID]; ok && o.live {
						continue
					}
					out[sh.ID] = owner{db: di.Name, rp: rpi.Name, live: !g.Deleted()}
				}
			}
		}
	}
	return out
}

// hasPrunable reports whether some group was deleted before cutoff, so
// that a check with nothing to do does not even clone meta.
func hasPrunable(d *meta.Data, cutoff time.Time) bool {
	for i := range d.Databases {
		for j := range d.Databases[i].RetentionPolicies {
			for _, g := range d.Databases[i].RetentionPolicies[j].ShardGroups {
				if g.Deleted() && g.DeletedAt.Before(cutoff) {
					return true
				}
			}
		}
	}
	return false
}
