package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stratadb/strata/internal/storage/tsm"
	"github.com/stratadb/strata/internal/vfs"
)

// Compaction levels: snapshots are level 1; four files of a level merge
// into one of the next; level 4 is a full compaction.
const (
	compactionFanIn = 4
	compactionMaxIn = 8
	fullLevel       = 4
)

// Compactor bounds the compactions of every shard of an engine: how many
// run at once ([data] max-concurrent-compactions) and how many bytes per
// second they write ([data] compact-throughput and its burst).
type Compactor struct {
	slots   chan struct{}
	limiter *rateLimiter
}

// NewCompactor returns a compactor. concurrency 0 means half the CPUs (at
// least one); bytesPerSec 0 means unthrottled.
func NewCompactor(concurrency int, bytesPerSec, burst int64) *Compactor {
	if concurrency <= 0 {
		concurrency = max(1, runtime.GOMAXPROCS(0)/2)
	}
	c := &Compactor{slots: make(chan struct{}, concurrency)}
	if bytesPerSec > 0 {
		c.limiter = newRateLimiter(bytesPerSec, max(burst, bytesPerSec))
	}
	return c
}

func (c *Compactor) acquire(ctx context.Context) error {
	if c == nil {
		return nil
	}
	select {
	case c.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Compactor) release() {
	if c != nil {
		<-c.slots
	}
}

func (c *Compactor) limit(ctx context.Context) func(n int) {
	if c == nil || c.limiter == nil {
		return nil
	}
	return func(n int) { c.limiter.wait(ctx, int64(n)) }
}

// rateLimiter is a token bucket of bytes.
type rateLimiter struct {
	mu     sync.Mutex // guards tokens and last
	rate   float64    // bytes per second
	burst  float64
	tokens float64
	last   time.Time
}

func newRateLimiter(rate, burst int64) *rateLimiter {
	return &rateLimiter{rate: float64(rate), burst: float64(burst), tokens: float64(burst), last: time.Now()}
}

func (l *rateLimiter) wait(ctx context.Context, n int64) {
	for n > 0 {
		take := min(float64(n), l.burst)
		l.mu.Lock()
		now := time.Now()
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
		l.last = now
		var delay time.Duration
		if l.tokens >= take {
			l.tokens -= take
		} else {
			delay = time.Duration((take - l.tokens) / l.rate * float64(time.Second))
			l.tokens = 0
			l.last = now.Add(delay)
		}
		l.mu.Unlock()
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
		}
		n -= int64(take)
	}
}

// compactionMarker is the on-disk state of a compaction, named after its
// output (<output>.compacting). It is written, pending, before the output
// is installed, and rewritten as committed — the commit point — once the
// output holds every tombstone its inputs received meanwhile; the shard
// then swaps the files. At open and in cleanMarkers:
//
//   - pending: the compaction never committed; its output (if installed)
//     is deleted and the inputs stay;
//   - committed: the inputs are deleted (whether or not the output still
//     exists: a later compaction may have replaced it).
//
// So a crash or a failed step at any point leaves either the inputs or
// the output in use, never both and never an output lacking deletes.
type compactionMarker struct {
	Output    string   `json:"output"`
	Inputs    []string `json:"inputs"`
	Committed bool     `json:"committed"`
}

const markerSuffix = ".compacting"

func (s *Shard) writeMarker(m compactionMarker) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return vfs.WriteFileAtomic(s.fs, filepath.Join(s.dir, m.Output+markerSuffix), data)
}

// removeDataFile removes a data file, then its tombstone file; the
// tombstone file stays when the data file could not be removed, so that a
// file left behind never comes back without its deletes.
func removeDataFile(fsys vfs.FS, path string) error {
	if err := fsys.Remove(path); err != nil && !errors.Is(err, errNotExist) {
		return err
	}
	if err := fsys.Remove(path + ".tombstone"); err != nil && !errors.Is(err, errNotExist) {
		return err
	}
	return nil
}

