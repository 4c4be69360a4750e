package engine

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/vfs"
)

// Deterministic interleavings of a snapshot or a compaction with deletes
// and writes: the background operation is stopped inside its file write
// (its fsync blocks on a gate) while the test deletes, overwrites and
// reads; then it is let go, and the result is checked against the model,
// then again after a restart, after a snapshot that retires the WAL (so
// that replay cannot hide a lost tombstone) and after a crash.

type rvGate struct {
	entered chan struct{}
	release chan struct{}
}

// block makes the first fsync of a file whose name ends in suffix wait
// until release is closed.
func (h *rvHarness) block(suffix string) *rvGate {
	g := &rvGate{entered: make(chan struct{}), release: make(chan struct{})}
	var once atomic.Bool
	h.efs.SetInjector(func(op vfs.Op, path string) error {
		if op == vfs.OpSync && strings.HasSuffix(path, suffix) && once.CompareAndSwap(false, true) {
			close(g.entered)
			<-g.release
		}
		return nil
	})
	return g
}

type rvInterleaving struct {
	name string
	// background starts the operation to interrupt; it returns its error.
	background func(h *rvHarness) error
	// blockOn is the suffix of the file whose fsync is held.
	blockOn string
}

func TestReviewDeletesAndWritesDuringSnapshotAndCompaction(t *testing.T) {
	cases := []rvInterleaving{
		{"snapshot", func(h *rvHarness) error { return h.sh.Flush() }, ".tsm.tmp"},
		{"level compaction", func(h *rvHarness) error { h.sh.maybeCompact(); return nil }, "-02.tsm.tmp"},
		{"full compaction", func(h *rvHarness) error { return h.sh.Compact(context.Background()) }, "-04.tsm.tmp"},
	}
	for i, tc := range cases {
		for _, mem := range []bool{false, true} {
			if !mem && i > 0 && !rvLong() {
				continue // the real file system once is enough for the short run
			}
			name := tc.name + map[bool]string{false: "/osfs", true: "/memfs"}[mem]
			t.Run(name, func(t *testing.T) { rvInterleave(t, tc, mem) })
		}
	}
}

func rvInterleave(t *testing.T, tc rvInterleaving, mem bool) {
	h := newRVHarness(t, Options{}, mem, 3)
	m := newRVModel()
	rng := rand.New(rand.NewPCG(3, 4))
	all := []int{0, 1, 2}
	val := int64(0)
	write := func(s int, from, to int64) {
		t.Helper()
		var pts []models.Point
		for tm := from; tm < to; tm++ {
			val++
			pts = append(pts, rvPoint(s, tm, val, val+1_000_000))
			m.write(s, tm, 0, val, true)
			m.write(s, tm, 1, val+1_000_000, true)
		}
		if err := h.rvWrite(pts); err != nil {
			t.Fatal(err)
		}
	}
	del := func(series []int, lo, hi int64) {
		t.Helper()
		if err := h.sh.DeleteRange(context.Background(), h.rvIDs(series), lo, hi); err != nil {
			t.Fatal(err)
		}
		m.del(series, lo, hi, true)
	}
	// Four level-1 files with overlapping ranges (so that the compaction
	// must merge, not copy), each with more than a block per key.
	for f := range int64(4) {
		for _, s := range all {
			write(s, f*700, f*700+1500)
		}
		if err := h.sh.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	write(0, 100, 400) // in the cache: the snapshot's input
	write(1, 2000, 2100)
	m.check(t, h, rng, all, "before")

	g := h.block(tc.blockOn)
	errc := make(chan error, 1)
	go func() { errc <- tc.background(h) }()
	select {
	case <-g.entered:
	case err := <-errc:
		t.Fatalf("%s finished without reaching the blocked fsync: %v (files %s)", tc.name, err, h.fileNames())
	}

	// While it is held: writes must go on, deletes must hold, reads must
	// see both.
	done := make(chan struct{})
	go func() {
		defer close(done)
		write(2, 5000, 5100)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		close(g.release)
		t.Fatalf("a write waited for the %s", tc.name)
	}
	del([]int{0}, 150, 250)                // cache and files
	del([]int{1}, 1200, 1300)              // files only
	del([]int{2}, models.MinNanoTime, 100) // everything before 100
	write(1, 1250, 1260)                   // rewrite inside a deleted range
	del([]int{0, 1, 2}, 2050, 2060)        // across series
	m.check(t, h, rng, all, "while "+tc.name+" is held")

	close(g.release)
	if err := <-errc; err != nil {
		t.Fatalf("%s: %v", tc.name, err)
	}
	h.efs.SetInjector(h.faults.inject)
	m.check(t, h, rng, all, "after the "+tc.name)
	h.reopen()
	m.check(t, h, rng, all, "after a restart")
	// Retire the WAL that holds the deletes: from here on only tombstones
	// and compaction keep them.
	write(2, 6000, 6001)
	if err := h.sh.Flush(); err != nil {
		t.Fatal(err)
	}
	h.reopen()
	m.check(t, h, rng, all, "after a snapshot and a restart")
	if err := h.sh.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.check(t, h, rng, all, "after a full compaction")
	h.crashReopen()
	m.check(t, h, rng, all, "after a crash")
}
