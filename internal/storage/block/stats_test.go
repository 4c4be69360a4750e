package block_test

import (
	"math"
	"strings"
	"testing"

	"github.com/stratadb/strata/internal/storage/block"
)

func TestComputeStats(t *testing.T) {
	f := func(v float64) uint64 { return math.Float64bits(v) }
	nan := math.NaN()
	tests := []struct {
		name string
		got  block.Stats
		want block.Stats
	}{
		{"float", block.ComputeStats(block.Array[float64]{Times: []int64{1, 2, 3}, Values: []float64{2.5, -1, 4}}),
			block.Stats{Count: 3, Min: f(-1), Max: f(4), Sum: f(5.5)}},
		{"float NaN ignored by min max", block.ComputeStats(block.Array[float64]{Times: []int64{1, 2, 3}, Values: []float64{nan, 7, 3}}),
			block.Stats{Count: 3, Min: f(3), Max: f(7), Sum: f(nan)}},
		{"float infinities", block.ComputeStats(block.Array[float64]{Times: []int64{1, 2}, Values: []float64{math.Inf(-1), math.Inf(1)}}),
			block.Stats{Count: 2, Min: f(math.Inf(-1)), Max: f(math.Inf(1)), Sum: f(nan)}},
		{"integer", block.ComputeStats(block.Array[int64]{Times: []int64{1, 2, 3}, Values: []int64{-5, 10, 2}}),
			block.Stats{Count: 3, Min: uint64(1<<64 - 5), Max: 10, Sum: 7}},
		{"integer sum wraps", block.ComputeStats(block.Array[int64]{Times: []int64{1, 2}, Values: []int64{math.MaxInt64, 2}}),
			block.Stats{Count: 2, Min: 2, Max: math.MaxInt64, Sum: uint64(1<<63 + 1)}},
		{"unsigned", block.ComputeStats(block.Array[uint64]{Times: []int64{1, 2, 3}, Values: []uint64{9, math.MaxUint64, 3}}),
			block.Stats{Count: 3, Min: 3, Max: math.MaxUint64, Sum: 11}},
		{"boolean", block.ComputeStats(block.Array[bool]{Times: []int64{1, 2}, Values: []bool{true, false}}),
			block.Stats{Count: 2}},
		{"string", block.ComputeStats(block.Array[string]{Times: []int64{1}, Values: []string{"x"}}),
			block.Stats{Count: 1}},
		{"empty", block.ComputeStats(block.Array[float64]{}), block.Stats{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !sameStats(tt.got, tt.want, strings.HasPrefix(tt.name, "float")) {
				t.Fatalf("got %+v, want %+v", tt.got, tt.want)
			}
		})
	}
	// The typed accessors read back what was summed.
	st := block.ComputeStats(block.Array[int64]{Times: []int64{1, 2}, Values: []int64{-3, 1}})
	if lo, hi, sum := st.Integer(); lo != -3 || hi != 1 || sum != -2 {
		t.Fatalf("Integer() = %d %d %d", lo, hi, sum)
	}
	st = block.ComputeStats(block.Array[float64]{Times: []int64{1, 2}, Values: []float64{0.5, 0.25}})
	if lo, hi, sum := st.Float(); lo != 0.25 || hi != 0.5 || sum != 0.75 {
		t.Fatalf("Float() = %v %v %v", lo, hi, sum)
	}
}

// sameStats compares stats bit for bit, except that for float stats any
// two NaN patterns are equal: which NaN an addition yields is up to the hardware.
func sameStats(a, b block.Stats, float bool) bool {
	isNaN := func(u uint64) bool { return float && math.IsNaN(math.Float64frombits(u)) }
	eq := func(x, y uint64) bool { return x == y || (isNaN(x) && isNaN(y)) }
	return a.Count == b.Count && eq(a.Min, b.Min) && eq(a.Max, b.Max) && eq(a.Sum, b.Sum)
}
