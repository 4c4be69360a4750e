package engine

import (
	"context"

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
func (s *Shard) DropMeasurement(ctx context.Context, name string, ids []uint64) error {
	if err := s.DropSeries(ctx, ids); err != nil {
		return err
	}
	s.fields.dropMeasurement(name)
	return nil
}
