// Package coordinator routes writes to shards and runs the statements that
// administer meta. It is the seam where a clustered Strata will fan writes
// out to remote shard owners; today every shard is local.
package coordinator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/stats"
	"github.com/stratadb/strata/internal/storage"
)

// MetaClient is what the points writer reads and changes in meta.
type MetaClient interface {
	Database(name string) *meta.DatabaseInfo
	CreateShardGroupIfNotExists(db, rp string, t time.Time) (*meta.ShardGroupInfo, error)
	ShardExists(id uint64) bool
}

// ShardStore is the local storage the points writer writes to.
type ShardStore interface {
	CreateShardIfNotExists(db, rp string, id uint64, stillWanted func() bool) error
	WriteToShard(ctx context.Context, id uint64, points []models.Point) error
}

// PointsWriterOptions configure a PointsWriter.
type PointsWriterOptions struct {
	// WriteTimeout bounds one write ([coordinator] write-timeout).
	WriteTimeout time.Duration
	Now          func() time.Time
	// AfterWrite, when set, is called with the points routed to shards of a
	// write that succeeded or was partial, as 1.x hands them to its
	// subscriber. The points borrow the request buffer: it must encode or
	// copy them before returning, and must not block.
	AfterWrite func(db, rp string, points []models.Point)
}

// PointsWriter writes points to the shards that own their time ranges,
// creating shard groups on demand.
type PointsWriter struct {
	meta    MetaClient
	store   ShardStore
	opts    PointsWriterOptions
	stats   writeStats
	scratch sync.Pool // *writeScratch
}

type writeStats struct {
	req, pointReq, writeOK, writeError, writeDrop, writePartial, writeTimeout atomic.Int64
}

// NewPointsWriter returns a points writer.
func NewPointsWriter(m MetaClient, s ShardStore, opts PointsWriterOptions) *PointsWriter {
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &PointsWriter{meta: m, store: s, opts: opts}
}

// Consistency is a write's consistency level. A single node has one replica
// of each shard, so every level is met once the local write is durable.
type Consistency int

// Consistency levels, as 1.x names them.
const (
	ConsistencyAny Consistency = iota
	ConsistencyOne
	ConsistencyQuorum
	ConsistencyAll
)

// shardBatch is the points of one request bound for one shard.
type shardBatch struct {
	id     uint64
	points []models.Point
}

// writeScratch is the reusable space of one write: the shard of each
// point, and the points regrouped by shard when a request spans shards.
type writeScratch struct {
	shardOf []uint64
	grouped []models.Point
	batches []shardBatch
	counts  []int
	next    []int
}

func (w *PointsWriter) getScratch(n int) *writeScratch {
	sc, _ := w.scratch.Get().(*writeScratch)
	if sc == nil {
		sc = &writeScratch{}
	}
	sc.shardOf = slices.Grow(sc.shardOf[:0], n)[:n]
	clear(sc.shardOf)
	return sc
}

// partition groups the kept points (shardOf != 0) by shard, in request
// order within each shard, into one contiguous pooled slice.
func (sc *writeScratch) partition(points []models.Point, shardOf []uint64) []shardBatch {
	sc.batches = sc.batches[:0]
	sc.counts = sc.counts[:0]
	kept := 0
	for _, id := range shardOf {
		if id == 0 {
			continue
		}
		kept++
		k := sc.batchIndex(id)
		if k == len(sc.batches) {
			sc.batches = append(sc.batches, shardBatch{id: id})
			sc.counts = append(sc.counts, 0)
		}
		sc.counts[k]++
	}
	sc.grouped = slices.Grow(sc.grouped[:0], kept)[:kept]
	sc.next = sc.next[:0]
	off := 0
	for k := range sc.batches {
		sc.next = append(sc.next, off)
		sc.batches[k].points = sc.grouped[off : off+sc.counts[k] : off+sc.counts[k]]
		off += sc.counts[k]
	}
	for i, id := range shardOf {
		if id == 0 {
			continue
		}
		k := sc.batchIndex(id)
		sc.grouped[sc.next[k]] = points[i]
		sc.next[k]++
	}
	return sc.batches
}

// batchIndex is the index of the batch of shard id, or len(batches). A
// request spans few shards, so a scan beats a map.
func (sc *writeScratch) batchIndex(id uint64) int {
	k := 0
	for k < len(sc.batches) && sc.batches[k].id != id {
		k++
	}
	return k
}

