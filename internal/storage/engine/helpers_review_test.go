package engine

// Helpers of the adversarial review tests (*_review_test.go): a shard
// harness that can be reopened and "crashed", a controllable fault
// injector on top of vfs.ErrorFS, and a model of what the shard must hold.
// Names carry an "rv" prefix so that they never collide with the helpers of
// the engine's own tests.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/block"
	"github.com/stratadb/strata/internal/storage/index"
	"github.com/stratadb/strata/internal/vfs"
)

// rvLong reports whether the long randomized runs were asked for
// (STRATA_LONG=1).
func rvLong() bool { return rvEnv("STRATA_LONG") }

// rvSeeds returns the seeds a randomized test runs: STRATA_SEED=n runs only
// n (to reproduce a failure), otherwise short or long lists.
func rvSeeds(t testing.TB, short, long int) []uint64 {
	if s := os.Getenv("STRATA_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("STRATA_SEED=%q: %v", s, err)
		}
		return []uint64{n}
	}
	n := short
	if rvLong() {
		n = long
	}
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	return seeds
}

// rvClock is a settable clock for Options.Now: tests move it forward to
// make a shard look idle (cold snapshot, full compaction) without sleeping.
type rvClock struct{ ns atomic.Int64 }

func newRVClock() *rvClock {
	c := &rvClock{}
	c.ns.Store(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *rvClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *rvClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// rvFaults drives a vfs.ErrorFS. Three modes:
//   - off: everything goes through;
//   - arm: the nth call matching (op, path filter) fails; with sticky set,
//     every later matching call fails too, until Disarm;
//   - crash: after n calls of any mutating kind, every call fails (a
//     process that died at that syscall: nothing after it reaches the
//     disk), until Disarm.
type rvFaults struct {
	mu        sync.Mutex
	mode      int // 0 off, 1 arm, 2 crash
	op        vfs.Op
	anyOp     bool
	filter    string // substring the path must contain ("" matches all)
	countdown int
	sticky    bool
	fired     bool
	log       []string // what was failed, for failure messages
}

const (
	rvOff = iota
	rvArm
	rvCrash
)

func (f *rvFaults) inject(op vfs.Op, path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch f.mode {
	case rvArm:
		if !f.anyOp && op != f.op || !strings.Contains(path, f.filter) {
			return nil
		}
		if f.fired && f.sticky {
			f.log = append(f.log, fmt.Sprintf("%s %s (sticky)", op, filepath.Base(path)))
			return vfs.ErrInjected
		}
		if f.fired {
			return nil
		}
		f.countdown--
		if f.countdown > 0 {
			return nil
		}
		f.fired = true
		f.log = append(f.log, fmt.Sprintf("%s %s", op, filepath.Base(path)))
		return vfs.ErrInjected
	case rvCrash:
		if f.countdown > 0 {
			f.countdown--
			return nil
		}
		f.fired = true
		return vfs.ErrInjected
	}
	return nil
}

// Arm fails the nth call of op (any op when anyOp) on a path containing
// filter.
func (f *rvFaults) Arm(op vfs.Op, anyOp bool, filter string, nth int, sticky bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode, f.op, f.anyOp, f.filter, f.countdown, f.sticky, f.fired = rvArm, op, anyOp, filter, nth, sticky, false
}

// Crash lets n more mutating calls through and fails everything after.
func (f *rvFaults) Crash(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode, f.countdown, f.fired = rvCrash, n, false
}

// Disarm turns injection off and reports whether a fault fired.
func (f *rvFaults) Disarm() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	fired := f.fired
	f.mode, f.fired = rvOff, false
	return fired
}

func (f *rvFaults) describe() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.log) > 8 {
		return strings.Join(f.log[len(f.log)-8:], "; ")
	}
	return strings.Join(f.log, "; ")
}

// rvHarness is one shard and its database index on a fault-injecting file
// system, reopenable on the same directories.
type rvHarness struct {
	t      testing.TB
	dir    string
	mem    *rvMemFS   // nil: the real file system
	rng    *rand.Rand // picks what a crash of mem keeps
	faults *rvFaults
	efs    *vfs.ErrorFS
	opts   Options
	clock  *rvClock
	idx    *index.Index
	sh     *Shard
}

