package engine

import (
	"testing"

	"github.com/stratadb/strata/internal/models"
)

// TestCursorNewestOnly: with WantNewestOnly, a descending cursor over a
// data-file block returns its newest value alone (from the index entry),
// then the rest of the block without that value; without the hint, or
// ascending, the block comes whole.
func TestCursorNewestOnly(t *testing.T) {
	h := newRVHarness(t, Options{}, false, 1)
	rvWriteRun(t, h, 0, 0, 1500, func(tm int64) int64 { return 3*tm + 1 })
	rvFlush(t, h)
	key := rvSeriesKey(0)
	id := h.idx.SeriesID(key)
	read := func(asc, hint bool) [][]int64 {
		c := NewCursor[float64](h.sh, key, id, "v", models.MinNanoTime, models.MaxNanoTime, asc)
		defer c.Close()
		if hint {
			c.WantNewestOnly()
		}
		var batches [][]int64
		for {
			b, err := c.Next(false)
			if err != nil {
				t.Fatal(err)
			}
			if b.Len() == 0 {
				return batches
			}
			for i, tm := range b.Times {
				if b.Values[i] != float64(3*tm+1) {
					t.Fatalf("time %d holds %v, want %d", tm, b.Values[i], 3*tm+1)
				}
			}
			batches = append(batches, append([]int64(nil), b.Times...))
		}
	}
	got := read(false, true)
	if len(got) < 2 || len(got[0]) != 1 || got[0][0] != 1499 || got[1][0] != 1498 {
		t.Fatalf("hinted descending read: batches of %v, want [1499] then from 1498", lens(got))
	}
	plain := read(false, false)
	if len(plain[0]) == 1 {
		t.Fatalf("descending read without the hint began with a single value")
	}
	if n, m := total(got), total(plain); n != 1500 || m != 1500 {
		t.Fatalf("hinted read saw %d values, plain %d; want 1500", n, m)
	}
	if asc := read(true, true); len(asc[0]) == 1 || asc[0][0] != 0 {
		t.Fatalf("ascending read with the hint: first batch %v", asc[0][:min(3, len(asc[0]))])
	}
}

func lens(bs [][]int64) []int {
	var out []int
	for _, b := range bs {
		out = append(out, len(b))
	}
	return out
}

func total(bs [][]int64) int {
	n := 0
	for _, b := range bs {
		n += len(b)
	}
	return n
}
