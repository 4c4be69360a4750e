package meta

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/stratadb/strata/internal/vfs"
)

// FileName is the name of the meta file inside the meta directory.
const FileName = "meta.db"

// Options configure a Store.
type Options struct {
	// RetentionAutoCreate creates the autogen policy with every database
	// that Store.CreateDatabase creates ([meta] retention-autocreate; 1.x's
	// default is true, the zero Options leaves it off).
	RetentionAutoCreate bool
	// Logger receives the store's rare messages; nil discards them.
	Logger *slog.Logger
	// BcryptCost is the cost of new password hashes; 0 means
	// bcrypt.DefaultCost. Tests lower it to bcrypt.MinCost.
	BcryptCost int
}

// Store holds the current Data and persists every change to dir/meta.db.
//
// Readers call Data (or the read helpers) and get an immutable snapshot
// without locking. Writers go through Apply, which is serialised: clone the
// snapshot, let the mutation change the clone, write the clone to disk
// atomically, publish it, and wake everyone waiting on Changed.
type Store struct {
	fs     vfs.FS
	path   string
	opts   Options
	logger *slog.Logger

	// data is the published snapshot; it is never modified once stored.
	data   atomic.Pointer[Data]
	closed atomic.Bool

	applyMu sync.Mutex // serialises Apply and Close; guards file
	// file is the encoded form of data, as it is on disk.
	file []byte

	changedMu sync.Mutex // guards changed, and orders its swap with data's
	changed   chan struct{}

	auth authCache
}

// Open loads dir/meta.db, or creates it (empty) when it does not exist. A
// file that cannot be decoded is an error naming it: the store never
// starts from scratch over a damaged file.
func Open(fsys vfs.FS, dir string, opts Options) (*Store, error) {
	if opts.BcryptCost == 0 {
		opts.BcryptCost = bcrypt.DefaultCost
	}
	if opts.BcryptCost < bcrypt.MinCost || opts.BcryptCost > bcrypt.MaxCost {
		return nil, fmt.Errorf("meta: bcrypt cost %d outside [%d, %d]", opts.BcryptCost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{
		fs:      fsys,
		path:    filepath.Join(dir, FileName),
		opts:    opts,
		logger:  logger,
		changed: make(chan struct{}),
	}
	s.auth.m = make(map[string]authEntry)

	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("meta: create directory %s: %w", dir, err)
	}
	// A leftover temporary file is a write that never got renamed into
	// place: it holds nothing the store acknowledged.
	if err := fsys.Remove(s.path + ".tmp"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		logger.Warn("meta: cannot remove temporary file", "path", s.path+".tmp", "err", err)
	}

	b, err := vfs.ReadFile(fsys, s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		d := &Data{}
		file := encodeFile(encodePayload(d), d.Version)
		if err := vfs.WriteFileAtomic(fsys, s.path, file); err != nil {
			return nil, fmt.Errorf("meta: create %s: %w", s.path, err)
		}
		s.file = file
		s.data.Store(d)
	case err != nil:
		return nil, fmt.Errorf("meta: read %s: %w", s.path, err)
	default:
		d, err := decodeFile(b)
		if err != nil {
			var ce *CorruptError
			if errors.As(err, &ce) {
				ce.Path = s.path
			}
			return nil, err
		}
		s.file = b
		s.data.Store(d)
	}
	return s, nil
}

// Path returns the meta file's path.
func (s *Store) Path() string { return s.path }

// Data returns the current snapshot. It is shared: callers must treat it
// (and everything reachable from it) as read-only.
func (s *Store) Data() *Data { return s.data.Load() }

// Changed returns a channel that is closed by the next applied change.
// Take the channel before reading Data, then wait, then call Changed again:
//
//	for {
//		ch := s.Changed()
//		use(s.Data())
//		select { case <-ch: case <-stop: return }
//	}
func (s *Store) Changed() <-chan struct{} {
	s.changedMu.Lock()
	defer s.changedMu.Unlock()
	return s.changed
}

// Apply runs fn on a clone of the current Data and, when fn returns nil
// and changed something, persists and publishes the clone and bumps
// Version. When fn returns an error, or persisting fails, nothing changes,
// in memory or on disk. Calls are serialised; fn must not call methods of
// s that change it (that would deadlock) and must not keep the *Data.
func (s *Store) Apply(fn func(*Data) error) error {
	_, err := s.apply(fn)
	return err
}

// apply is Apply returning the Data that is current after the call.
func (s *Store) apply(fn func(*Data) error) (*Data, error) {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	if s.closed.Load() {
		return nil, ErrStoreClosed
	}
	cur := s.data.Load()
	next := cur.Clone()
	if err := fn(next); err != nil {
		return nil, err
	}
	payload := encodePayload(next)
	if bytes.Equal(payload, s.file[headerSize:len(s.file)-trailerSize]) {
		// Nothing changed (an idempotent create, a drop of something
		// absent): no write, no version bump, no wake-up.
		return cur, nil
	}
	next.Version = cur.Version + 1
	file := encodeFile(payload, next.Version)
	if err := vfs.WriteFileAtomic(s.fs, s.path, file); err != nil {
		s.restoreLocked()
		return nil, fmt.Errorf("meta: persist %s: %w", s.path, err)
	}
	s.file = file

	s.changedMu.Lock()
	s.data.Store(next)
	close(s.changed)
	s.changed = make(chan struct{})
	s.changedMu.Unlock()
	return next, nil
}

// restoreLocked puts the published state back on disk after a failed
// write: a failure after the rename (the directory fsync) leaves the new
// file in place, and the state on disk must stay the one in memory.
func (s *Store) restoreLocked() {
	b, err := vfs.ReadFile(s.fs, s.path)
	if err == nil && bytes.Equal(b, s.file) {
		return
	}
	if err := vfs.WriteFileAtomic(s.fs, s.path, s.file); err != nil {
		s.logger.Error("meta: cannot restore meta file after a failed write", "path", s.path, "err", err)
	}
}

// Close stops further changes; reads keep working on the last snapshot.
// Waiters on Changed are not woken: they stop through their own signal.
func (s *Store) Close() error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.closed.Store(true)
	return nil
}

