package engine

import (
	"context"
	"fmt"
	"sync"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/tsm"
)

// deleteLog is the deletes that reached a pending snapshot after it was
// swapped out; they become tombstones of its file when it is installed.
type deleteLog struct {
	mu    sync.Mutex // guards items
	items []tsm.Tombstone
}

func (l *deleteLog) add(ts []tsm.Tombstone) {
	l.mu.Lock()
	l.items = append(l.items, ts...)
	l.mu.Unlock()
}

func (l *deleteLog) take() []tsm.Tombstone {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.items
	l.items = nil
	return out
}

// DeleteRange deletes the values of the given series in [min, max],
// durably: the delete is logged in the WAL first, then applied to the cache
// and recorded as tombstones in every data file holding the series.
func (s *Shard) DeleteRange(ctx context.Context, ids []uint64, min, max int64) error {
	if len(ids) == 0 {
		return nil
	}
	payload := encodeDeleteRecord(nil, ids, min, max)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.mu.closed {
		return ErrShardClosed
	}
	if _, err := s.wal.Write(ctx, recordDelete, payload); err != nil {
		return fmt.Errorf("write wal: %w", err)
	}
	if err := s.applyDeleteLocked(ids, min, max); err != nil {
		return err
	}
	if min == models.MinNanoTime && max == models.MaxNanoTime {
		s.series.remove(ids)
	}
	s.lastChange.Store(s.opts.Now().UnixNano())
	return nil
}

// applyDelete is applyDeleteLocked for WAL replay, which runs before the
// shard is shared.
func (s *Shard) applyDelete(ids []uint64, min, max int64) error {
	return s.applyDeleteLocked(ids, min, max)
}

// applyDeleteLocked removes the range from data files (tombstones), from
// pending snapshots and from the cache, in that order: oldest source first.
// Every intermediate state is then one a reader may see: tombstoning an
// older source only hides values that newer sources still override. On a
// failure it returns before touching the newer sources, so a failed delete
// never exposes a value that a newer write had overwritten. The caller
// holds s.mu at least shared.
func (s *Shard) applyDeleteLocked(ids []uint64, min, max int64) error {
	var tombs []tsm.Tombstone
	for _, id := range ids {
		sk := s.index.SeriesKey(id)
		if sk == nil {
			continue
		}
		m := models.MeasurementFromSeriesKey(sk)
		for field := range s.fields.Fields(string(m)) {
			tombs = append(tombs, tsm.Tombstone{Key: models.AppendFieldKey(nil, sk, []byte(field)), Min: min, Max: max})
		}
	}
	for _, f := range s.mu.files { // oldest first
		var mine []tsm.Tombstone
		for _, t := range tombs {
			if _, ok := f.r.Type(t.Key); ok {
				mine = append(mine, t)
			}
		}
		if len(mine) == 0 {
			continue
		}
		if err := f.r.AddTombstones(mine); err != nil {
			return fmt.Errorf("tombstone %s: %w", f.r.Path(), err)
		}
	}
	for _, p := range s.mu.snapshots { // oldest first
		for _, id := range ids {
			p.cache.DeleteRange(id, min, max)
		}
		p.deletes.add(tombs)
	}
	for _, id := range ids {
		s.mu.cache.DeleteRange(id, min, max)
	}
	return nil
}
