package engine

import (
	"context"
	"fmt"

	"github.com/stratadb/strata/internal/models"
)

// DropSeries deletes every value of the given series from the shard and
// forgets them in the shard's series set.
func (s *Shard) DropSeries(ctx context.Context, ids []uint64) error {
	return s.DeleteRange(ctx, ids, models.MinNanoTime, models.MaxNanoTime)
}

// DropMeasurement deletes every value of the measurement's series (ids)
// and forgets the measurement's field types in this shard, so that a new
// measurement of the same name may use other types.
//
// It holds the shard exclusively from the first WAL record to the last
// change: a write landing between the delete and the forgetting of the
// types would recreate a cache column of the old type, which a write of
// the new type would then be appended to. Both steps are logged, so a
// crash replays them in order with the writes around them.
func (s *Shard) DropMeasurement(ctx context.Context, name string, ids []uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return ErrShardClosed
	}
	if len(ids) > 0 {
		if _, err := s.wal.Write(ctx, recordDelete, encodeDeleteRecord(nil, ids, models.MinNanoTime, models.MaxNanoTime)); err != nil {
			return fmt.Errorf("write wal: %w", err)
		}
		if err := s.applyDeleteLocked(ids, models.MinNanoTime, models.MaxNanoTime); err != nil {
			return err
		}
		s.series.remove(ids)
	}
	if _, err := s.wal.Write(ctx, recordDropFields, encodeDropFieldsRecord(nil, name)); err != nil {
		return fmt.Errorf("write wal: %w", err)
	}
	s.fields.dropMeasurement(name)
	s.lastChange.Store(s.opts.Now().UnixNano())
	return nil
}
