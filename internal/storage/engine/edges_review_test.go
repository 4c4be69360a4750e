package engine

import (
	"context"
	"fmt"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stratadb/strata/internal/models"
)

// TestReviewCursorWindowsAtBlockEdges reads windows that start and end
// exactly on, just inside and just outside every block boundary, over data
// spread across two data files with overlapping blocks, a tombstone and
// the cache, in both directions, with and without block statistics.
func TestReviewCursorWindowsAtBlockEdges(t *testing.T) {
	h := newRVHarness(t, Options{}, true, 5)
	m := newRVModel()
	val := int64(0)
	write := func(from, to, step int64) {
		t.Helper()
		var pts []models.Point
		for tm := from; tm < to; tm += step {
			val++
			pts = append(pts, rvPoint(0, tm, val, val))
			m.write(0, tm, 0, val, true)
			m.write(0, tm, 1, val, true)
		}
		if err := h.rvWrite(pts); err != nil {
			t.Fatal(err)
		}
	}
	write(0, 3500, 1) // file 1: blocks [0,999] [1000,1999] [2000,2999] [3000,3499]
	if err := h.sh.Flush(); err != nil {
		t.Fatal(err)
	}
	write(1500, 2600, 2) // file 2: overlaps two blocks of file 1
	if err := h.sh.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := h.sh.DeleteRange(context.Background(), h.rvIDs([]int{0}), 2999, 3001); err != nil {
		t.Fatal(err)
	}
	m.del([]int{0}, 2999, 3001, true)
	write(3400, 3600, 1) // the cache, over the last block's end
	edges := []int64{0, 999, 1000, 1500, 1999, 2599, 2999, 3000, 3002, 3400, 3499, 3599}
	var windows [][2]int64
	for _, a := range edges {
		for _, b := range edges {
			for _, d := range []int64{-1, 1} {
				if a+d <= b {
					windows = append(windows, [2]int64{a + d, b})
				}
			}
		}
	}
	check := func(step string) {
		t.Helper()
		for _, w := range windows {
			for _, asc := range []bool{true, false} {
				for f := range 2 {
					o, err := rvReadField(h.sh, h.idx, 0, f, w[0], w[1], asc)
					if err != nil {
						t.Fatalf("%s: window %v asc=%v: %v", step, w, asc, err)
					}
					var want []int64
					for tm := w[0]; tm <= w[1]; tm++ {
						if c := m.col(0, f)[tm]; c != nil {
							want = append(want, tm)
						}
					}
					if len(o.times) != len(want) {
						t.Fatalf("%s: window %v asc=%v field %d: %d values, want %d", step, w, asc, f, len(o.times), len(want))
					}
					for i, tm := range o.times {
						if c := m.col(0, f)[tm]; c == nil || c.vals[0] != o.vals[i] {
							t.Fatalf("%s: window %v asc=%v t=%d: read %d, want %+v", step, w, asc, tm, o.vals[i], c)
						}
					}
					var wantSum int64
					for _, tm := range want {
						wantSum += m.col(0, f)[tm].vals[0]
					}
					n, sum, _, err := rvStatsRead(h.sh, h.idx, 0, f, w[0], w[1], asc)
					if err != nil || n != int64(len(want)) || sum != wantSum {
						t.Fatalf("%s: stats window %v asc=%v field %d: count %d sum %d err %v, want %d and %d", step, w, asc, f, n, sum, err, len(want), wantSum)
					}
				}
			}
		}
	}
	check("files, tombstone and cache")
	if err := h.sh.Flush(); err != nil {
		t.Fatal(err)
	}
	check("after a snapshot")
	if err := h.sh.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	check("after a full compaction")
	// Statistics must be used where they can be: whole blocks of the
	// compacted file inside the window.
	_, _, statBlocks, err := rvStatsRead(h.sh, h.idx, 0, 1, models.MinNanoTime, models.MaxNanoTime, true)
	if err != nil || statBlocks == 0 {
		t.Fatalf("a full read of a compacted series used %d statistics blocks (err %v)", statBlocks, err)
	}
}

// TestReviewDropSeriesAndRecreate drops a series the way the store does
// (delete all its data in the shard, then drop it from the index), writes
// the same series key again (it gets a new id), and checks after a crash,
// a restart and a full compaction that only the new data is there.
func TestReviewDropSeriesAndRecreate(t *testing.T) {
	for _, flushFirst := range []bool{false, true} {
		t.Run(fmt.Sprint("flushed=", flushFirst), func(t *testing.T) {
			h := newRVHarness(t, Options{}, true, 9)
			rvWriteRun(t, h, 0, 0, 100, func(tm int64) int64 { return 1000 + tm })
			rvWriteRun(t, h, 1, 0, 100, func(tm int64) int64 { return 2000 + tm })
			if flushFirst {
				rvFlush(t, h)
			}
			ids := h.rvIDs([]int{0})
			if err := h.sh.DropSeries(context.Background(), ids); err != nil {
				t.Fatal(err)
			}
			bm := roaring.New()
			bm.Add(uint32(ids[0]))
			if err := h.idx.DropSeries(bm); err != nil {
				t.Fatal(err)
			}
			rvWriteRun(t, h, 0, 50, 60, func(tm int64) int64 { return 3000 + tm }) // new id, same key
			if got := h.rvIDs([]int{0}); got[0] == ids[0] {
				t.Fatalf("the recreated series reuses id %d", ids[0])
			}
			check := func(step string) {
				t.Helper()
				got := rvValues(t, h, 0)
				if len(got) != 10 {
					t.Fatalf("%s: %d values of the recreated series, want 10: %v", step, len(got), got)
				}
				for tm, v := range got {
					if v != 3000+tm {
						t.Fatalf("%s: t=%d reads %d, want %d (dropped data is back)", step, tm, v, 3000+tm)
					}
				}
				if other := rvValues(t, h, 1); len(other) != 100 {
					t.Fatalf("%s: the other series has %d values, want 100", step, len(other))
				}
			}
			check("before restart")
			h.crashReopen()
			check("after a crash")
			rvFlush(t, h)
			h.reopen()
			check("after a snapshot and a restart")
			if err := h.sh.Compact(context.Background()); err != nil {
				t.Fatal(err)
			}
			h.reopen()
			check("after a full compaction and a restart")
		})
	}
}
