package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/index"
	"github.com/stratadb/strata/internal/storage/tsm"
	"github.com/stratadb/strata/internal/storage/wal"
	"github.com/stratadb/strata/internal/vfs"
)

// Options configure every shard of an engine; they come from [data].
type Options struct {
	// CacheMaxMemorySize is the cache size past which writers wait for a
	// snapshot, and are refused when it does not come in time.
	CacheMaxMemorySize int64
	// CacheSnapshotMemorySize triggers a snapshot of the cache into a file.
	CacheSnapshotMemorySize int64
	// CacheSnapshotWriteColdDuration snapshots a shard that has not been
	// written to for this long.
	CacheSnapshotWriteColdDuration time.Duration
	// CompactFullWriteColdDuration fully compacts a shard that has not been
	// written to for this long.
	CompactFullWriteColdDuration time.Duration
	// WALFsyncDelay is the WAL's group-commit window.
	WALFsyncDelay time.Duration
	// WALSegmentSize is the WAL segment size (default 10 MiB).
	WALSegmentSize int64
	// Compactor runs compactions for every shard of the engine, bounded in
	// throughput and concurrency; nil runs them unthrottled.
	Compactor *Compactor
	// CheckInterval is how often background work (cold snapshots,
	// compaction planning) is considered; default 1 s.
	CheckInterval time.Duration
	Logger        *slog.Logger
	// Now is the clock, for tests; default time.Now.
	Now func() time.Time
}