// newRVHarness opens a shard on the real file system, or with mem on an
// rvMemFS whose crashes lose what was not fsynced.
func newRVHarness(t testing.TB, opts Options, mem bool, seed uint64) *rvHarness {
	t.Helper()
	h := &rvHarness{t: t, faults: &rvFaults{}, clock: newRVClock(), rng: rand.New(rand.NewPCG(seed, 99))}
	var inner vfs.FS = vfs.Default
	if mem {
		h.mem = newRVMemFS()
		h.dir = "/rv"
		inner = h.mem
	} else {
		h.dir = t.TempDir()
	}
	h.efs = vfs.NewErrorFS(inner, h.faults.inject)
	if opts.CheckInterval == 0 {
		opts.CheckInterval = time.Hour // background work only when the test asks
	}
	if opts.Now == nil {
		opts.Now = h.clock.Now
	}
	h.opts = opts
	h.open()
	t.Cleanup(func() { h.close(false) })
	return h
}

func (h *rvHarness) open() {
	h.t.Helper()
	idx, err := index.Open(h.efs, filepath.Join(h.dir, "_series"), index.Options{SnapshotBytes: 4 << 10})
	if err != nil {
		h.t.Fatalf("open index: %v", err)
	}
	sh, err := OpenShard(h.efs, 1, "db", "rp", filepath.Join(h.dir, "data"), filepath.Join(h.dir, "wal"), idx, h.opts)
	if err != nil {
		idx.Close()
		h.t.Fatalf("open shard (every file must stay openable): %v", err)
	}
	h.idx, h.sh = idx, sh
}

// close closes the shard and the index; errors fail the test unless the
// close is part of a simulated crash.
func (h *rvHarness) close(crashed bool) {
	if h.sh == nil {
		return
	}
	err := errors.Join(h.sh.Close(), h.idx.Close())
	h.sh, h.idx = nil, nil
	if err != nil && !crashed {
		h.t.Errorf("close: %v", err)
	}
}

// reopen closes cleanly and opens again.
func (h *rvHarness) reopen() {
	h.t.Helper()
	h.close(false)
	h.open()
}

// crashReopen makes every file operation fail from now on (the process is
// dead: nothing more reaches the disk), lets the shard and index "close"
// without effect, then opens them again on what the disk holds.
func (h *rvHarness) crashReopen() {
	h.t.Helper()
	h.faults.Crash(0)
	h.close(true)
	if h.mem != nil {
		h.mem.Crash(h.rng, false)
	}
	h.faults.Disarm()
	h.open()
}

func rvSeriesKey(s int) []byte {
	return models.AppendSeriesKey(nil, []byte("m"), []models.Tag{{Key: []byte("host"), Value: []byte("h" + strconv.Itoa(s))}})
}

// rvFields are the model's fields: v is a float field, n an integer one.
var rvFieldNames = [2]string{"v", "n"}

// rvPoint builds a point of series s; a value < 0 leaves that field out.
func rvPoint(s int, t int64, v, n int64) models.Point {
	p := models.Point{
		Measurement: []byte("m"),
		Tags:        []models.Tag{{Key: []byte("host"), Value: []byte("h" + strconv.Itoa(s))}},
		Time:        t,
	}
	if v >= 0 {
		p.Fields = append(p.Fields, models.FloatField([]byte("v"), float64(v)))
	}
	if n >= 0 {
		p.Fields = append(p.Fields, models.IntegerField([]byte("n"), n))
	}
	return p
}

// rvCell is what the model allows at one (series, field, time): one of
// vals, or nothing when absent is set. An acknowledged operation leaves
// exactly one possibility; a failed one adds its effect as a possibility.
type rvCell struct {
	absent bool
	vals   []int64
}

func (c *rvCell) allows(v int64) bool { return slices.Contains(c.vals, v) }
func (c *rvCell) certain() bool       { return !c.absent && len(c.vals) == 1 }

// rvModel is what a shard must hold: per series and field, time → cell.
type rvModel struct {
	cells map[[2]int]map[int64]*rvCell
}

func newRVModel() *rvModel { return &rvModel{cells: map[[2]int]map[int64]*rvCell{}} }

func (m *rvModel) col(s, f int) map[int64]*rvCell {
	c := m.cells[[2]int{s, f}]
	if c == nil {
		c = map[int64]*rvCell{}
		m.cells[[2]int{s, f}] = c
	}
	return c
}

// write records a write of the point's fields; certain means acknowledged.
func (m *rvModel) write(s int, t int64, f int, v int64, certain bool) {
	col := m.col(s, f)
	c := col[t]
	switch {
	case certain:
		col[t] = &rvCell{vals: []int64{v}}
	case c == nil:
		col[t] = &rvCell{absent: true, vals: []int64{v}}
	default:
		c.vals = append(c.vals, v)
	}
}

// del records a delete of [min, max] from every field of the series.
func (m *rvModel) del(series []int, min, max int64, certain bool) {
	for _, s := range series {
		for f := range rvFieldNames {
			col := m.col(s, f)
			for t, c := range col {
				if t < min || t > max {
					continue
				}
				if certain {
					delete(col, t)
				} else {
					c.absent = true
				}
			}
		}
	}
}

// rvObserved is what one read returned.
type rvObserved struct {
	times []int64
	vals  []int64
}

// rvReadField reads series s, field f over [min, max] through a cursor,
// checking the order of the times as it goes.
func rvReadField(sh *Shard, idx *index.Index, s, f int, min, max int64, asc bool) (rvObserved, error) {
	key := rvSeriesKey(s)
	id := idx.SeriesID(key)
	if id == 0 {
		return rvObserved{}, nil
	}
	// Half the descending reads (by the parity of the window) ask for the
	// newest value alone first, so that the model checks that shortcut
	// under every mix of files, cache, tombstones and crashes too.
	newest := !asc && (min^max)&1 == 0
	if f == 0 {
		c := NewCursor[float64](sh, key, id, rvFieldNames[f], min, max, asc)
		if newest {
			c.WantNewestOnly()
		}
		return rvReadTyped(c, asc, min, max, func(v float64) int64 { return int64(v) })
	}
	c := NewCursor[int64](sh, key, id, rvFieldNames[f], min, max, asc)
	if newest {
		c.WantNewestOnly()
	}
	return rvReadTyped(c, asc, min, max, func(v int64) int64 { return v })
}

func rvReadTyped[T block.Value](c *Cursor[T], asc bool, min, max int64, conv func(T) int64) (rvObserved, error) {
	defer c.Close()
	var o rvObserved
	for {
		b, err := c.Next(false)
		if err != nil {
			return o, err
		}
		if b.Stats != nil {
			return o, fmt.Errorf("statistics returned without being asked for")
		}
		if b.Len() == 0 {
			return o, nil
		}
		if len(b.Values) != len(b.Times) {
			return o, fmt.Errorf("batch of %d times and %d values", len(b.Times), len(b.Values))
		}
		for i, t := range b.Times {
			if t < min || t > max {
				return o, fmt.Errorf("time %d outside the range [%d, %d]", t, min, max)
			}
			if n := len(o.times); n > 0 && (asc && t <= o.times[n-1] || !asc && t >= o.times[n-1]) {
				return o, fmt.Errorf("time %d after %d in a %s read", t, o.times[n-1], map[bool]string{true: "ascending", false: "descending"}[asc])
			}
			o.times = append(o.times, t)
			o.vals = append(o.vals, conv(b.Values[i]))
		}
	}
}

// rvStatsRead reads series s, field f over [min, max] asking for block
// statistics, and returns the count and sum of the values, which must equal
// those of a plain read.
func rvStatsRead(sh *Shard, idx *index.Index, s, f int, min, max int64, asc bool) (count, sum int64, statBlocks int, err error) {
	key := rvSeriesKey(s)
	id := idx.SeriesID(key)
	if id == 0 {
		return 0, 0, 0, nil
	}
	if f == 0 {
		c := NewCursor[float64](sh, key, id, "v", min, max, asc)
		defer c.Close()
		return rvStatsTyped(c, min, max, asc, func(st *block.Stats) int64 { _, _, s := st.Float(); return int64(s) }, func(v float64) int64 { return int64(v) })
	}
	c := NewCursor[int64](sh, key, id, "n", min, max, asc)
	defer c.Close()
	return rvStatsTyped(c, min, max, asc, func(st *block.Stats) int64 { _, _, s := st.Integer(); return s }, func(v int64) int64 { return v })
}

func rvStatsTyped[T block.Value](c *Cursor[T], min, max int64, asc bool, statSum func(*block.Stats) int64, conv func(T) int64) (count, sum int64, statBlocks int, err error) {
	last, first := int64(0), true
	for {
		b, err := c.Next(true)
		if err != nil {
			return count, sum, statBlocks, err
		}
		var lo, hi int64
		switch {
		case b.Stats != nil:
			statBlocks++
			count += int64(b.Stats.Count)
			sum += statSum(b.Stats)
			lo, hi = b.MinTime, b.MaxTime
			if b.Stats.Count == 0 || lo > hi {
				return count, sum, statBlocks, fmt.Errorf("statistics batch of %d values over %d..%d", b.Stats.Count, lo, hi)
			}
		case b.Len() == 0:
			return count, sum, statBlocks, nil
		default:
			count += int64(b.Len())
			for _, v := range b.Values {
				sum += conv(v)
			}
			lo, hi = b.Times[0], b.Times[b.Len()-1]
			if !asc {
				lo, hi = hi, lo
			}
		}
		if lo < min || hi > max {
			return count, sum, statBlocks, fmt.Errorf("batch %d..%d outside the range [%d, %d]", lo, hi, min, max)
		}
		// Batches follow each other in the read's direction without overlap.
		if !first && (asc && lo <= last || !asc && hi >= last) {
			return count, sum, statBlocks, fmt.Errorf("batch %d..%d overlaps or precedes the previous one (%d)", lo, hi, last)
		}
		first = false
		if asc {
			last = hi
		} else {
			last = lo
		}
	}
}

