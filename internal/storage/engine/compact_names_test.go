package engine

import (
	"context"
	"testing"

	"github.com/stratadb/strata/internal/models"
)

// TestCompactionNeverReusesAName: compacting one file again and again
// (explicit Compact, or a full file with tombstones) while a reader holds
// an earlier output must not give a new file the name of an old one. With
// 7-04 -> 7-05 -> 7-04, the old 7-04 was deleted by name when its reader
// let go, taking the new live 7-04 with it: after a restart the data was
// gone (found by TestReviewConcurrentModel under load).
func TestCompactionNeverReusesAName(t *testing.T) {
	h := newRVHarness(t, Options{}, true, 1)
	rvWriteRun(t, h, 0, 0, 500, func(tm int64) int64 { return tm + 7 })
	rvFlush(t, h)
	key := rvSeriesKey(0)
	id := h.idx.SeriesID(key)
	seen := map[string]bool{}
	var held []*Cursor[float64]
	for range 4 {
		// A reader holds the current file across the next compaction.
		held = append(held, NewCursor[float64](h.sh, key, id, "v", models.MinNanoTime, models.MaxNanoTime, true))
		if err := h.sh.Compact(context.Background()); err != nil {
			t.Fatal(err)
		}
		var names []string
		h.sh.mu.RLock()
		for _, f := range h.sh.mu.files {
			names = append(names, f.r.Path())
		}
		h.sh.mu.RUnlock()
		for _, name := range names {
			if seen[name] {
				t.Fatalf("compaction output %s reuses an earlier file's name", name)
			}
			seen[name] = true
		}
	}
	for _, c := range held {
		c.Close() // releases the old files: each deleted by its own name
	}
	h.reopen()
	got := rvValues(t, h, 0)
	for tm := range int64(500) {
		if v, ok := got[tm]; !ok || v != tm+7 {
			t.Fatalf("after restart, t=%d holds %d (present %v); want %d", tm, v, ok, tm+7)
		}
	}
}