// Database returns the named database of the current snapshot, or nil.
func (s *Store) Database(name string) *DatabaseInfo { return s.Data().Database(name) }

// RetentionPolicy returns a policy of the current snapshot ("" = default).
func (s *Store) RetentionPolicy(db, rp string) (*RetentionPolicyInfo, error) {
	return s.Data().RetentionPolicy(db, rp)
}

// ShardGroupsByTimeRange returns the live groups of db.rp that overlap
// [min, max], in time order.
func (s *Store) ShardGroupsByTimeRange(db, rp string, min, max time.Time) ([]ShardGroupInfo, error) {
	return s.Data().ShardGroupsByTimeRange(db, rp, min, max)
}

// CreateShardGroupIfNotExists returns the live group of db.rp that holds t,
// creating it if needed. When the group exists (the common case on the
// write path) it takes no lock and allocates nothing. The result belongs
// to a snapshot and is read-only.
func (s *Store) CreateShardGroupIfNotExists(db, rp string, t time.Time) (*ShardGroupInfo, error) {
	if sg := s.Data().ShardGroupByTimestamp(db, rp, t); sg != nil {
		return sg, nil
	}
	d, err := s.apply(func(d *Data) error { return d.CreateShardGroup(db, rp, t) })
	if err != nil {
		return nil, err
	}
	sg := d.ShardGroupByTimestamp(db, rp, t)
	if sg == nil {
		panic("BUG: meta: shard group missing right after CreateShardGroup succeeded")
	}
	return sg, nil
}

// CreateDatabase creates a database, with the autogen policy as its default
// when RetentionAutoCreate is set, and returns it. An existing database is
// returned as it is (1.x's CREATE DATABASE without WITH).
func (s *Store) CreateDatabase(name string) (*DatabaseInfo, error) {
	if di := s.Database(name); di != nil {
		return di, nil
	}
	d, err := s.apply(func(d *Data) error {
		if d.Database(name) != nil {
			return nil
		}
		if err := d.CreateDatabase(name); err != nil {
			return err
		}
		if !s.opts.RetentionAutoCreate {
			return nil
		}
		return d.createRetentionPolicy(name, DefaultRetentionPolicyInfo(), true)
	})
	if err != nil {
		return nil, err
	}
	return d.Database(name), nil
}

// CreateDatabaseWithRetentionPolicy creates a database whose default policy
// is spec (see Data.CreateDatabaseWithRetentionPolicy) and returns it.
func (s *Store) CreateDatabaseWithRetentionPolicy(name string, spec *RetentionPolicySpec) (*DatabaseInfo, error) {
	d, err := s.apply(func(d *Data) error { return d.CreateDatabaseWithRetentionPolicy(name, spec) })
	if err != nil {
		return nil, err
	}
	return d.Database(name), nil
}
