package storage

import (
	"context"
	"errors"
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stratadb/strata/internal/storage/engine"
)

// shardsOf returns db's shards, all of them when ids is nil, else those
// with the given ids.
func (s *Store) shardsOf(db string, ids []uint64) []*engine.Shard {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*engine.Shard
	if ids == nil {
		for _, sh := range s.mu.shards {
			if sh.Database() == db {
				out = append(out, sh)
			}
		}
		return out
	}
	for _, id := range ids {
		if sh := s.mu.shards[id]; sh != nil && sh.Database() == db {
			out = append(out, sh)
		}
	}
	return out
}

func bitmapIDs(b *roaring.Bitmap) []uint64 {
	out := make([]uint64, 0, b.GetCardinality())
	it := b.Iterator()
	for it.HasNext() {
		out = append(out, uint64(it.Next()))
	}
	return out
}

// DeleteSeriesRange deletes the values of series in [min, max] in the given
// shards of db (all of db's shards when shardIDs is nil): 1.x's DELETE. The
// series stay in the index. Writes to other series go on meanwhile: a
// delete holds each shard only shared, like a write.
func (s *Store) DeleteSeriesRange(ctx context.Context, db string, shardIDs []uint64, series *roaring.Bitmap, min, max int64) error {
	ids := bitmapIDs(series)
	if len(ids) == 0 {
		return nil
	}
	var errs []error
	for _, sh := range s.shardsOf(db, shardIDs) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := sh.DeleteRange(ctx, ids, min, max); err != nil {
			errs = append(errs, fmt.Errorf("shard %d: %w", sh.ID(), err))
		}
	}
	return errors.Join(errs...)
}

// DropSeries deletes every value of the series in every shard of db, then
// removes them from db's index: 1.x's DROP SERIES. Data first, so that a
// crash in between leaves series without data, never data without series.
func (s *Store) DropSeries(ctx context.Context, db string, series *roaring.Bitmap) error {
	idx := s.Index(db)
	if idx == nil || series.IsEmpty() {
		return nil
	}
	ids := bitmapIDs(series)
	for _, sh := range s.shardsOf(db, nil) {
		if err := sh.DropSeries(ctx, ids); err != nil {
			return fmt.Errorf("shard %d: %w", sh.ID(), err)
		}
	}
	return idx.DropSeries(series)
}

// DropMeasurement deletes every series of a measurement, its data and its
// field types in every shard of db, then the measurement in the index.
func (s *Store) DropMeasurement(ctx context.Context, db, name string) error {
	idx := s.Index(db)
	if idx == nil {
		return nil
	}
	series := idx.MeasurementSeries([]byte(name))
	if series == nil {
		return nil
	}
	ids := bitmapIDs(series)
	for _, sh := range s.shardsOf(db, nil) {
		if err := sh.DropMeasurement(ctx, name, ids); err != nil {
			return fmt.Errorf("shard %d: %w", sh.ID(), err)
		}
	}
	return idx.DropMeasurement([]byte(name))
}