// WritePoints writes points to db/rp (rp "" is the default policy). It
// returns nil; a *models.PartialWriteError when some points were dropped
// and the rest written; *models.DatabaseNotFoundError or
// *models.RetentionPolicyNotFoundError; models.ErrWriteTimeout; or another
// error when nothing can be said to have been written.
func (w *PointsWriter) WritePoints(ctx context.Context, db, rp string, points []models.Point) error {
	w.stats.req.Add(1)
	w.stats.pointReq.Add(int64(len(points)))
	dbi := w.meta.Database(db)
	if dbi == nil {
		return &models.DatabaseNotFoundError{Name: db}
	}
	if rp == "" {
		rp = dbi.DefaultRetentionPolicy
	}
	rpi := dbi.RetentionPolicy(rp)
	if rpi == nil {
		return &models.RetentionPolicyNotFoundError{Name: rp}
	}
	if len(points) == 0 {
		return nil
	}

	ctx, cancel := context.WithTimeout(ctx, w.opts.WriteTimeout)
	defer cancel()

	now := w.opts.Now()
	var (
		groups  []*meta.ShardGroupInfo // found so far, to skip meta for later points
		dropped int
		reason  string
	)
	oldest, newest := int64(models.MinNanoTime), int64(models.MaxNanoTime)
	if rpi.Duration > 0 {
		oldest = now.Add(-rpi.Duration).UnixNano()
	}
	if rpi.PastWriteLimit > 0 {
		oldest = max(oldest, now.Add(-rpi.PastWriteLimit).UnixNano())
	}
	if rpi.FutureWriteLimit > 0 {
		newest = now.Add(rpi.FutureWriteLimit).UnixNano()
	}
	// First pass: the shard of every point (0 = dropped). Almost every
	// request lands in one shard; only when it does not are the points
	// copied, into pooled scratch space, grouped by shard.
	scratch := w.getScratch(len(points))
	defer w.scratch.Put(scratch)
	shardOf := scratch.shardOf
	var firstShard uint64
	single := true
	for i := range points {
		t := points[i].Time
		if t < oldest || t > newest {
			dropped++
			reason = "points beyond retention policy"
			continue
		}
		var sg *meta.ShardGroupInfo
		for _, g := range groups {
			if t >= g.StartTime.UnixNano() && t < g.EndTime.UnixNano() {
				sg = g
				break
			}
		}
		if sg == nil {
			g, err := w.meta.CreateShardGroupIfNotExists(db, rp, time.Unix(0, t))
			if err != nil {
				return w.fail(db, fmt.Errorf("create shard group: %w", err))
			}
			if len(g.Shards) == 0 {
				return w.fail(db, fmt.Errorf("BUG: shard group %d has no shards", g.ID))
			}
			sg = g
			groups = append(groups, sg)
		}
		id := sg.Shards[0].ID
		shardOf[i] = id
		if firstShard == 0 {
			firstShard = id
		} else if id != firstShard {
			single = false
		}
	}
	var batches []shardBatch
	switch {
	case firstShard == 0:
		// Every point was dropped.
	case single && dropped == 0:
		batches = append(scratch.batches[:0], shardBatch{id: firstShard, points: points})
	default:
		batches = scratch.partition(points, shardOf)
	}

	var partial *models.PartialWriteError
	if dropped > 0 {
		partial = &models.PartialWriteError{Reason: reason, Dropped: dropped}
	}
	errs := make([]error, len(batches))
	if len(batches) == 1 {
		errs[0] = w.writeShard(ctx, db, rp, batches[0])
	} else {
		var wg sync.WaitGroup
		for k := range batches {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[k] = w.writeShard(ctx, db, rp, batches[k])
			}()
		}
		wg.Wait()
	}
	for _, err := range errs {
		var pe *models.PartialWriteError
		if err != nil && !errors.As(err, &pe) {
			return w.fail(db, err)
		}
	}
	if w.opts.AfterWrite != nil {
		for _, b := range batches {
			w.opts.AfterWrite(db, rp, b.points)
		}
	}
	for _, err := range errs {
		var pe *models.PartialWriteError
		switch {
		case err == nil:
		case errors.As(err, &pe):
			if partial == nil {
				partial = &models.PartialWriteError{Reason: pe.Reason}
			}
			partial.Dropped += pe.Dropped
		default:
			return w.fail(db, err)
		}
	}
	if partial != nil {
		w.stats.writePartial.Add(1)
		w.stats.writeDrop.Add(int64(partial.Dropped))
		return partial
	}
	w.stats.writeOK.Add(1)
	return nil
}

func (w *PointsWriter) writeShard(ctx context.Context, db, rp string, b shardBatch) error {
	err := w.store.CreateShardIfNotExists(db, rp, b.id, func() bool { return w.meta.ShardExists(b.id) })
	if err != nil {
		return err
	}
	return w.store.WriteToShard(ctx, b.id, b.points)
}

// fail classifies an error: a database dropped under the write becomes
// "database not found", a deadline becomes 1.x's "timeout".
func (w *PointsWriter) fail(db string, err error) error {
	if w.meta.Database(db) == nil {
		return &models.DatabaseNotFoundError{Name: db}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		w.stats.writeTimeout.Add(1)
		return models.ErrWriteTimeout
	}
	if errors.Is(err, storage.ErrShardNotFound) {
		// The shard group was deleted (retention, DROP SHARD) under us.
		w.stats.writeError.Add(1)
		return fmt.Errorf("shard dropped during write: %w", err)
	}
	w.stats.writeError.Add(1)
	return err
}

// Statistics reports the "write" statistic with 1.x's names.
func (w *PointsWriter) Statistics(tags map[string]string) []stats.Statistic {
	return []stats.Statistic{{Name: "write", Tags: tags, Values: map[string]any{
		"req":          w.stats.req.Load(),
		"pointReq":     w.stats.pointReq.Load(),
		"writeOk":      w.stats.writeOK.Load(),
		"writeError":   w.stats.writeError.Load(),
		"writeDrop":    w.stats.writeDrop.Load(),
		"writePartial": w.stats.writePartial.Load(),
		"writeTimeout": w.stats.writeTimeout.Load(),
	}}}
}
