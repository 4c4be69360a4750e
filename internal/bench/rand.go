package bench

import "math/bits"

// rng is splitmix64 (Steele, Lea and Flood, "Fast splittable pseudorandom
// number generators", 2014): tiny, fast, and fully specified here, so the
// data set cannot change when the standard library's generators do.
type rng struct{ s uint64 }

// golden is 2^64 divided by the golden ratio, splitmix64's increment.
const golden = 0x9e3779b97f4a7c15

func newRNG(seed, stream uint64) rng {
	r := rng{s: seed}
	// Mix the stream in through one output step so that neighbouring
	// streams (host 1, host 2) start far apart.
	r.s ^= mix64(stream*golden + 0x632be59bd9b4e019)
	return r
}

func (r *rng) next() uint64 {
	r.s += golden
	return mix64(r.s)
}

func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a uniform value in [0, n) for n > 0, by Lemire's
// multiply-shift (the tiny bias for n far below 2^64 does not matter for
// test data, and it keeps the sequence simple to specify).
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int(hi)
}

// float01 returns a uniform value in [0, 1) with 53 random bits.
func (r *rng) float01() float64 {
	return float64(r.next()>>11) * (1.0 / (1 << 53))
}

// stringHash is FNV-1a, used to derive a query type's stream from its name.
func stringHash(s string) uint64 {
	h := uint64(0xcbf29ce484222325)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 0x100000001b3
	}
	return h
}
