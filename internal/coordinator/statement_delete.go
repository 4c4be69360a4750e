package coordinator

import (
	"context"
	"fmt"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/query"
	"github.com/stratadb/strata/internal/storage/block"
	"github.com/stratadb/strata/internal/storage/engine"
	"github.com/stratadb/strata/internal/storage/index"
)

// DROP MEASUREMENT, DROP SERIES and DELETE, with 1.x's rules:
//
//   - they act on the request's database (the db parameter; FROM may not
//     name one), "database not found: <db>" otherwise;
//   - their WHERE clause may name tags only: a field of a measurement they
//     delete from is ErrFieldsInDeletion;
//   - DROP SERIES allows no time condition; DELETE deletes the points in
//     its time range;
//   - a series whose data is all gone leaves the index (SHOW SERIES no
//     longer lists it), and a measurement without series leaves SHOW
//     MEASUREMENTS; DROP MEASUREMENT also forgets the field types, so a
//     new measurement of that name may use other types.
//
// Writes to other series go on meanwhile. Storage deletes hold a shard
// only shared, like a write, and the index's commit lock only while it
// records tombstones; to bound how long any of those holds (and so how long
// a snapshot, and the writers queued behind it, can wait), the series are
// deleted deleteBatch at a time. TestDeleteWriteLatency measures it.

// deleteBatch is how many series one storage call deletes.
const deleteBatch = 4096

// chunks calls fn with the ids of set, deleteBatch at a time.
func chunks(ctx context.Context, set *roaring.Bitmap, fn func(*roaring.Bitmap) error) error {
	it := set.ManyIterator()
	buf := make([]uint32, deleteBatch)
	for {
		n := it.NextMany(buf)
		if n == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(roaring.BitmapOf(buf[:n]...)); err != nil {
			return err
		}
	}
}

// dropMeasurement deletes the measurement's series a batch at a time,
// then lets storage forget the measurement and its field types. An
// unknown measurement is not an error (1.x).
func (e *StatementExecutor) dropMeasurement(ctx context.Context, s *influxql.DropMeasurementStatement, db string) error {
	if e.Meta.Data().Database(db) == nil {
		return &meta.DatabaseNotFoundError{Name: db}
	}
	store, err := e.seriesStore()
	if err != nil {
		return err
	}
	idx := store.Index(db)
	if idx == nil {
		return nil
	}
	err = chunks(ctx, idx.MeasurementSeries([]byte(s.Name)), func(ids *roaring.Bitmap) error {
		return store.DropSeries(ctx, db, ids)
	})
	if err != nil {
		return fmt.Errorf("drop measurement %s: %w", s.Name, err)
	}
	if err := store.DropMeasurement(ctx, db, s.Name); err != nil {
		return fmt.Errorf("drop measurement %s: %w", s.Name, err)
	}
	return nil
}

// dropSeries answers DROP SERIES: DELETE over all time, refusing a time
// condition.
func (e *StatementExecutor) dropSeries(ctx context.Context, s *influxql.DropSeriesStatement, db string) error {
	if e.Meta.Data().Database(db) == nil {
		return &meta.DatabaseNotFoundError{Name: db}
	}
	if influxql.HasTimeExpr(s.Condition) {
		return &TimeConditionError{Statement: "DROP SERIES"}
	}
	return e.deleteWhere(ctx, db, s.Sources, s.Condition)
}

// deleteSeries answers DELETE.
func (e *StatementExecutor) deleteSeries(ctx context.Context, s *influxql.DeleteSeriesStatement, db string) error {
	if e.Meta.Data().Database(db) == nil {
		return &meta.DatabaseNotFoundError{Name: db}
	}
	return e.deleteWhere(ctx, db, s.Sources, s.Condition)
}

// deleteWhere deletes, from the measurements sources name (all without
// sources), the points of the series matching cond's tag condition in its
// time range.
func (e *StatementExecutor) deleteWhere(ctx context.Context, db string, sources influxql.Sources, cond influxql.Expr) error {
	store, err := e.seriesStore()
	if err != nil {
		return err
	}
	rest, min, max, err := query.SplitTime(cond, e.now())
	if err != nil {
		return err
	}
	idx := store.Index(db)
	if idx == nil {
		return nil
	}
	names := matchNames(idx.MeasurementNames(), sources)
	if len(names) == 0 {
		return nil
	}
	if err := e.checkNoFields(db, names, rest); err != nil {
		return err
	}
	tc, ok := query.TagExpr(rest)
	if !ok {
		return ErrInvalidTagComparison
	}
	if tc.None {
		return nil
	}
	all := min == influxql.MinTime && max == influxql.MaxTime
	for _, name := range names {
		ids, err := idx.Match(name, tc.Expr)
		if err != nil {
			return err
		}
		err = chunks(ctx, ids, func(chunk *roaring.Bitmap) error {
			if all {
				return store.DropSeries(ctx, db, chunk)
			}
			return e.deleteRange(ctx, store, idx, db, string(name), chunk, min, max)
		})
		if err != nil {
			return fmt.Errorf("delete from %s: %w", name, err)
		}
	}
	return nil
}

// checkNoFields refuses a condition that names a field of one of the
// measurements (in any shard of db).
func (e *StatementExecutor) checkNoFields(db string, names [][]byte, cond influxql.Expr) error {
	if cond == nil {
		return nil
	}
	var refs []*influxql.VarRef
	influxql.WalkFunc(cond, func(n influxql.Node) {
		if r, ok := n.(*influxql.VarRef); ok {
			refs = append(refs, r)
		}
	})
	if len(refs) == 0 {
		return nil
	}
	_, fields, err := e.measurementFields(db, nil)
	if err != nil {
		return err
	}
	for _, r := range refs {
		switch r.Type {
		case influxql.Tag:
			continue
		case influxql.Float, influxql.Integer, influxql.Unsigned, influxql.String, influxql.Boolean, influxql.AnyField:
			return ErrFieldsInDeletion
		}
		for _, name := range names {
			for _, f := range fields[string(name)] {
				if f.name == r.Val {
					return ErrFieldsInDeletion
				}
			}
		}
	}
	return nil
}

// deleteRange deletes the series' points in [min, max]. Shards whose whole
// window lies in the range lose the series entirely; in the others the
// series that have no point left are forgotten too; and the series that no
// shard holds any more leave the index, as in 1.x.
func (e *StatementExecutor) deleteRange(ctx context.Context, store SeriesStore, idx *index.Index, db, name string, ids *roaring.Bitmap, min, max int64) error {
	var covered, partial []uint64
	di := e.Meta.Data().Database(db)
	if di == nil {
		return nil
	}
	tmin, tmax := time.Unix(0, min), time.Unix(0, max)
	for i := range di.RetentionPolicies {
		for j := range di.RetentionPolicies[i].ShardGroups {
			sg := &di.RetentionPolicies[i].ShardGroups[j]
			if sg.Deleted() || !sg.Overlaps(tmin, tmax) {
				continue
			}
			whole := !sg.StartTime.Before(tmin) && sg.EndTime.Add(-1).UnixNano() <= max
			for _, sh := range sg.Shards {
				if whole {
					covered = append(covered, sh.ID)
				} else {
					partial = append(partial, sh.ID)
				}
			}
		}
	}
	// A nil list means "every shard" to storage: never pass one.
	if len(covered) > 0 {
		if err := store.DeleteSeriesRange(ctx, db, covered, ids, influxql.MinTime, influxql.MaxTime); err != nil {
			return err
		}
	}
	if len(partial) > 0 {
		if err := store.DeleteSeriesRange(ctx, db, partial, ids, min, max); err != nil {
			return err
		}
		for _, sh := range store.Shards(partial) {
			empty, err := seriesWithoutData(sh, idx, name, roaring.And(ids, sh.SeriesIDs()))
			if err != nil {
				return err
			}
			if err := sh.DropSeries(ctx, empty); err != nil {
				return fmt.Errorf("shard %d: %w", sh.ID(), err)
			}
		}
	}
	// The series still held by some shard of the database stay indexed.
	orphans := ids.Clone()
	for _, sh := range store.Shards(e.shardIDs(db, "", influxql.MinTime, influxql.MaxTime)) {
		orphans.AndNot(sh.SeriesIDs())
		if orphans.IsEmpty() {
			return nil
		}
	}
	return idx.DropSeries(orphans)
}

// seriesWithoutData returns the series of set (of measurement name) that
// have no value of any field left in the shard.
func seriesWithoutData(sh *engine.Shard, idx *index.Index, name string, set *roaring.Bitmap) ([]uint64, error) {
	fields := sh.Fields().Fields(name)
	var empty []uint64
	it := set.Iterator()
	for it.HasNext() {
		id := uint64(it.Next())
		key := idx.SeriesKey(id)
		if key == nil {
			continue
		}
		found := false
		for f, typ := range fields {
			ok, err := hasValues(sh, key, id, f, typ)
			if err != nil {
				return nil, fmt.Errorf("shard %d: read %s %s: %w", sh.ID(), key, f, err)
			}
			if ok {
				found = true
				break
			}
		}
		if !found {
			empty = append(empty, id)
		}
	}
	return empty, nil
}

// hasValues reports whether one field of one series has a value left.
func hasValues(sh *engine.Shard, key []byte, id uint64, field string, typ models.FieldType) (bool, error) {
	switch typ {
	case models.Float:
		return cursorHasValues[float64](sh, key, id, field)
	case models.Integer:
		return cursorHasValues[int64](sh, key, id, field)
	case models.Unsigned:
		return cursorHasValues[uint64](sh, key, id, field)
	case models.String:
		return cursorHasValues[string](sh, key, id, field)
	case models.Boolean:
		return cursorHasValues[bool](sh, key, id, field)
	}
	return false, nil
}

func cursorHasValues[T block.Value](sh *engine.Shard, key []byte, id uint64, field string) (bool, error) {
	c := engine.NewCursor[T](sh, key, id, field, influxql.MinTime, influxql.MaxTime, true)
	defer c.Close()
	b, err := c.Next(false)
	if err != nil {
		return false, err
	}
	return b.Len() > 0 || b.Stats != nil, nil
}
