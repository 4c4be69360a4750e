package codec_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// Generators of realistic columns, shared by tests and benchmarks. Each is
// deterministic for a given seed.

const tenSeconds = int64(10e9)

// walkInts is the TSBS cpu field: a random walk of N(0,1) steps clamped to
// 0..100 and written as an integer, as TSBS's InfluxDB serializer does.
func walkInts(r *rand.Rand, n int) []int64 {
	v := r.Float64() * 100
	out := make([]int64, n)
	for i := range out {
		v = min(max(v+r.NormFloat64(), 0), 100)
		out[i] = int64(v)
	}
	return out
}

// walkFloats is the same walk kept at full float64 precision.
func walkFloats(r *rand.Rand, n int) []float64 {
	v := r.Float64() * 100
	out := make([]float64, n)
	for i := range out {
		v = min(max(v+r.NormFloat64(), 0), 100)
		out[i] = v
	}
	return out
}

// gaugeFloats is a gauge reported with two decimals (temperatures, load).
func gaugeFloats(r *rand.Rand, n int) []float64 {
	v := 20 + r.Float64()*10
	out := make([]float64, n)
	for i := range out {
		v += r.NormFloat64() * 0.3
		out[i] = math.Round(v*100) / 100
	}
	return out
}

// counterInts is a monotonic counter (bytes sent) with bursty increments.
func counterInts(r *rand.Rand, n int) []int64 {
	v := int64(r.IntN(1 << 30))
	out := make([]int64, n)
	for i := range out {
		v += int64(r.IntN(5000)) + int64(r.ExpFloat64()*2000)
		out[i] = v
	}
	return out
}

// regularTimes is one point every 10 s from a whole second.
func regularTimes(n int) []int64 {
	t := int64(1_700_000_000) * 1e9
	out := make([]int64, n)
	for i := range out {
		out[i] = t + int64(i)*tenSeconds
	}
	return out
}

// jitterTimes is a 10 s schedule with each point late by up to 50 ms, at
// nanosecond precision (an agent that does not round its timestamps).
func jitterTimes(r *rand.Rand, n int) []int64 {
	t := int64(1_700_000_000) * 1e9
	out := make([]int64, n)
	for i := range out {
		out[i] = t + int64(i)*tenSeconds + r.Int64N(50e6)
	}
	return out
}

// jitterMsTimes is the same schedule written with millisecond precision.
func jitterMsTimes(r *rand.Rand, n int) []int64 {
	t := int64(1_700_000_000) * 1e9
	out := make([]int64, n)
	for i := range out {
		out[i] = t + int64(i)*tenSeconds + r.Int64N(50)*1e6
	}
	return out
}

var (
	logLevels = []string{"INFO", "INFO", "INFO", "WARN", "DEBUG", "ERROR"}
	logComps  = []string{"httpd", "wal", "compactor", "retention", "query"}
	logVerbs  = []string{"completed request", "flushed cache snapshot", "opened shard", "slow query", "dropped expired shard group"}
	enumVals  = []string{"running", "sleeping", "stopped", "zombie", "idle"}
)

// logStrings are log-line-like messages.
func logStrings(r *rand.Rand, n int) []string {
	out := make([]string, n)
	var b strings.Builder
	for i := range out {
		b.Reset()
		fmt.Fprintf(&b, "level=%s component=%s msg=%q id=%08x took=%dms path=/db/%d/shard/%d",
			logLevels[r.IntN(len(logLevels))], logComps[r.IntN(len(logComps))],
			logVerbs[r.IntN(len(logVerbs))], r.Uint32(), r.IntN(900), r.IntN(4), r.IntN(64))
		out[i] = b.String()
	}
	return out
}

// enumStrings are a few states, changing now and then.
func enumStrings(r *rand.Rand, n int) []string {
	out := make([]string, n)
	s := enumVals[0]
	for i := range out {
		if r.IntN(10) == 0 {
			s = enumVals[r.IntN(len(enumVals))]
		}
		out[i] = s
	}
	return out
}

// flagBools is a status flag that flips now and then.
func flagBools(r *rand.Rand, n int) []bool {
	out := make([]bool, n)
	b := false
	for i := range out {
		if r.IntN(50) == 0 {
			b = !b
		}
		out[i] = b
	}
	return out
}

// randomBools are coin flips.
func randomBools(r *rand.Rand, n int) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = r.IntN(2) == 0
	}
	return out
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }
