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

// compactionMarker records a compaction whose output has been installed
// but whose inputs may not all be deleted yet. At open, the inputs of a
// marker whose output exists are deleted; so a crash between installing the
// output and deleting the inputs never leaves both (which would bring back
// data deleted afterwards from the output only).
type compactionMarker struct {
	Output string   `json:"output"`
	Inputs []string `json:"inputs"`
}

const markerSuffix = ".compacting"

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
	if err := s.compact(context.Background(), inputs, level); err != nil && !errors.Is(err, ErrShardClosed) {
		s.stats.compactionErrors.Add(1)
		s.logger.Error("compaction failed", "level", level, "err", err)
	}
}

// Compact fully compacts the shard now (tests, and inspect tools).
func (s *Shard) Compact(ctx context.Context) error {
	files := s.acquireFiles()
	defer releaseFiles(files)
	if len(files) == 0 {
		return nil
	}
	return s.compact(ctx, files, fullLevel)
}

func (s *Shard) compact(ctx context.Context, inputs []*dataFile, level int) error {
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
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
		if !slices.Contains(s.mu.files, f) {
			closed = true // replaced meanwhile
		}
	}
	s.mu.RUnlock()
	if closed {
		return ErrShardClosed
	}

	// The output takes the newest input's generation, so that it sits where
	// its inputs sat in the newest-wins order. Rewriting a full file again
	// (to drop tombstoned data) must not reuse the input's own name: levels
	// above full are full too.
	gen := inputs[len(inputs)-1].gen
	for slices.ContainsFunc(inputs, func(f *dataFile) bool { return f.gen == gen && f.level == level }) {
		level++
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
		return fmt.Errorf("compact %v into %s: %w", names, outName, err)
	}
	marker, _ := json.Marshal(compactionMarker{Output: outName, Inputs: names})
	markerPath := filepath.Join(s.dir, outName+markerSuffix)
	if err := vfs.WriteFileAtomic(s.fs, markerPath, marker); err != nil {
		s.fs.Remove(tmp)
		return err
	}
	if err := vfs.Install(s.fs, tmp, outPath); err != nil {
		s.fs.Remove(markerPath)
		return err
	}
	r, err := tsm.Open(s.fs, outPath)
	if err != nil {
		return fmt.Errorf("open compacted %s: %w", outName, err)
	}
	out := newDataFile(r, gen, level)
	out.fs = s.fs

	s.mu.Lock()
	// Deletes that arrived while we were merging went to the inputs only:
	// carry them over before the output replaces them.
	for i, in := range inputs {
		if late := in.r.Tombstones()[tombstonesAtStart[i]:]; len(late) > 0 {
			if err := r.AddTombstones(late); err != nil {
				s.mu.Unlock()
				r.Close()
				return fmt.Errorf("carry tombstones into %s: %w", outName, err)
			}
		}
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

// finishInterruptedCompactions completes, at open, compactions whose output
// was installed before a crash: their inputs are deleted.
func (s *Shard) finishInterruptedCompactions() error {
	entries, err := s.fs.ReadDir(s.dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), markerSuffix) {
			continue
		}
		path := filepath.Join(s.dir, e.Name())
		data, err := vfs.ReadFile(s.fs, path)
		if err != nil {
			return err
		}
		var m compactionMarker
		if err := json.Unmarshal(data, &m); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if _, err := s.fs.Stat(filepath.Join(s.dir, m.Output)); err == nil {
			for _, in := range m.Inputs {
				if in == m.Output {
					continue
				}
				for _, p := range []string{in, in + ".tombstone"} {
					if err := s.fs.Remove(filepath.Join(s.dir, p)); err != nil && !errors.Is(err, errNotExist) {
						return err
					}
				}
			}
		}
		if err := s.fs.Remove(path); err != nil {
			return err
		}
	}
	return nil
}

// cleanMarkers removes markers whose inputs are all gone.
func (s *Shard) cleanMarkers() {
	entries, err := s.fs.ReadDir(s.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), markerSuffix) {
			continue
		}
		path := filepath.Join(s.dir, e.Name())
		data, err := vfs.ReadFile(s.fs, path)
		if err != nil {
			continue
		}
		var m compactionMarker
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		left := false
		for _, in := range m.Inputs {
			if _, err := s.fs.Stat(filepath.Join(s.dir, in)); err == nil {
				left = true
			}
		}
		if !left {
			s.fs.Remove(path)
		}
	}
}
