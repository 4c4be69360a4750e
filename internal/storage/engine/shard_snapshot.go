package engine

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/tsm"
	"github.com/stratadb/strata/internal/vfs"
)

// snapshot moves the cache into a new level-1 data file. Writes go on into a
// fresh cache and a fresh WAL segment meanwhile; readers see the snapshot
// until the file replaces it. A snapshot that fails stays pending (its WAL
// segments are kept) and is retried first next time, so nothing is lost
// and files are always installed in WAL order.
func (s *Shard) snapshot(ctx context.Context, reason string) error {
	s.snapMu.Lock()
	defer s.snapMu.Unlock()

	s.mu.Lock()
	if s.mu.closed {
		s.mu.Unlock()
		return ErrShardClosed
	}
	if s.mu.cache.Size() > 0 {
		closed, err := s.wal.Rotate()
		if err != nil {
			s.mu.Unlock()
			return fmt.Errorf("rotate wal: %w", err)
		}
		s.mu.snapshots = append(s.mu.snapshots, &pendingSnapshot{cache: s.mu.cache, walSegment: closed, gen: s.mu.nextGen})
		s.mu.nextGen++
		s.mu.cache = newCache()
	}
	pending := slices.Clone(s.mu.snapshots)
	s.mu.Unlock()

	for _, p := range pending {
		if err := s.writeSnapshot(ctx, p, reason); err != nil {
			s.stats.snapshotErrors.Add(1)
			return err
		}
	}
	return nil
}

func (s *Shard) writeSnapshot(ctx context.Context, p *pendingSnapshot, reason string) error {
	start := time.Now()
	s.logger.Info(fmt.Sprintf("Flushing %d series with %d points and %d bytes from shard %d",
		p.cache.seriesCount(), p.cache.Values(), p.cache.Size(), s.id), "reason", reason)

	name := dataFileName(p.gen, 1)
	path := filepath.Join(s.dir, name)
	if err := s.writeCacheFile(ctx, p.cache, path); err != nil {
		return fmt.Errorf("snapshot shard %d: %w", s.id, err)
	}
	r, err := tsm.Open(s.fs, path)
	if err != nil {
		return fmt.Errorf("snapshot shard %d: open %s: %w", s.id, path, err)
	}
	// The WAL segments may go only once everything they hold is durable
	// elsewhere: the data file, the field types, the shard's series, and
	// the checkpoint saying which segments that covers.
	if err := s.fields.save(s.fs, s.dir); err != nil {
		r.Close()
		return err
	}
	if err := s.series.save(s.fs, s.dir); err != nil {
		r.Close()
		return err
	}
	// From here a restart loads the file and skips the covered segments;
	// deletes that reach the pending snapshot from now on are logged in
	// later segments, which replay applies to the loaded files.
	if err := saveCheckpoint(s.fs, s.dir, p.walSegment); err != nil {
		r.Close()
		return err
	}
	s.checkpoint = p.walSegment
	df := newDataFile(r, p.gen, 1)
	df.fs = s.fs

	s.mu.Lock()
	// Deletes that arrived while the file was being written apply to it.
	if late := p.deletes.take(); len(late) > 0 {
		if err := r.AddTombstones(late); err != nil {
			p.deletes.add(late) // for the retry
			s.mu.Unlock()
			r.Close()
			return fmt.Errorf("snapshot shard %d: tombstones: %w", s.id, err)
		}
	}
	s.mu.files = append(s.mu.files, df)
	slices.SortFunc(s.mu.files, func(a, b *dataFile) int { return cmpUint(a.gen, b.gen) })
	s.mu.snapshots = slices.DeleteFunc(s.mu.snapshots, func(q *pendingSnapshot) bool { return q == p })
	close(s.mu.snapDone)
	s.mu.snapDone = make(chan struct{})
	s.mu.Unlock()

	s.removeWAL()
	s.stats.snapshots.Add(1)
	s.lastChange.Store(s.opts.Now().UnixNano())
	s.logger.Debug("snapshot written", "file", name, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// removeWAL removes the segments the checkpoint covers, unless a failed
// compaction requires keeping them (keepWAL). A failed removal is only
// logged: replay skips covered segments, and the next snapshot retries.
func (s *Shard) removeWAL() {
	if s.keepWAL.Load() {
		return
	}
	if err := s.wal.Remove(s.checkpoint); err != nil {
		s.logger.Warn("removing snapshotted wal segments", "err", err)
	}
}

// writeCacheFile writes every column of a cache to a new data file at path,
// installed atomically.
func (s *Shard) writeCacheFile(ctx context.Context, c *Cache, path string) error {
	cols := c.columns()
	type keyed struct {
		key []byte
		col *cacheColumn
	}
	keys := make([]keyed, 0, len(cols))
	for i := range cols {
		sk := s.index.SeriesKey(cols[i].id)
		if sk == nil {
			continue // dropped since it was written
		}
		keys = append(keys, keyed{key: models.AppendFieldKey(nil, sk, []byte(cols[i].field)), col: &cols[i]})
	}
	slices.SortFunc(keys, func(a, b keyed) int { return bytes.Compare(a.key, b.key) })

	tmp := path + ".tmp"
	f, err := vfs.Create(s.fs, tmp)
	if err != nil {
		return err
	}
	w := tsm.NewWriter(f)
	for i, k := range keys {
		if i%1024 == 0 && ctx.Err() != nil {
			w.Close()
			s.fs.Remove(tmp)
			return ctx.Err()
		}
		if err := writeColumn(w, k.key, k.col); err != nil {
			w.Close()
			s.fs.Remove(tmp)
			return err
		}
	}
	// Close writes the index, fsyncs and closes f.
	if err := w.Close(); err != nil {
		s.fs.Remove(tmp)
		return err
	}
	return vfs.Install(s.fs, tmp, path)
}

func writeColumn(w *tsm.Writer, key []byte, c *cacheColumn) error {
	switch c.typ {
	case models.Float:
		return w.WriteArray(key, toArray[float64](*c))
	case models.Integer:
		return w.WriteArray(key, toArray[int64](*c))
	case models.Unsigned:
		return w.WriteArray(key, toArray[uint64](*c))
	case models.Boolean:
		return w.WriteArray(key, toArray[bool](*c))
	case models.String:
		return w.WriteArray(key, toArray[string](*c))
	}
	return fmt.Errorf("BUG: cache column of type %d", c.typ)
}