// plan picks the files of the next compaction, or nil.
func (s *Shard) plan(files []*dataFile) (inputs []*dataFile, level int) {
	if len(files) == 0 {
		return nil, 0
	}
	// Level compactions: a run of consecutive files (in generation order) of
	// one level below full.
	for lv := 1; lv < fullLevel; lv++ {
		run := []*dataFile{}
		for _, f := range files {
			if f.level == lv {
				run = append(run, f)
				if len(run) == compactionMaxIn {
					break
				}
				continue
			}
			if len(run) >= compactionFanIn {
				break
			}
			run = run[:0]
		}
		if len(run) >= compactionFanIn {
			return run, lv + 1
		}
	}
	// A shard that has gone cold is compacted fully: into one file, with
	// tombstoned data removed.
	idle := time.Duration(s.opts.Now().UnixNano() - s.lastWrite.Load())
	if idle >= s.opts.CompactFullWriteColdDuration {
		tombstones := false
		for _, f := range files {
			tombstones = tombstones || f.r.HasTombstones()
		}
		if len(files) > 1 || tombstones {
			return files, fullLevel
		}
	}
	return nil, 0
}

// maybeCompact runs one planned compaction, if any.
func (s *Shard) maybeCompact() {
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
	s.cleanMarkers()
	files := s.acquireFiles()
	inputs, level := s.plan(files)
	for _, f := range files {
		if !slices.Contains(inputs, f) {
			f.release()
		}
	}
	if inputs == nil {
		return
	}
	defer releaseFiles(inputs)
	if err := s.compactLocked(s.ctx, inputs, level); err != nil && !errors.Is(err, ErrShardClosed) && s.ctx.Err() == nil {
		s.stats.compactionErrors.Add(1)
		s.logger.Error("compaction failed", "level", level, "err", err)
	}
}

// Compact fully compacts the shard now (tests, and inspect tools).
func (s *Shard) Compact(ctx context.Context) error {
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
	files := s.acquireFiles()
	defer releaseFiles(files)
	if len(files) == 0 {
		return nil
	}
	return s.compactLocked(ctx, files, fullLevel)
}