func (o *Options) withDefaults() Options {
	c := *o
	if c.CacheMaxMemorySize <= 0 {
		c.CacheMaxMemorySize = 1 << 30
	}
	if c.CacheSnapshotMemorySize <= 0 {
		c.CacheSnapshotMemorySize = 25 << 20
	}
	if c.CacheSnapshotWriteColdDuration <= 0 {
		c.CacheSnapshotWriteColdDuration = 10 * time.Minute
	}
	if c.CompactFullWriteColdDuration <= 0 {
		c.CompactFullWriteColdDuration = 4 * time.Hour
	}
	if c.CheckInterval <= 0 {
		c.CheckInterval = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Shard is one shard's storage engine: a WAL, a cache of recent writes, and
// immutable data files that the cache is snapshotted into and that are
// compacted in the background. All its methods are safe for concurrent use.
type Shard struct {
	// arrays recycles the decode buffers of cursors, by field type: a
	// query opens a cursor per series and field, often to decode a single
	// block (lastpoint), and fresh arrays each time cost as much as the
	// decode in allocation and garbage collection.
	arrays [models.Boolean + 1]sync.Pool
	// chunkLists recycles cursors' chunk lists by field type (a
	// *[]chunk[T]), and entryLists the index entries NewCursor looks up
	// (a *[]tsmEntry): with a cursor per series and field, fresh lists
	// were most of a lastpoint query's garbage.
	chunkLists [models.Boolean + 1]sync.Pool
	entryLists sync.Pool
	id         uint64
	db, rp     string
	dir        string
	walDir     string
	fs         vfs.FS
	opts       Options
	index      *index.Index
	logger     *slog.Logger
	fields     *FieldSet
	series     *seriesSet
	wal        *wal.WAL
	writeBuf   sync.Pool // *writeBatch

	// mu guards the fields below. Writers hold it shared from their WAL
	// append to their cache insert, so that a snapshot (which holds it
	// exclusively while it rotates the WAL and swaps the cache) never splits
	// one write between a WAL segment and the wrong cache.
	mu struct {
		sync.RWMutex
		cache     *Cache
		snapshots []*pendingSnapshot // oldest first; being written to files
		files     []*dataFile        // oldest first
		nextGen   uint64
		closed    bool
		// snapDone is closed and replaced whenever a snapshot completes,
		// waking writers that wait for cache memory.
		snapDone chan struct{}
	}

	snapMu    sync.Mutex // one snapshot at a time, oldest pending first
	compactMu sync.Mutex // one compaction per shard at a time

	lastWrite  atomic.Int64 // unix ns of the last write
	lastChange atomic.Int64 // unix ns of the last write, snapshot or compaction
	snapshotCh chan struct{}
	stop       chan struct{}
	wg         sync.WaitGroup
	stats      shardStats

	// ctx is cancelled by Close, so that a throttled compaction does not
	// hold Close (DROP SHARD, retention, shutdown) for minutes.
	ctx    context.Context
	cancel context.CancelFunc
	// checkpoint is the last WAL segment the data files cover (guarded by
	// snapMu; see checkpoint.go).
	checkpoint uint64
	// keepWAL is set when a compaction could not undo an installed output:
	// from then on no WAL segment is removed until the shard is reopened,
	// so that replay restores every later delete whatever files load.
	keepWAL atomic.Bool
}

type pendingSnapshot struct {
	cache      *Cache
	walSegment uint64 // the last WAL segment it covers
	gen        uint64
	deletes    deleteLog
}

// OpenShard opens (or creates) the shard with the given id in dir, with its
// WAL in walDir, replaying the WAL into the cache. idx is the database's
// series index.
func OpenShard(fsys vfs.FS, id uint64, db, rp, dir, walDir string, idx *index.Index, opts Options) (*Shard, error) {
	opts = opts.withDefaults()
	s := &Shard{
		id: id, db: db, rp: rp, dir: dir, walDir: walDir, fs: fsys, opts: opts, index: idx,
		logger:     opts.Logger.With("shard", id, "db", db, "rp", rp),
		snapshotCh: make(chan struct{}, 1),
		stop:       make(chan struct{}),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.mu.cache = newCache()
	s.mu.snapDone = make(chan struct{})
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open shard %d: %w", id, err)
	}
	var err error
	if s.fields, err = loadFieldSet(fsys, dir); err != nil {
		return nil, fmt.Errorf("open shard %d: %w", id, err)
	}
	if err := s.openFiles(); err != nil {
		s.closeFiles()
		return nil, fmt.Errorf("open shard %d: %w", id, err)
	}
	if s.series, err = loadSeriesSet(fsys, dir); err != nil {
		s.logger.Warn("rebuilding shard series set", "err", err)
		s.series = s.rebuildSeriesSet()
	}
	if s.checkpoint, err = loadCheckpoint(fsys, dir); err != nil {
		s.closeFiles()
		return nil, fmt.Errorf("open shard %d: %w", id, err)
	}
	s.wal, err = wal.Open(fsys, walDir, wal.Options{
		SegmentSize: opts.WALSegmentSize, FsyncDelay: opts.WALFsyncDelay, Logger: s.logger,
		MinSegmentID: s.checkpoint + 1,
	})
	if err != nil {
		s.closeFiles()
		return nil, fmt.Errorf("open shard %d wal: %w", id, err)
	}
	if err := s.replay(); err != nil {
		s.wal.Close()
		s.closeFiles()
		return nil, fmt.Errorf("open shard %d: replay wal: %w", id, err)
	}
	// Segments the data files already cover are skipped by replay; try
	// again to remove those a failed or interrupted removal left behind.
	if err := s.wal.Remove(s.checkpoint); err != nil {
		s.logger.Warn("removing wal segments already in data files", "err", err)
	}
	now := opts.Now().UnixNano()
	s.lastWrite.Store(now)
	s.lastChange.Store(now)
	s.wg.Add(1)
	go s.background()
	return s, nil
}

// ID returns the shard id.
func (s *Shard) ID() uint64 { return s.id }

// Database returns the shard's database.
func (s *Shard) Database() string { return s.db }

// RetentionPolicy returns the shard's retention policy.
func (s *Shard) RetentionPolicy() string { return s.rp }

// Fields returns the shard's field types.
func (s *Shard) Fields() *FieldSet { return s.fields }

// replay loads the WAL into the cache.
func (s *Shard) replay() error {
	start := time.Now()
	var points, records int
	cache := s.mu.cache
	st, err := s.wal.ReplayAfter(s.checkpoint, func(typ byte, payload []byte) error {
		records++
		switch typ {
		case recordWrite:
			return decodeWriteRecord(payload, func(id uint64, t int64, fields []models.Field) {
				key := s.index.SeriesKey(id)
				if key == nil {
					return // the series was dropped after this write
				}
				m := models.MeasurementFromSeriesKey(key)
				for i := range fields {
					s.fields.set(string(m), string(fields[i].Key), fields[i].Type)
				}
				cache.WritePoint(id, fields, t)
				s.series.add(id)
				points++
			})
		case recordDelete:
			ids, min, max, err := decodeDeleteRecord(payload)
			if err != nil {
				return err
			}
			if err := s.applyDelete(ids, min, max); err != nil {
				return err
			}
			if min == models.MinNanoTime && max == models.MaxNanoTime {
				s.series.remove(ids)
			}
			return nil
		case recordDropFields:
			name, err := decodeDropFieldsRecord(payload)
			if err != nil {
				return err
			}
			s.fields.dropMeasurement(name)
			return nil
		default:
			return fmt.Errorf("%w: unknown record type %d", errBadRecord, typ)
		}
	})
	if err != nil {
		return err
	}
	if records > 0 || st.DroppedBytes > 0 {
		s.logger.Info("replayed wal", "records", records, "points", points,
			"dropped_bytes", st.DroppedBytes, "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// dataFileName is the name of a data file: generation and level.
func dataFileName(gen uint64, level int) string {
	return fmt.Sprintf("%09d-%02d.tsm", gen, level)
}

func parseDataFileName(name string) (gen uint64, level int, ok bool) {
	base, found := strings.CutSuffix(name, ".tsm")
	if !found {
		return 0, 0, false
	}
	g, l, found := strings.Cut(base, "-")
	if !found {
		return 0, 0, false
	}
	gen, err1 := strconv.ParseUint(g, 10, 64)
	lv, err2 := strconv.Atoi(l)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return gen, lv, true
}

// openFiles opens the shard's data files, removing leftovers of writes that
// never completed (temporary files) and files a finished compaction
// replaced (recorded in the compaction's marker, see compact.go).
func (s *Shard) openFiles() error {
	if err := s.finishInterruptedCompactions(); err != nil {
		return err
	}
	entries, err := s.fs.ReadDir(s.dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".tmp") {
			if err := s.fs.Remove(filepath.Join(s.dir, name)); err != nil {
				return err
			}
			continue
		}
		gen, level, ok := parseDataFileName(name)
		if !ok {
			continue
		}
		r, err := tsm.Open(s.fs, filepath.Join(s.dir, name))
		if err != nil {
			return err
		}
		s.mu.files = append(s.mu.files, newDataFile(r, gen, level))
		s.mu.nextGen = max(s.mu.nextGen, gen+1)
	}
	slices.SortFunc(s.mu.files, func(a, b *dataFile) int { return cmpUint(a.gen, b.gen) })
	if s.mu.nextGen == 0 {
		s.mu.nextGen = 1
	}
	return nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *Shard) closeFiles() error {
	var errs []error
	for _, f := range s.mu.files {
		errs = append(errs, f.release())
	}
	s.mu.files = nil
	return errors.Join(errs...)
}

// Close flushes nothing (the WAL holds everything not yet in files), stops
// background work, and closes files. In-flight writes finish first.
func (s *Shard) Close() error {
	s.mu.Lock()
	if s.mu.closed {
		s.mu.Unlock()
		return nil
	}
	s.mu.closed = true
	// Wake writers waiting for cache memory: they see closed and return
	// ErrShardClosed instead of waiting out their deadline.
	close(s.mu.snapDone)
	s.mu.snapDone = make(chan struct{})
	s.mu.Unlock()
	s.cancel() // ends a throttled compaction or snapshot early
	close(s.stop)
	s.wg.Wait()
	// Wait for a snapshot or compaction that is under way.
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
	var errs []error
	errs = append(errs, s.fields.save(s.fs, s.dir))
	if s.series.isDirty() {
		errs = append(errs, s.series.save(s.fs, s.dir))
	}
	errs = append(errs, s.wal.Close())
	s.mu.Lock()
	errs = append(errs, s.closeFiles())
	s.mu.Unlock()
	return errors.Join(errs...)
}

// Flush snapshots the cache into a data file now (used at shutdown by
// callers that want a fast next start, and by tests).
func (s *Shard) Flush() error { return s.snapshot(context.Background(), "flush") }

// FlushContext is Flush bounded by ctx; a snapshot cut short stays pending
// and its data stays in the WAL.
func (s *Shard) FlushContext(ctx context.Context) error { return s.snapshot(ctx, "shutdown") }

// background snapshots a cold or full cache and compacts files.
func (s *Shard) background() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.CheckInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-s.snapshotCh:
			if err := s.snapshot(s.ctx, "cache full"); err != nil && s.ctx.Err() == nil {
				s.logger.Error("snapshot failed", "err", err)
			}
		case <-t.C:
			now := s.opts.Now().UnixNano()
			s.mu.RLock()
			cacheSize := s.mu.cache.Size()
			pending := len(s.mu.snapshots)
			s.mu.RUnlock()
			idle := time.Duration(now - s.lastWrite.Load())
			if pending > 0 || (cacheSize > 0 && idle >= s.opts.CacheSnapshotWriteColdDuration) {
				if err := s.snapshot(s.ctx, "idle"); err != nil && s.ctx.Err() == nil {
					s.logger.Error("snapshot failed", "err", err)
				}
			}
			s.maybeCompact()
		}
	}
}
