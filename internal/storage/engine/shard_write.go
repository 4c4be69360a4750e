package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/index"
)

// writeBatch is the reusable scratch space of one write.
type writeBatch struct {
	key      []byte
	ids      []uint64
	rejected []error
	specs    []index.SeriesSpec
	specIdx  []int // point index of each spec
	enc      recordEncoder
	payload  []byte
}

func (s *Shard) getBatch(n int) *writeBatch {
	b, _ := s.writeBuf.Get().(*writeBatch)
	if b == nil {
		b = &writeBatch{}
	}
	b.ids = slices.Grow(b.ids[:0], n)[:n]
	clear(b.ids)
	b.rejected = slices.Grow(b.rejected[:0], n)[:n]
	clear(b.rejected)
	b.specs = b.specs[:0]
	b.specIdx = b.specIdx[:0]
	b.enc.reset()
	b.payload = b.payload[:0]
	return b
}

func (s *Shard) putBatch(b *writeBatch) {
	// Do not keep huge buffers alive after one unusual request.
	if cap(b.payload) > 64<<20 {
		return
	}
	clear(b.specs)
	s.writeBuf.Put(b)
}

type shardStats struct {
	writeReq           atomic.Int64
	writePointsOK      atomic.Int64
	writePointsDropped atomic.Int64
	writePointsErr     atomic.Int64
	writeValuesOK      atomic.Int64
	seriesCreate       atomic.Int64
	cacheFullWaits     atomic.Int64
	snapshots          atomic.Int64
	snapshotErrors     atomic.Int64
	compactions        [4]atomic.Int64 // by output level 2, 3, 4 (full), optimise
	compactionErrors   atomic.Int64
	compactionDuration atomic.Int64
}

// WritePoints writes points durably to the shard. Points that cannot be
// stored (a field type conflict, a series limit) are dropped and reported in
// a *models.PartialWriteError while the others are written; any other error
// means nothing of this call was acknowledged.
func (s *Shard) WritePoints(ctx context.Context, points []models.Point) error {
	s.stats.writeReq.Add(1)
	b := s.getBatch(len(points))
	defer s.putBatch(b)

	// Resolve series ids; remember the unknown ones for one CreateSeries.
	for i := range points {
		p := &points[i]
		b.key = models.AppendSeriesKey(b.key[:0], p.Measurement, p.Tags)
		if id := s.index.SeriesID(b.key); id != 0 {
			b.ids[i] = id
			continue
		}
		b.specs = append(b.specs, index.SeriesSpec{
			Key: append([]byte(nil), b.key...), Measurement: p.Measurement, Tags: p.Tags,
		})
		b.specIdx = append(b.specIdx, i)
	}
	if len(b.specs) > 0 {
		if err := s.index.CreateSeries(b.specs); err != nil {
			s.stats.writePointsErr.Add(int64(len(points)))
			return fmt.Errorf("create series: %w", err)
		}
		created := 0
		for k := range b.specs {
			i := b.specIdx[k]
			if b.specs[k].Err != nil {
				b.rejected[i] = b.specs[k].Err
				continue
			}
			b.ids[i] = b.specs[k].ID
			created++
		}
		s.stats.seriesCreate.Add(int64(created))
	}

	// Check field types and encode the accepted points.
	var firstErr error
	dropped := 0
	values := 0
	for i := range points {
		p := &points[i]
		err := b.rejected[i]
		if err == nil {
			err = s.fields.check(p.Measurement, p.Fields)
		}
		if err == nil {
			for k := range p.Fields {
				if p.Fields[k].Type == models.Float && !floatOK(p.Fields[k].Bits) {
					err = fmt.Errorf("invalid number: field %q is NaN or infinite", p.Fields[k].Key)
					break
				}
			}
		}
		if err != nil {
			b.rejected[i] = err
			dropped++
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		b.enc.add(b.ids[i], p.Time, p.Fields)
		values += len(p.Fields)
	}
	var partial error
	if dropped > 0 {
		s.stats.writePointsDropped.Add(int64(dropped))
		partial = &models.PartialWriteError{Reason: firstErr.Error(), Dropped: dropped}
	}
	if dropped == len(points) {
		return partial
	}

	if err := s.waitForCache(ctx); err != nil {
		s.stats.writePointsErr.Add(int64(len(points) - dropped))
		return err
	}
	b.payload = b.enc.encode(b.payload[:0])

	s.mu.RLock()
	if s.mu.closed {
		s.mu.RUnlock()
		return ErrShardClosed
	}
	if _, err := s.wal.Write(ctx, recordWrite, b.payload); err != nil {
		s.mu.RUnlock()
		s.stats.writePointsErr.Add(int64(len(points) - dropped))
		return fmt.Errorf("write wal: %w", err)
	}
	cache := s.mu.cache
	for i := range points {
		if b.rejected[i] != nil {
			continue
		}
		cache.WritePoint(b.ids[i], points[i].Fields, points[i].Time)
		s.series.add(b.ids[i])
	}
	size := cache.Size()
	s.mu.RUnlock()

	now := s.opts.Now().UnixNano()
	s.lastWrite.Store(now)
	s.lastChange.Store(now)
	s.stats.writePointsOK.Add(int64(len(points) - dropped))
	s.stats.writeValuesOK.Add(int64(values))
	if size >= s.opts.CacheSnapshotMemorySize {
		select {
		case s.snapshotCh <- struct{}{}:
		default:
		}
	}
	return partial
}

// waitForCache applies back-pressure: while the memory held by the cache
// and its pending snapshots is over cache-max-memory-size, the writer waits
// for a snapshot to complete, until ctx ends ([coordinator] write-timeout).
// 1.x refuses such writes at once; waiting first turns a burst into latency
// rather than errors.
func (s *Shard) waitForCache(ctx context.Context) error {
	for {
		s.mu.RLock()
		size := s.mu.cache.Size()
		for _, p := range s.mu.snapshots {
			size += p.cache.Size()
		}
		done := s.mu.snapDone
		closed := s.mu.closed
		s.mu.RUnlock()
		if closed {
			return ErrShardClosed
		}
		if size < s.opts.CacheMaxMemorySize {
			return nil
		}
		s.stats.cacheFullWaits.Add(1)
		select {
		case s.snapshotCh <- struct{}{}:
		default:
		}
		select {
		case <-done:
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return &CacheFullError{Size: size, Max: s.opts.CacheMaxMemorySize}
			}
			return ctx.Err()
		}
	}
}