// compactLocked merges inputs into one file of the given level. The
// caller holds compactMu (so no other compaction replaces the inputs) and
// a reference to each input.
func (s *Shard) compactLocked(ctx context.Context, inputs []*dataFile, level int) error {
	if err := s.opts.Compactor.acquire(ctx); err != nil {
		return err
	}
	defer s.opts.Compactor.release()
	start := time.Now()

	s.mu.RLock()
	closed := s.mu.closed
	tombstonesAtStart := make([]int, len(inputs))
	for i, f := range inputs {
		tombstonesAtStart[i] = len(f.r.Tombstones())
	}
	s.mu.RUnlock()
	if closed {
		return ErrShardClosed
	}

	// The output takes the newest input's generation, so that it sits where
	// its inputs sat in the newest-wins order, and a level above every
	// input of that generation (levels above full are full too). Names of
	// one generation thus only grow: a name is never used twice. Reusing
	// one lost data: rewriting 7-05 as 7-04, the name of a file compacted
	// earlier that a reader still held, let that old file's deletion at
	// release (or its compaction marker) remove the new live file.
	gen := inputs[len(inputs)-1].gen
	for _, f := range inputs {
		if f.gen == gen && f.level >= level {
			level = f.level + 1
		}
	}
	outName := dataFileName(gen, level)
	outPath := filepath.Join(s.dir, outName)
	tmp := outPath + ".tmp"
	f, err := vfs.Create(s.fs, tmp)
	if err != nil {
		return err
	}
	readers := make([]*tsm.Reader, len(inputs))
	names := make([]string, len(inputs))
	for i, in := range inputs {
		readers[i] = in.r
		names[i] = filepath.Base(in.r.Path())
	}
	w := tsm.NewWriter(f)
	err = tsm.Compact(ctx, w, readers, s.opts.Compactor.limit(ctx))
	// Close writes the index, fsyncs and closes f (only closes it after an
	// error).
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		s.fs.Remove(tmp)
		if s.ctx.Err() != nil {
			return ErrShardClosed
		}
		return fmt.Errorf("compact %v into %s: %w", names, outName, err)
	}
	marker := compactionMarker{Output: outName, Inputs: names}
	if err := s.writeMarker(marker); err != nil {
		s.fs.Remove(tmp)
		return err
	}
	if err := vfs.Install(s.fs, tmp, outPath); err != nil {
		s.abortCompaction(outPath, nil)
		return err
	}
	r, err := tsm.Open(s.fs, outPath)
	if err != nil {
		s.abortCompaction(outPath, nil)
		return fmt.Errorf("open compacted %s: %w", outName, err)
	}
	out := newDataFile(r, gen, level)
	out.fs = s.fs

	s.mu.Lock()
	// Deletes that arrived while we were merging went to the inputs only:
	// carry them over, then commit, before any other delete can slip in.
	for i, in := range inputs {
		if late := in.r.Tombstones()[tombstonesAtStart[i]:]; len(late) > 0 {
			if err := r.AddTombstones(late); err != nil {
				s.mu.Unlock()
				s.abortCompaction(outPath, r)
				return fmt.Errorf("carry tombstones into %s: %w", outName, err)
			}
		}
	}
	marker.Committed = true
	if err := s.writeMarker(marker); err != nil {
		s.mu.Unlock()
		s.abortCompaction(outPath, r)
		return fmt.Errorf("commit compaction into %s: %w", outName, err)
	}
	kept := s.mu.files[:0:0]
	for _, f := range s.mu.files {
		if slices.Contains(inputs, f) {
			continue
		}
		kept = append(kept, f)
	}
	kept = append(kept, out)
	slices.SortFunc(kept, func(a, b *dataFile) int { return cmpUint(a.gen, b.gen) })
	s.mu.files = kept
	s.mu.Unlock()
	for _, in := range inputs {
		in.fs = s.fs
		in.obsolete.Store(true)
		in.release() // the shard list's reference; deleted when readers finish
	}
	if level-2 >= 0 && level-2 < len(s.stats.compactions) {
		s.stats.compactions[level-2].Add(1)
	}
	s.stats.compactionDuration.Add(int64(time.Since(start)))
	s.lastChange.Store(s.opts.Now().UnixNano())
	s.logger.Info("compacted", "level", level, "inputs", len(inputs), "output", outName,
		"bytes", r.Size(), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// abortCompaction undoes an uncommitted compaction: the output (and r, if
// open) goes, then its pending marker. If that fails, the pending marker
// stays, so the next open (or cleanMarkers) removes the output instead.
func (s *Shard) abortCompaction(outPath string, r *tsm.Reader) {
	if r != nil {
		r.Close()
	}
	if err := removeDataFile(s.fs, outPath); err != nil {
		s.logger.Error("cannot remove the output of a failed compaction; retried later", "file", outPath, "err", err)
		return
	}
	if err := s.fs.Remove(outPath + markerSuffix); err != nil && !errors.Is(err, errNotExist) {
		s.logger.Warn("removing a failed compaction's marker", "err", err)
	}
}

// finishInterruptedCompactions settles, at open, every compaction a crash
// or a failure left unsettled: a committed one loses its inputs, a pending
// one its output (see compactionMarker).
func (s *Shard) finishInterruptedCompactions() error {
	markers, err := s.readMarkers()
	if err != nil {
		return err
	}
	for _, m := range markers {
		if err := s.settleMarker(m, nil); err != nil {
			return err
		}
	}
	return nil
}

type markerFile struct {
	path string
	compactionMarker
}

func (s *Shard) readMarkers() ([]markerFile, error) {
	entries, err := s.fs.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var out []markerFile
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), markerSuffix) {
			continue
		}
		path := filepath.Join(s.dir, e.Name())
		data, err := vfs.ReadFile(s.fs, path)
		if err != nil {
			return nil, err
		}
		m := markerFile{path: path}
		if err := json.Unmarshal(data, &m.compactionMarker); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// settleMarker removes what a marker says is dead, then the marker. live
// names files the shard still uses (nil at open): those are left alone and
// the marker kept, to be settled once they are released.
func (s *Shard) settleMarker(m markerFile, live map[string]bool) error {
	dead := m.Inputs
	if !m.Committed {
		dead = []string{m.Output}
	}
	for _, name := range dead {
		if live[name] {
			return nil
		}
		if err := removeDataFile(s.fs, filepath.Join(s.dir, name)); err != nil {
			return err
		}
	}
	if err := s.fs.Remove(m.path); err != nil && !errors.Is(err, errNotExist) {
		return err
	}
	return s.fs.SyncDir(s.dir)
}

// cleanMarkers settles markers at run time: it retries removals that
// failed and drops markers that have nothing left to do. The caller holds
// compactMu.
func (s *Shard) cleanMarkers() {
	markers, err := s.readMarkers()
	if err != nil || len(markers) == 0 {
		return
	}
	live := map[string]bool{}
	s.mu.RLock()
	for _, f := range s.mu.files {
		live[filepath.Base(f.r.Path())] = true
	}
	s.mu.RUnlock()
	for _, m := range markers {
		if err := s.settleMarker(m, live); err != nil {
			s.logger.Warn("settling a compaction marker", "marker", m.path, "err", err)
		}
	}
}
