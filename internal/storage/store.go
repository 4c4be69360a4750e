// Package storage holds the shards of every database and the series index
// of each, and is the only way the coordinator and the query engine reach
// stored data. It speaks storage's own types (series ids, tag expressions,
// typed cursors): nothing here knows InfluxQL.
//
// On disk: <data>/<db>/_series/ (the database's series index),
// <data>/<db>/<rp>/<shard id>/ (data files) and <wal>/<db>/<rp>/<shard id>/
// (the shard's WAL).
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"sync"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/stats"
	"github.com/stratadb/strata/internal/storage/engine"
	"github.com/stratadb/strata/internal/storage/index"
	"github.com/stratadb/strata/internal/vfs"
)

// seriesDir is the directory of a database's series index.
const seriesDir = "_series"

// ErrShardNotFound is returned for a shard the store does not hold.
var ErrShardNotFound = errors.New("shard not found")

// ErrStoreClosed is returned after Close.
var ErrStoreClosed = errors.New("store is closed")

// Options configure a Store.
type Options struct {
	Engine engine.Options
	Index  index.Options
	Logger *slog.Logger
}

// Store holds every local shard, by id, and the series index of every
// database.
type Store struct {
	fs      vfs.FS
	dataDir string
	walDir  string
	opts    Options
	logger  *slog.Logger

	mu struct {
		sync.RWMutex
		shards  map[uint64]*engine.Shard
		indexes map[string]*index.Index
		closed  bool
	}
}

