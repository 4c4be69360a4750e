package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/vfs"
)

// rvRun is one randomized, model-checked sequence of operations on a shard:
// writes (duplicate and out-of-order times, extreme times, long runs that
// fill several blocks), deletes, snapshots, level and full compactions
// (Shard.Compact and maybeCompact, idle or not), clean reopens and crashes,
// optionally with injected I/O failures. After every step the shard is read
// in both directions and compared with the model, which records only
// acknowledged operations as certain.
type rvRun struct {
	t       *testing.T
	h       *rvHarness
	m       *rvModel
	rng     *rand.Rand
	nSeries int
	counter int64
	next    []int64 // per series: the next time of a sequential run

	faults    bool // arm an injected failure before some steps
	crashes   bool // crash in the middle of some steps
	conflicts bool // mix in points with a conflicting field type

	history []string
}

func newRVRun(t *testing.T, seed uint64, opts Options, mem bool) *rvRun {
	r := &rvRun{
		t:       t,
		h:       newRVHarness(t, opts, mem, seed),
		m:       newRVModel(),
		rng:     rand.New(rand.NewPCG(seed, seed*7919+1)),
		nSeries: 4,
	}
	r.next = make([]int64, r.nSeries)
	// Fix the field types first, so that a conflicting point is always
	// rejected rather than defining a type.
	if err := r.h.rvWrite([]models.Point{rvPoint(0, 0, r.value(), r.value())}); err != nil {
		t.Fatal(err)
	}
	r.m.write(0, 0, 0, 1, true)
	r.m.write(0, 0, 1, 2, true)
	return r
}

func (r *rvRun) note(format string, args ...any) {
	r.history = append(r.history, fmt.Sprintf(format, args...))
	if len(r.history) > 40 {
		r.history = r.history[len(r.history)-40:]
	}
}

func (r *rvRun) fatalf(format string, args ...any) {
	r.t.Helper()
	r.t.Fatalf("%s\nlast steps:\n  %s\nfaults: %s\nfiles: %s", fmt.Sprintf(format, args...),
		strings.Join(r.history, "\n  "), r.h.faults.describe(), r.h.fileNames())
}

func (r *rvRun) value() int64 {
	r.counter++
	return r.counter
}

// randTime picks a time: mostly a small window (so that times repeat and
// arrive out of order), sometimes the extremes of the valid range.
func (r *rvRun) randTime() int64 {
	switch x := r.rng.IntN(100); {
	case x < 3:
		return models.MinNanoTime
	case x < 6:
		return models.MaxNanoTime
	case x < 9:
		return -1 - r.rng.Int64N(50)
	default:
		return r.rng.Int64N(3000)
	}
}

// opWrite writes one batch and updates the model by its outcome.
func (r *rvRun) opWrite() error {
	var pts []models.Point
	type planned struct {
		s        int
		t        int64
		v, n     int64
		rejected bool
	}
	var plan []planned
	if r.rng.IntN(8) == 0 {
		// A long sequential run of one series: several blocks per key and
		// several cached chunks.
		s := r.rng.IntN(r.nSeries)
		start := r.next[s]
		if start == 0 || start > 2600 {
			start = r.rng.Int64N(500)
		}
		n := 200 + r.rng.IntN(1300)
		for i := range n {
			plan = append(plan, planned{s: s, t: start + int64(i), v: r.value(), n: r.value()})
		}
		r.next[s] = start + int64(n)
	} else {
		n := 1 + r.rng.IntN(30)
		for range n {
			p := planned{s: r.rng.IntN(r.nSeries), t: r.randTime(), v: -1, n: -1}
			if len(plan) > 0 && r.rng.IntN(5) == 0 {
				p.s, p.t = plan[len(plan)-1].s, plan[len(plan)-1].t // a duplicate inside the batch
			}
			switch r.rng.IntN(5) {
			case 0:
				p.v = r.value()
			case 1:
				p.n = r.value()
			default:
				p.v, p.n = r.value(), r.value()
			}
			if r.conflicts && r.rng.IntN(25) == 0 {
				p.rejected = true
			}
			plan = append(plan, p)
		}
	}
	rejected := 0
	for _, p := range plan {
		pt := rvPoint(p.s, p.t, p.v, p.n)
		if p.rejected {
			// "v" is a float field: an integer value conflicts, and the
			// whole point is dropped.
			pt.Fields = append(pt.Fields[:0], models.IntegerField([]byte("v"), 1))
			rejected++
		}
		pts = append(pts, pt)
	}
	err := r.h.rvWrite(pts)
	var pe *models.PartialWriteError
	certain := err == nil
	if errors.As(err, &pe) && !r.faults && !r.crashes {
		if pe.Dropped != rejected {
			r.fatalf("write: %v, want %d dropped", err, rejected)
		}
		certain = true
	}
	if err == nil && rejected > 0 {
		r.fatalf("write of %d points with a type conflict acknowledged whole", rejected)
	}
	if err != nil && !certain && !r.faults && !r.crashes {
		r.fatalf("write failed without an injected fault: %v", err)
	}
	for _, p := range plan {
		if p.rejected {
			continue
		}
		if p.v >= 0 {
			r.m.write(p.s, p.t, 0, p.v, certain)
		}
		if p.n >= 0 {
			r.m.write(p.s, p.t, 1, p.n, certain)
		}
	}
	r.note("write %d points (first h%d t=%d, %d conflicting): %v", len(plan), plan[0].s, plan[0].t, rejected, err)
	if pe != nil && certain {
		return nil // the expected partial write
	}
	return err
}