// check compares what the shard returns with the model: every point read
// must be allowed, every certain point must be read. The whole time range
// is read in both directions, a random window (empty now and then) in a
// random one, each also with block statistics when the model is certain
// over it.
func (m *rvModel) check(t testing.TB, h *rvHarness, rng *rand.Rand, series []int, step string) {
	t.Helper()
	type read struct {
		min, max int64
		asc      bool
	}
	reads := []read{{models.MinNanoTime, models.MaxNanoTime, true}, {models.MinNanoTime, models.MaxNanoTime, false}}
	a, b := rng.Int64N(3200)-100, rng.Int64N(3200)-100
	w := read{min(a, b), max(a, b), rng.IntN(2) == 0}
	if rng.IntN(8) == 0 {
		w.min, w.max = w.max, w.min-1 // empty (min > max)
	}
	reads = append(reads, w)
	for _, s := range series {
		for f := range rvFieldNames {
			col := m.col(s, f)
			for _, r := range reads {
				m.checkRead(t, h, col, s, f, r.min, r.max, r.asc, step)
			}
		}
	}
}

func (m *rvModel) checkRead(t testing.TB, h *rvHarness, col map[int64]*rvCell, s, f int, lo, hi int64, asc bool, step string) {
	t.Helper()
	o, err := rvReadField(h.sh, h.idx, s, f, lo, hi, asc)
	if err != nil {
		t.Fatalf("%s: read h%d.%s [%d, %d] asc=%v: %v", step, s, rvFieldNames[f], lo, hi, asc, err)
	}
	seen := make(map[int64]bool, len(o.times))
	for i, tm := range o.times {
		seen[tm] = true
		c := col[tm]
		if c == nil || !c.allows(o.vals[i]) {
			t.Fatalf("%s: h%d.%s t=%d read %d, model allows %+v (a deleted, overwritten or never written value is back)",
				step, s, rvFieldNames[f], tm, o.vals[i], c)
		}
	}
	var wantCount, wantSum int64
	allCertain := true
	for tm, c := range col {
		if tm < lo || tm > hi {
			continue
		}
		if !c.absent && !seen[tm] {
			t.Fatalf("%s: h%d.%s t=%d missing (model %+v); acknowledged data lost", step, s, rvFieldNames[f], tm, c)
		}
		if c.certain() {
			wantCount++
			wantSum += c.vals[0]
		} else {
			allCertain = false
		}
	}
	if !allCertain {
		return
	}
	n, sum, _, err := rvStatsRead(h.sh, h.idx, s, f, lo, hi, asc)
	if err != nil {
		t.Fatalf("%s: stats read h%d.%s [%d, %d] asc=%v: %v", step, s, rvFieldNames[f], lo, hi, asc, err)
	}
	if n != wantCount || sum != wantSum {
		t.Fatalf("%s: stats read h%d.%s [%d, %d] asc=%v: count %d sum %d, want %d and %d",
			step, s, rvFieldNames[f], lo, hi, asc, n, sum, wantCount, wantSum)
	}
}

// rvWrite writes points and returns the error.
func (h *rvHarness) rvWrite(points []models.Point) error {
	return h.sh.WritePoints(context.Background(), points)
}

// rvIDs returns the ids of series (0 for unknown ones are left out).
func (h *rvHarness) rvIDs(series []int) []uint64 {
	var ids []uint64
	for _, s := range series {
		if id := h.idx.SeriesID(rvSeriesKey(s)); id != 0 {
			ids = append(ids, id)
		}
	}
	return ids
}

// fileNames lists the data directory, for failure messages.
func (h *rvHarness) fileNames() string {
	var inner vfs.FS = vfs.Default
	if h.mem != nil {
		inner = h.mem
	}
	es, err := inner.ReadDir(filepath.Join(h.dir, "data"))
	if err != nil {
		return err.Error()
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return strings.Join(names, " ")
}

// rvEnv reports whether an environment switch is set.
func rvEnv(name string) bool { return os.Getenv(name) != "" }