// Open opens the store, its indexes and every shard found on disk.
func Open(fsys vfs.FS, dataDir, walDir string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Engine.Logger == nil {
		opts.Engine.Logger = opts.Logger
	}
	if opts.Index.Logger == nil {
		opts.Index.Logger = opts.Logger
	}
	s := &Store{fs: fsys, dataDir: dataDir, walDir: walDir, opts: opts, logger: opts.Logger}
	s.mu.shards = make(map[uint64]*engine.Shard)
	s.mu.indexes = make(map[string]*index.Index)
	for _, d := range []string{dataDir, walDir} {
		if err := fsys.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := s.openAll(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

type shardPath struct {
	db, rp string
	id     uint64
}

// openAll opens every shard on disk, several at a time.
func (s *Store) openAll() error {
	dbs, err := s.fs.ReadDir(s.dataDir)
	if err != nil {
		return err
	}
	var todo []shardPath
	for _, db := range dbs {
		if !db.IsDir() {
			continue
		}
		rps, err := s.fs.ReadDir(filepath.Join(s.dataDir, db.Name()))
		if err != nil {
			return err
		}
		for _, rp := range rps {
			if !rp.IsDir() || rp.Name() == seriesDir {
				continue
			}
			ids, err := s.fs.ReadDir(filepath.Join(s.dataDir, db.Name(), rp.Name()))
			if err != nil {
				return err
			}
			for _, id := range ids {
				n, err := strconv.ParseUint(id.Name(), 10, 64)
				if err != nil || !id.IsDir() {
					continue
				}
				todo = append(todo, shardPath{db: db.Name(), rp: rp.Name(), id: n})
			}
		}
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, 4)
	)
	for _, p := range todo {
		idx, err := s.indexLocked(p.db)
		if err != nil {
			return err
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			sh, err := s.openShard(p.db, p.rp, p.id, idx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				// A damaged shard is reported and left out; the rest serve.
				s.logger.Error("cannot open shard", "db", p.db, "rp", p.rp, "shard", p.id, "err", err)
				errs = append(errs, err)
				return
			}
			s.mu.shards[p.id] = sh
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		s.logger.Error("some shards failed to open", "count", len(errs))
	}
	return nil
}

func (s *Store) openShard(db, rp string, id uint64, idx *index.Index) (*engine.Shard, error) {
	dir := filepath.Join(s.dataDir, db, rp, strconv.FormatUint(id, 10))
	walDir := filepath.Join(s.walDir, db, rp, strconv.FormatUint(id, 10))
	return engine.OpenShard(s.fs, id, db, rp, dir, walDir, idx, s.opts.Engine)
}

// indexLocked returns the index of db, opening it if needed. The caller
// holds s.mu exclusively (or is the only user, at open).
func (s *Store) indexLocked(db string) (*index.Index, error) {
	if idx := s.mu.indexes[db]; idx != nil {
		return idx, nil
	}
	idx, err := index.Open(s.fs, filepath.Join(s.dataDir, db, seriesDir), s.opts.Index)
	if err != nil {
		return nil, fmt.Errorf("open index of %q: %w", db, err)
	}
	s.mu.indexes[db] = idx
	return idx, nil
}

// Index returns the series index of db, or nil if the database has no data.
func (s *Store) Index(db string) *index.Index {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.indexes[db]
}

// Shard returns a shard, or nil.
func (s *Store) Shard(id uint64) *engine.Shard {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.shards[id]
}

// ShardIDs returns the ids of every shard, sorted.
func (s *Store) ShardIDs() []uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Sorted(maps.Keys(s.mu.shards))
}

// Shards returns the shards with the given ids that the store holds.
func (s *Store) Shards(ids []uint64) []*engine.Shard {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*engine.Shard, 0, len(ids))
	for _, id := range ids {
		if sh := s.mu.shards[id]; sh != nil {
			out = append(out, sh)
		}
	}
	return out
}

// CreateShard opens a new shard, unless it exists. stillWanted is checked
// under the store's lock, after which no drop can interleave: it must say
// whether the shard still exists in meta, so that a write racing a DROP
// DATABASE never recreates a dropped shard (1.x #4538).
func (s *Store) CreateShard(db, rp string, id uint64, stillWanted func() bool) (*engine.Shard, error) {
	if sh := s.Shard(id); sh != nil {
		return sh, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return nil, ErrStoreClosed
	}
	if sh := s.mu.shards[id]; sh != nil {
		return sh, nil
	}
	if stillWanted != nil && !stillWanted() {
		return nil, ErrShardNotFound
	}
	idx, err := s.indexLocked(db)
	if err != nil {
		return nil, err
	}
	sh, err := s.openShard(db, rp, id, idx)
	if err != nil {
		return nil, err
	}
	s.mu.shards[id] = sh
	return sh, nil
}

// CreateShardIfNotExists is CreateShard for callers that need no handle.
func (s *Store) CreateShardIfNotExists(db, rp string, id uint64, stillWanted func() bool) error {
	_, err := s.CreateShard(db, rp, id, stillWanted)
	return err
}

// WriteToShard writes points to a shard.
func (s *Store) WriteToShard(ctx context.Context, id uint64, points []models.Point) error {
	sh := s.Shard(id)
	if sh == nil {
		return ErrShardNotFound
	}
	return sh.WritePoints(ctx, points)
}

// DeleteShard closes a shard and removes its files.
func (s *Store) DeleteShard(id uint64) error {
	s.mu.Lock()
	sh := s.mu.shards[id]
	delete(s.mu.shards, id)
	s.mu.Unlock()
	if sh == nil {
		return nil
	}
	return s.removeShard(sh)
}

func (s *Store) removeShard(sh *engine.Shard) error {
	err := sh.Close()
	id := strconv.FormatUint(sh.ID(), 10)
	return errors.Join(err,
		s.fs.RemoveAll(filepath.Join(s.dataDir, sh.Database(), sh.RetentionPolicy(), id)),
		s.fs.RemoveAll(filepath.Join(s.walDir, sh.Database(), sh.RetentionPolicy(), id)))
}

// DeleteRetentionPolicy removes every shard of db/rp and its directories.
func (s *Store) DeleteRetentionPolicy(db, rp string) error {
	s.mu.Lock()
	var victims []*engine.Shard
	for id, sh := range s.mu.shards {
		if sh.Database() == db && sh.RetentionPolicy() == rp {
			victims = append(victims, sh)
			delete(s.mu.shards, id)
		}
	}
	s.mu.Unlock()
	var errs []error
	for _, sh := range victims {
		errs = append(errs, s.removeShard(sh))
	}
	errs = append(errs,
		s.fs.RemoveAll(filepath.Join(s.dataDir, db, rp)),
		s.fs.RemoveAll(filepath.Join(s.walDir, db, rp)))
	return errors.Join(errs...)
}

// DeleteDatabase removes every shard of db, its index and its directories.
// The caller removes the database from meta first, so no new shard of it
// can be created meanwhile.
func (s *Store) DeleteDatabase(db string) error {
	s.mu.Lock()
	var victims []*engine.Shard
	for id, sh := range s.mu.shards {
		if sh.Database() == db {
			victims = append(victims, sh)
			delete(s.mu.shards, id)
		}
	}
	idx := s.mu.indexes[db]
	delete(s.mu.indexes, db)
	s.mu.Unlock()
	var errs []error
	for _, sh := range victims {
		errs = append(errs, sh.Close())
	}
	if idx != nil {
		errs = append(errs, idx.Close())
	}
	errs = append(errs,
		s.fs.RemoveAll(filepath.Join(s.dataDir, db)),
		s.fs.RemoveAll(filepath.Join(s.walDir, db)))
	return errors.Join(errs...)
}

// Flush snapshots every shard's cache into data files, a few shards at a
// time, until ctx ends. A graceful shutdown calls it so that the next start
// opens files instead of replaying WAL; whatever it does not reach is still
// in the WAL, so stopping early loses nothing.
func (s *Store) Flush(ctx context.Context) error {
	s.mu.RLock()
	shards := slices.Collect(maps.Values(s.mu.shards))
	s.mu.RUnlock()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, 4)
	)
	for _, sh := range shards {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return errors.Join(append(errs, ctx.Err())...)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := sh.FlushContext(ctx); err != nil && !errors.Is(err, engine.ErrShardClosed) {
				mu.Lock()
				errs = append(errs, fmt.Errorf("flush shard %d: %w", sh.ID(), err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Close closes every shard and index.
func (s *Store) Close() error {
	s.mu.Lock()
	s.mu.closed = true
	shards := s.mu.shards
	indexes := s.mu.indexes
	s.mu.shards = map[uint64]*engine.Shard{}
	s.mu.indexes = map[string]*index.Index{}
	s.mu.Unlock()
	var errs []error
	for _, sh := range shards {
		errs = append(errs, sh.Close())
	}
	for _, idx := range indexes {
		errs = append(errs, idx.Close())
	}
	return errors.Join(errs...)
}

// Statistics reports every shard's and index's statistics.
func (s *Store) Statistics(tags map[string]string) []stats.Statistic {
	s.mu.RLock()
	shards := slices.Collect(maps.Values(s.mu.shards))
	indexes := maps.Clone(s.mu.indexes)
	s.mu.RUnlock()
	var out []stats.Statistic
	for db, idx := range indexes {
		t := maps.Clone(tags)
		if t == nil {
			t = map[string]string{}
		}
		t["database"] = db
		out = append(out, idx.Statistics(t)...)
	}
	for _, sh := range shards {
		out = append(out, sh.Statistics(tags)...)
	}
	return out
}