func (r *rvRun) opDelete() error {
	var series []int
	for s := range r.nSeries {
		if r.rng.IntN(2) == 0 {
			series = append(series, s)
		}
	}
	if len(series) == 0 {
		series = []int{r.rng.IntN(r.nSeries)}
	}
	lo, hi := int64(models.MinNanoTime), int64(models.MaxNanoTime)
	if r.rng.IntN(5) != 0 {
		a, b := r.rng.Int64N(3100)-50, r.rng.Int64N(3100)-50
		lo, hi = min(a, b), max(a, b)
	}
	ids := r.h.rvIDs(series)
	err := r.h.sh.DeleteRange(context.Background(), ids, lo, hi)
	if err != nil && !r.faults && !r.crashes {
		r.fatalf("delete failed without an injected fault: %v", err)
	}
	r.m.del(series, lo, hi, err == nil)
	r.note("delete %v [%d, %d]: %v", series, lo, hi, err)
	return err
}

// step runs one random operation.
func (r *rvRun) step(i int) {
	t := r.t
	t.Helper()
	armed := false
	crashed := false
	if r.crashes && r.rng.IntN(6) == 0 {
		n := r.rng.IntN(14)
		r.h.faults.Crash(n)
		crashed = true
		r.note("-- crash after %d more file operations", n)
	} else if r.faults && r.rng.IntN(3) == 0 {
		armed = r.arm()
	}
	var err error
	var what string
	switch x := r.rng.IntN(100); {
	case x < 50:
		what = "write"
		err = r.opWrite()
	case x < 62:
		what = "delete"
		err = r.opDelete()
	case x < 74:
		what = "flush"
		err = r.h.sh.Flush()
		r.note("flush: %v", err)
	case x < 82:
		what = "maybeCompact"
		r.h.sh.maybeCompact()
		r.note("maybeCompact")
	case x < 86:
		what = "compact"
		err = r.h.sh.Compact(context.Background())
		r.note("compact: %v", err)
	case x < 89:
		what = "idle maybeCompact"
		r.h.clock.Advance(5 * time.Hour)
		r.h.sh.maybeCompact()
		r.note("idle 5h + maybeCompact")
	case x < 94:
		what = "reopen"
		r.h.faults.Disarm()
		armed, crashed = false, false
		r.h.reopen()
		r.note("reopen")
	default:
		what = "crash"
		r.h.faults.Disarm()
		armed, crashed = false, false
		r.h.crashReopen()
		r.note("crash between operations + reopen")
	}
	if err != nil && !armed && !crashed {
		r.fatalf("step %d %s: unexpected error %v", i, what, err)
	}
	switch {
	case crashed:
		r.h.crashReopen()
		r.note("   reopened after the crash")
	case armed:
		fired := r.h.faults.Disarm()
		if fired && r.rng.IntN(2) == 0 {
			r.h.reopen()
			r.note("   reopen after the fault")
		}
	}
	r.checkModel(fmt.Sprintf("step %d (%s)", i, what))
}

