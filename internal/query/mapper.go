package query

import (
	"context"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/block"
	"github.com/stratadb/strata/internal/storage/engine"
	"github.com/stratadb/strata/internal/storage/index"
)

// MetaReader is the part of meta the engine reads: databases and their
// retention policies, to resolve a statement's sources.
type MetaReader interface {
	// Database returns the named database, or nil.
	Database(name string) *meta.DatabaseInfo
}

// ShardMapper finds the shards a query reads. It is the distribution seam:
// the local mapper returns this node's shards; a cluster's would return
// shards that read from remote owners.
type ShardMapper interface {
	// MapShards returns the shards of db.rp that may hold data in
	// [min, max] (nanoseconds, both inclusive), in time order. rp is never
	// empty (the engine resolves the default policy). An unknown policy is
	// a *meta.RetentionPolicyNotFoundError.
	MapShards(ctx context.Context, db, rp string, min, max int64) ([]Shard, error)
}

// Shard is one shard as the engine reads it. Methods are called
// concurrently.
type Shard interface {
	ID() uint64
	// MatchSeries returns the ids of the series of measurement that match
	// expr (nil: all) and have data in the shard. The bitmap is the
	// caller's.
	MatchSeries(measurement []byte, expr *index.Expr) (*roaring.Bitmap, error)
	// FieldTypes returns the fields of measurement stored in the shard and
	// their types (nil if none). The map is the caller's.
	FieldTypes(measurement string) map[string]models.FieldType
	// Index returns the series index of the shard's database.
	Index() SeriesIndex
	// Cursor opens a cursor over one field of one series for times in
	// [min, max]; typ is the field's type in this shard and the result is
	// a BatchCursor[T] for the matching T (float64, int64, uint64, string,
	// bool). The caller closes it.
	Cursor(seriesKey []byte, id uint64, field string, typ models.FieldType, min, max int64, ascending bool) any
}

// BatchCursor is a storage cursor over one field of one series: batches of
// values in time order (ascending or descending as opened), or, when
// wantStats is set and a whole block qualifies, the block's statistics
// instead of its values. An empty batch means the end. Returned arrays are
// valid until the next call.
type BatchCursor[T block.Value] interface {
	Next(wantStats bool) (engine.Batch[T], error)
	Close()
}

// SeriesIndex is the series index of one database, as the engine reads it.
type SeriesIndex interface {
	// AppendSeriesKey appends the canonical key of series id to dst.
	AppendSeriesKey(dst []byte, id uint64) ([]byte, bool)
	// MeasurementNames returns every measurement with series, sorted.
	MeasurementNames() [][]byte
	// TagKeys returns the tag keys of a measurement, sorted.
	TagKeys(name []byte) [][]byte
}

// ShardGroupReader is the part of meta the local mapper reads.
type ShardGroupReader interface {
	ShardGroupsByTimeRange(db, rp string, min, max time.Time) ([]meta.ShardGroupInfo, error)
}

// ShardStore is the local storage the local mapper reads.
type ShardStore interface {
	Shards(ids []uint64) []*engine.Shard
}

// LocalShardMapper maps queries to the shards of this node.
type LocalShardMapper struct {
	Meta  ShardGroupReader
	Store ShardStore
}

// MapShards implements ShardMapper. Shards that meta lists but the store
// does not hold (no data was ever written to them) are left out.
func (m *LocalShardMapper) MapShards(_ context.Context, db, rp string, min, max int64) ([]Shard, error) {
	groups, err := m.Meta.ShardGroupsByTimeRange(db, rp, time.Unix(0, min).UTC(), time.Unix(0, max).UTC())
	if err != nil {
		return nil, err
	}
	var ids []uint64
	for _, g := range groups {
		for _, sh := range g.Shards {
			ids = append(ids, sh.ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	local := m.Store.Shards(ids)
	out := make([]Shard, len(local))
	for i, sh := range local {
		out[i] = LocalShard{sh}
	}
	return out, nil
}

// LocalShard adapts a storage shard to the Shard interface.
type LocalShard struct{ S *engine.Shard }

// ID implements Shard.
func (s LocalShard) ID() uint64 { return s.S.ID() }

// MatchSeries implements Shard.
func (s LocalShard) MatchSeries(measurement []byte, expr *index.Expr) (*roaring.Bitmap, error) {
	return s.S.MatchSeries(measurement, expr)
}

// FieldTypes implements Shard.
func (s LocalShard) FieldTypes(measurement string) map[string]models.FieldType {
	return s.S.Fields().Fields(measurement)
}

// Index implements Shard.
func (s LocalShard) Index() SeriesIndex { return s.S.Index() }

// Cursor implements Shard.
func (s LocalShard) Cursor(key []byte, id uint64, field string, typ models.FieldType, min, max int64, asc bool) any {
	switch typ {
	case models.Float:
		return engine.NewCursor[float64](s.S, key, id, field, min, max, asc)
	case models.Integer:
		return engine.NewCursor[int64](s.S, key, id, field, min, max, asc)
	case models.Unsigned:
		return engine.NewCursor[uint64](s.S, key, id, field, min, max, asc)
	case models.String:
		return engine.NewCursor[string](s.S, key, id, field, min, max, asc)
	case models.Boolean:
		return engine.NewCursor[bool](s.S, key, id, field, min, max, asc)
	}
	return nil
}
