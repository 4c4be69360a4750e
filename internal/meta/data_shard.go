package meta

import (
	"cmp"
	"slices"
	"time"
)

// Contains reports whether StartTime ≤ t < EndTime.
func (sgi *ShardGroupInfo) Contains(t time.Time) bool {
	return !t.Before(sgi.StartTime) && t.Before(sgi.EndTime)
}

// Overlaps reports whether the group may hold data in [min, max] (both
// ends inclusive, as 1.x's query time ranges are).
func (sgi *ShardGroupInfo) Overlaps(min, max time.Time) bool {
	return !sgi.StartTime.After(max) && sgi.EndTime.After(min)
}

// Deleted reports whether the group was dropped.
func (sgi *ShardGroupInfo) Deleted() bool { return !sgi.DeletedAt.IsZero() }

// Truncated reports whether the group was ended early for writes.
func (sgi *ShardGroupInfo) Truncated() bool { return !sgi.TruncatedAt.IsZero() }

// writeEnd is where the group stops taking writes: TruncatedAt when set,
// else EndTime.
func (sgi *ShardGroupInfo) writeEnd() time.Time {
	if sgi.Truncated() {
		return sgi.TruncatedAt
	}
	return sgi.EndTime
}

// ShardGroupByTimestamp returns the live group whose window holds t, or
// nil. A truncated group does not take times at or after TruncatedAt.
//
// It is on the write path, so it binary-searches: groups are sorted by
// where they stop taking writes, and live groups never overlap, so the
// first live group that stops after t is the only one that can hold it.
func (rpi *RetentionPolicyInfo) ShardGroupByTimestamp(t time.Time) *ShardGroupInfo {
	groups := rpi.ShardGroups
	i, _ := slices.BinarySearchFunc(groups, t, func(g ShardGroupInfo, t time.Time) int {
		if g.writeEnd().After(t) {
			return 1
		}
		return -1
	})
	for ; i < len(groups); i++ {
		if g := &groups[i]; !g.Deleted() {
			if g.StartTime.After(t) {
				return nil
			}
			return g
		}
	}
	return nil
}

// ShardGroupByTimestamp returns the live group of db.rp that holds t, or
// nil (also when the database or policy does not exist). An empty rp means
// the default policy.
func (d *Data) ShardGroupByTimestamp(db, rp string, t time.Time) *ShardGroupInfo {
	rpi, err := d.RetentionPolicy(db, rp)
	if err != nil {
		return nil
	}
	return rpi.ShardGroupByTimestamp(t)
}

// ShardGroupsByTimeRange returns the live groups of db.rp that overlap
// [min, max], in time order. The slice is new; its elements share the
// Shards slices of d, which callers must not modify.
func (d *Data) ShardGroupsByTimeRange(db, rp string, min, max time.Time) ([]ShardGroupInfo, error) {
	rpi, err := d.RetentionPolicy(db, rp)
	if err != nil {
		return nil, err
	}
	var groups []ShardGroupInfo
	for i := range rpi.ShardGroups {
		g := &rpi.ShardGroups[i]
		if g.Deleted() || !g.Overlaps(min, max) {
			continue
		}
		groups = append(groups, *g)
	}
	return groups, nil
}

// ShardOwner returns the database, policy and live group of a shard; empty
// names and a nil group when no live group holds it.
func (d *Data) ShardOwner(shardID uint64) (db, rp string, sgi *ShardGroupInfo) {
	for i := range d.Databases {
		di := &d.Databases[i]
		for j := range di.RetentionPolicies {
			rpi := &di.RetentionPolicies[j]
			for k := range rpi.ShardGroups {
				g := &rpi.ShardGroups[k]
				if g.Deleted() {
					continue
				}
				for _, sh := range g.Shards {
					if sh.ID == shardID {
						return di.Name, rpi.Name, g
					}
				}
			}
		}
	}
	return "", "", nil
}

// CreateShardGroup creates the group of db.rp that will hold t, unless a
// live group already holds it. The window is t truncated to the policy's
// shard-group duration (as Go's time.Truncate does, so 7-day groups start
// on Mondays, as in 1.x) and is then trimmed so that it never overlaps a
// live group: the window always contains t. The group gets one new shard.
func (d *Data) CreateShardGroup(db, rp string, t time.Time) error {
	rpi, err := d.RetentionPolicy(db, rp)
	if err != nil {
		return err
	}
	if t.Before(minTime) || !t.Before(maxTime) {
		return ErrTimeOutOfRange
	}
	if rpi.ShardGroupByTimestamp(t) != nil {
		return nil
	}
	t = t.UTC()
	sgd := rpi.ShardGroupDuration
	if sgd <= 0 {
		// Never stored by this package; guards against a hand-made Data.
		sgd = ShardGroupDurationFor(rpi.Duration)
	}
	start := t.Truncate(sgd)
	if start.Before(minTime) {
		start = minTime
	}
	end := maxTime
	if start.Before(maxTime.Add(-sgd)) {
		end = start.Add(sgd)
	}

	// Trim the window around t so that it overlaps no live group. Every
	// live group either ends at or before t, or starts after t: one that
	// contains t was found above.
	for i := range rpi.ShardGroups {
		g := &rpi.ShardGroups[i]
		if g.Deleted() {
			continue
		}
		gEnd := g.writeEnd()
		if !gEnd.After(t) && gEnd.After(start) {
			start = gEnd
		}
		if g.StartTime.After(t) && g.StartTime.Before(end) {
			end = g.StartTime
		}
	}

	d.MaxShardGroupID++
	d.MaxShardID++
	rpi.ShardGroups = append(rpi.ShardGroups, ShardGroupInfo{
		ID:        d.MaxShardGroupID,
		StartTime: start,
		EndTime:   end,
		Shards:    []ShardInfo{{ID: d.MaxShardID}},
	})
	sortShardGroups(rpi.ShardGroups)
	return nil
}