func (r *rvRun) checkModel(step string) {
	r.t.Helper()
	defer func() {
		if p := recover(); p != nil {
			r.fatalf("%s: panic: %v", step, p)
		}
	}()
	series := make([]int, r.nSeries)
	for i := range series {
		series[i] = i
	}
	r.m.check(&rvFatal{r: r}, r.h, r.rng, series, step)
}

// rvFatal routes the model's failures through rvRun.fatalf so that they
// carry the history of the run.
type rvFatal struct {
	testing.TB
	r *rvRun
}

func (f *rvFatal) Helper() {}
func (f *rvFatal) Fatalf(format string, args ...any) {
	f.r.fatalf(format, args...)
}

// arm picks a fault to inject in the next step.
func (r *rvRun) arm() bool {
	ops := []vfs.Op{vfs.OpWrite, vfs.OpSync, vfs.OpRename, vfs.OpRemove, vfs.OpOpen, vfs.OpSyncDir, vfs.OpTruncate, vfs.OpMkdir}
	filters := []string{"", ".wal", ".tsm", ".tmp", ".tombstone", "fields.json", "series.roaring", ".compacting", "_series"}
	op := ops[r.rng.IntN(len(ops))]
	filter := filters[r.rng.IntN(len(filters))]
	nth := 1 + r.rng.IntN(3)
	sticky := r.rng.IntN(4) == 0
	r.h.faults.Arm(op, false, filter, nth, sticky)
	r.note("-- arm: fail %s #%d on %q sticky=%v", op, nth, filter, sticky)
	return true
}

// rvUseMem says which seeds run on the in-memory file system (which can
// lose unsynced data at a crash, and is fast): all but seed 1, which runs on
// the real one (mmap, real renames).
func rvUseMem(seed uint64) bool { return seed != 1 }

func rvRunName(seed uint64) string {
	if rvUseMem(seed) {
		return fmt.Sprintf("memfs/seed=%d", seed)
	}
	return fmt.Sprintf("osfs/seed=%d", seed)
}

func rvSteps(short, long int) int {
	if testing.Short() {
		return short / 2
	}
	if rvLong() {
		return long
	}
	return short
}

// TestReviewModelRandomized runs random operation sequences without
// faults and checks the shard against the model after every step.
func TestReviewModelRandomized(t *testing.T) {
	for _, seed := range rvSeeds(t, 4, 60) {
		t.Run(rvRunName(seed), func(t *testing.T) {
			r := newRVRun(t, seed, Options{CompactFullWriteColdDuration: time.Hour}, rvUseMem(seed))
			r.conflicts = true
			steps := rvSteps(100, 600)
			for i := range steps {
				r.step(i)
			}
		})
	}
}

// TestReviewModelCrashes crashes the shard in the middle of operations
// (every file operation fails from a random syscall on, as after kill -9 or
// a power cut that kept the page cache) and checks after each restart that
// nothing acknowledged is missing and nothing deleted is back.
func TestReviewModelCrashes(t *testing.T) {
	for _, seed := range rvSeeds(t, 4, 60) {
		t.Run(rvRunName(seed), func(t *testing.T) {
			r := newRVRun(t, seed, Options{CompactFullWriteColdDuration: time.Hour}, rvUseMem(seed))
			r.crashes = true
			steps := rvSteps(100, 600)
			for i := range steps {
				r.step(i)
			}
		})
	}
}

// TestReviewModelFaults injects one failed (or persistently failing) file
// operation into random steps: a failed step may or may not take effect,
// but nothing acknowledged may be lost and nothing deleted may come back,
// before or after a restart.
func TestReviewModelFaults(t *testing.T) {
	for _, seed := range rvSeeds(t, 4, 60) {
		t.Run(rvRunName(seed), func(t *testing.T) {
			r := newRVRun(t, seed, Options{CompactFullWriteColdDuration: time.Hour}, rvUseMem(seed))
			r.faults = true
			steps := rvSteps(100, 600)
			for i := range steps {
				r.step(i)
			}
		})
	}
}
