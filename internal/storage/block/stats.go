package block

import (
	"math"
)

// Stats summarise one block for aggregate pushdown (COUNT, SUM, MIN, MAX,
// MEAN, FIRST, LAST) without decoding it.
//
// For Float, Integer and Unsigned blocks Min, Max and Sum hold the typed
// value's bits: math.Float64bits for floats, uint64(v) for integers, the
// value itself for unsigned. Sum of Integer and Unsigned wraps like Go's
// addition (as 1.x SUM does); Sum of Float is the float64 sum taken in time
// order, so that it equals what a cursor summing the decoded block gets.
// Float Min and Max ignore NaN unless every value is NaN. For Boolean and
// String blocks only Count is meaningful and the rest is zero. The times of
// FIRST and LAST are the block's min and max time, kept in the index entry.
//
// Last is the block's last value (the one at its max time) in the same
// bits as Min and Max, a Boolean's as 0 or 1; HasLast says it is known:
// never for String blocks, and not for blocks of a version 1 data file.
// It answers ORDER BY time DESC LIMIT 1 (lastpoint) without a decode.
type Stats struct {
	Count         uint32
	Min, Max, Sum uint64
	Last          uint64
	HasLast       bool
}

// Float returns Min, Max and Sum of a Float block's stats as floats.
func (s Stats) Float() (min, max, sum float64) {
	return math.Float64frombits(s.Min), math.Float64frombits(s.Max), math.Float64frombits(s.Sum)
}

// Integer returns Min, Max and Sum of an Integer block's stats.
func (s Stats) Integer() (min, max, sum int64) {
	return int64(s.Min), int64(s.Max), int64(s.Sum)
}

// ComputeStats summarises a.
func ComputeStats[T Value](a Array[T]) Stats {
	st := Stats{Count: uint32(len(a.Times))}
	if len(a.Values) == 0 {
		return st
	}
	switch vs := any(a.Values).(type) {
	case []float64:
		lo, hi, sum := math.NaN(), math.NaN(), 0.0
		for _, v := range vs {
			sum += v
			if v != v {
				continue // NaN has no order; it only poisons the sum
			}
			if lo != lo || v < lo {
				lo = v
			}
			if hi != hi || v > hi {
				hi = v
			}
		}
		st.Min, st.Max, st.Sum = math.Float64bits(lo), math.Float64bits(hi), math.Float64bits(sum)
		st.Last, st.HasLast = math.Float64bits(vs[len(vs)-1]), true
	case []int64:
		lo, hi, sum := vs[0], vs[0], int64(0)
		for _, v := range vs {
			sum += v
			lo, hi = min(lo, v), max(hi, v)
		}
		st.Min, st.Max, st.Sum = uint64(lo), uint64(hi), uint64(sum)
		st.Last, st.HasLast = uint64(vs[len(vs)-1]), true
	case []uint64:
		lo, hi, sum := vs[0], vs[0], uint64(0)
		for _, v := range vs {
			sum += v
			lo, hi = min(lo, v), max(hi, v)
		}
		st.Min, st.Max, st.Sum = lo, hi, sum
		st.Last, st.HasLast = vs[len(vs)-1], true
	case []bool:
		if vs[len(vs)-1] {
			st.Last = 1
		}
		st.HasLast = true
	}
	return st
}