// sortShardGroups orders groups by where they stop taking writes, then by
// start, then by id: 1.x's order, which keeps the latest group last.
func sortShardGroups(groups []ShardGroupInfo) {
	slices.SortStableFunc(groups, func(a, b ShardGroupInfo) int {
		if c := a.writeEnd().Compare(b.writeEnd()); c != 0 {
			return c
		}
		if c := a.StartTime.Compare(b.StartTime); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// DeleteShardGroup marks a group of db.rp deleted now (see
// DeleteShardGroupAt).
func (d *Data) DeleteShardGroup(db, rp string, id uint64) error {
	return d.DeleteShardGroupAt(db, rp, id, time.Now())
}

// DeleteShardGroupAt marks a group of db.rp deleted at the given time. The
// group stays listed, with DeletedAt set, so that every node can see that
// its shards must go; lookups skip it. Deleting a deleted group keeps its
// first DeletedAt.
func (d *Data) DeleteShardGroupAt(db, rp string, id uint64, at time.Time) error {
	rpi, err := d.RetentionPolicy(db, rp)
	if err != nil {
		return err
	}
	for i := range rpi.ShardGroups {
		g := &rpi.ShardGroups[i]
		if g.ID == id {
			if !g.Deleted() {
				g.DeletedAt = at.UTC()
			}
			return nil
		}
	}
	return ErrShardGroupNotFound
}

// DropShard removes a shard now (see DropShardAt).
func (d *Data) DropShard(id uint64) error { return d.DropShardAt(id, time.Now()) }

// DropShardAt removes a shard from its group; a group left without shards
// is marked deleted at the given time. An unknown shard is not an error, so
// that a DROP SHARD can be repeated (1.x).
func (d *Data) DropShardAt(id uint64, at time.Time) error {
	for i := range d.Databases {
		di := &d.Databases[i]
		for j := range di.RetentionPolicies {
			rpi := &di.RetentionPolicies[j]
			for k := range rpi.ShardGroups {
				g := &rpi.ShardGroups[k]
				for s := range g.Shards {
					if g.Shards[s].ID != id {
						continue
					}
					g.Shards = append(g.Shards[:s], g.Shards[s+1:]...)
					if len(g.Shards) == 0 && !g.Deleted() {
						g.DeletedAt = at.UTC()
					}
					return nil
				}
			}
		}
	}
	return nil
}

// TruncateShardGroups ends every live group that could take writes at or
// after t: groups spanning t end at t, groups wholly after t end at their
// start.
func (d *Data) TruncateShardGroups(t time.Time) {
	t = t.UTC()
	for i := range d.Databases {
		for j := range d.Databases[i].RetentionPolicies {
			rpi := &d.Databases[i].RetentionPolicies[j]
			for k := range rpi.ShardGroups {
				g := &rpi.ShardGroups[k]
				if g.Deleted() || !t.Before(g.writeEnd()) {
					continue
				}
				if t.After(g.StartTime) {
					g.TruncatedAt = t
				} else {
					g.TruncatedAt = g.StartTime
				}
			}
			sortShardGroups(rpi.ShardGroups)
		}
	}
}

// PruneShardGroups forgets groups deleted before the given time (1.x keeps
// them for two weeks so that every node has seen the deletion). It
// returns how many it removed.
func (d *Data) PruneShardGroups(deletedBefore time.Time) int {
	n := 0
	for i := range d.Databases {
		for j := range d.Databases[i].RetentionPolicies {
			rpi := &d.Databases[i].RetentionPolicies[j]
			before := len(rpi.ShardGroups)
			rpi.ShardGroups = slices.DeleteFunc(rpi.ShardGroups, func(g ShardGroupInfo) bool {
				return g.Deleted() && g.DeletedAt.Before(deletedBefore)
			})
			n += before - len(rpi.ShardGroups)
		}
	}
	return n
}

// PrecreateShardGroups creates, for every policy whose latest live group
// ends within (from, to), the group that follows it, so that the first
// write of the next window does not wait for a meta change. Groups wholly
// in the past (ending before from) get no successor. It returns how many
// groups it created.
func (d *Data) PrecreateShardGroups(from, to time.Time) int {
	n := 0
	for i := range d.Databases {
		di := &d.Databases[i]
		for j := range di.RetentionPolicies {
			rpi := &di.RetentionPolicies[j]
			var last *ShardGroupInfo
			for k := range rpi.ShardGroups {
				if g := &rpi.ShardGroups[k]; !g.Deleted() && (last == nil || g.EndTime.After(last.EndTime)) {
					last = g
				}
			}
			if last == nil || last.Truncated() || !last.EndTime.Before(to) || !last.EndTime.After(from) {
				continue
			}
			next := last.EndTime
			if rpi.ShardGroupByTimestamp(next) != nil {
				continue
			}
			if err := d.CreateShardGroup(di.Name, rpi.Name, next); err == nil {
				n++
			}
		}
	}
	return n
}
