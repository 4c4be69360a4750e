package engine

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/stratadb/strata/internal/models"
)

// TestColumnSortKeepsLastWrite checks sortLocked against a model: times
// ascending and unique, and for each time the value written last, for
// numeric and string columns with many duplicates and out-of-order runs.
func TestColumnSortKeepsLastWrite(t *testing.T) {
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 7))
		for _, typ := range []models.FieldType{models.Integer, models.String} {
			col := &column{typ: typ}
			last := map[int64]uint64{}
			n := 1 + rng.IntN(3000)
			span := int64(1 + rng.IntN(2*n))
			for i := range n {
				tm := rng.Int64N(span)
				if rng.IntN(4) > 0 && i > 0 {
					tm = col.times[i-1] + 1 // runs in order, as batches arrive
				}
				v := rng.Uint64()
				col.times = append(col.times, tm)
				if typ == models.String {
					col.strs = append(col.strs, strconv.FormatUint(v, 10))
				} else {
					col.bits = append(col.bits, v)
				}
				last[tm] = v
			}
			col.sortLocked()
			want := make([]int64, 0, len(last))
			for tm := range last {
				want = append(want, tm)
			}
			slices.Sort(want)
			if !slices.Equal(col.times, want) {
				t.Fatalf("seed %d %v: times %v, want %v", seed, typ, col.times, want)
			}
			for i, tm := range col.times {
				got := uint64(0)
				if typ == models.String {
					got, _ = strconv.ParseUint(col.strs[i], 10, 64)
				} else {
					got = col.bits[i]
				}
				if got != last[tm] {
					t.Fatalf("seed %d %v: time %d holds %d, want the last write %d", seed, typ, tm, got, last[tm])
				}
			}
			if typ == models.String && len(col.strs) != len(col.times) || typ != models.String && len(col.bits) != len(col.times) {
				t.Fatalf("seed %d %v: %d times, %d values", seed, typ, len(col.times), max(len(col.strs), len(col.bits)))
			}
		}
	}
}

func BenchmarkColumnSort(b *testing.B) {
	// Four writers' batches of 500 points interleaved: the shape a column
	// has at snapshot time under the benchmark's load.
	const runs, per = 4, 500
	base := make([]int64, 0, runs*per*10)
	for blk := range 10 {
		for r := range runs {
			for i := range per {
				base = append(base, int64(((blk*runs+(runs-1-r))*per+i)*10))
			}
		}
	}
	bits := make([]uint64, len(base))
	b.ReportAllocs()
	b.SetBytes(int64(len(base)) * 16)
	for b.Loop() {
		col := &column{typ: models.Integer, times: slices.Clone(base), bits: slices.Clone(bits)}
		col.sortLocked()
	}
}
