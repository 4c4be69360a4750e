package block

import (
	"cmp"
	"slices"

	"github.com/stratadb/strata/internal/models"
)

// Value is the set of Go types a field value can have: one per
// models.FieldType.
type Value interface {
	float64 | int64 | uint64 | bool | string
}

// Array is a time-sorted column of values; Times and Values have equal
// length. Unless a method says otherwise, the times are strictly ascending
// (sorted and unique).
type Array[T Value] struct {
	Times  []int64
	Values []T
}

// Len returns the number of points.
func (a *Array[T]) Len() int { return len(a.Times) }

// MinTime returns the first timestamp; the array must not be empty.
func (a *Array[T]) MinTime() int64 { return a.Times[0] }

// MaxTime returns the last timestamp; the array must not be empty.
func (a *Array[T]) MaxTime() int64 { return a.Times[len(a.Times)-1] }

// Reset empties the array, keeping its capacity.
func (a *Array[T]) Reset() {
	clear(a.Values) // let strings be collected
	a.Times, a.Values = a.Times[:0], a.Values[:0]
}

// Append adds one point at the end; the caller keeps the times ascending
// (or calls SortDedup afterwards).
func (a *Array[T]) Append(t int64, v T) {
	a.Times = append(a.Times, t)
	a.Values = append(a.Values, v)
}

// TypeOf returns the field type stored as T.
func TypeOf[T Value]() models.FieldType {
	var z T
	switch any(z).(type) {
	case float64:
		return models.Float
	case int64:
		return models.Integer
	case uint64:
		return models.Unsigned
	case bool:
		return models.Boolean
	case string:
		return models.String
	}
	return models.Unknown // unreachable: Value admits only the five types
}

// Merge returns older merged with newer. Both must be sorted with unique
// times; where both hold a time, newer's value wins. When one input is
// empty the other is returned as is (sharing its storage); otherwise the
// result is freshly allocated. Runs that do not interleave are copied in
// bulk, so merging disjoint arrays costs two copies.
func Merge[T Value](older, newer Array[T]) Array[T] {
	if len(newer.Times) == 0 {
		return older
	}
	if len(older.Times) == 0 {
		return newer
	}
	n := len(older.Times) + len(newer.Times)
	out := Array[T]{Times: make([]int64, 0, n), Values: make([]T, 0, n)}
	i, j := 0, 0
	for i < len(older.Times) && j < len(newer.Times) {
		to, tn := older.Times[i], newer.Times[j]
		switch {
		case to < tn:
			// Copy the run of older that precedes newer's next time.
			k := runBefore(older.Times[i:], tn)
			out.Times = append(out.Times, older.Times[i:i+k]...)
			out.Values = append(out.Values, older.Values[i:i+k]...)
			i += k
		case tn < to:
			k := runBefore(newer.Times[j:], to)
			out.Times = append(out.Times, newer.Times[j:j+k]...)
			out.Values = append(out.Values, newer.Values[j:j+k]...)
			j += k
		default:
			out.Times = append(out.Times, tn)
			out.Values = append(out.Values, newer.Values[j])
			i++
			j++
		}
	}
	out.Times = append(out.Times, older.Times[i:]...)
	out.Values = append(out.Values, older.Values[i:]...)
	out.Times = append(out.Times, newer.Times[j:]...)
	out.Values = append(out.Values, newer.Values[j:]...)
	return out
}

// runBefore returns how many leading times are below t: a short linear
// probe first, since interleaved inputs make most runs one or two points
// long, then a binary search for long runs.
func runBefore(times []int64, t int64) int {
	const probe = 8
	for k := 0; k < probe && k < len(times); k++ {
		if times[k] >= t {
			return k
		}
	}
	if len(times) <= probe {
		return len(times)
	}
	k, _ := slices.BinarySearch(times[probe:], t)
	return probe + k
}

// SortDedup sorts the points by time and, for equal times, keeps only the
// value appended last: the cache appends points as they arrive, and a later
// write of the same series, field and time overwrites an earlier one.
// Already-sorted input (the common case) costs one pass and no allocation.
func (a *Array[T]) SortDedup() {
	n := len(a.Times)
	sorted, dups := true, false
	for i := 1; i < n; i++ {
		if a.Times[i] < a.Times[i-1] {
			sorted = false
			break
		}
		if a.Times[i] == a.Times[i-1] {
			dups = true
		}
	}
	if !sorted {
		// Sort (time, position) pairs: the position breaks ties, which makes
		// the unstable sort behave stably, so the last-appended value of a
		// time ends up last in its run.
		type pair struct {
			t int64
			i int
		}
		ps := make([]pair, n)
		for i, t := range a.Times {
			ps[i] = pair{t, i}
		}
		slices.SortFunc(ps, func(x, y pair) int {
			if c := cmp.Compare(x.t, y.t); c != 0 {
				return c
			}
			return cmp.Compare(x.i, y.i)
		})
		vals := make([]T, n)
		for k, p := range ps {
			a.Times[k] = p.t
			vals[k] = a.Values[p.i]
		}
		copy(a.Values, vals)
		dups = true // not known without a pass; the dedup pass below is cheap
	}
	if !dups {
		return
	}
	w := 0
	for i := 0; i < n; i++ {
		if i+1 < n && a.Times[i+1] == a.Times[i] {
			continue // a later value for the same time wins
		}
		a.Times[w], a.Values[w] = a.Times[i], a.Values[i]
		w++
	}
	clear(a.Values[w:n])
	a.Times, a.Values = a.Times[:w], a.Values[:w]
}

// bounds returns the index range [lo, hi) of the points with min <= t <= max.
func (a *Array[T]) bounds(min, max int64) (lo, hi int) {
	lo, _ = slices.BinarySearch(a.Times, min)
	hi, found := slices.BinarySearch(a.Times[lo:], max)
	hi += lo
	if found {
		hi++
	}
	return lo, hi
}

// Exclude removes the points with min <= time <= max (a tombstoned range),
// in place. An empty range (min > max) removes nothing.
func (a *Array[T]) Exclude(min, max int64) {
	if min > max || len(a.Times) == 0 || max < a.Times[0] || min > a.Times[len(a.Times)-1] {
		return
	}
	lo, hi := a.bounds(min, max)
	if lo == hi {
		return
	}
	n := len(a.Times)
	copy(a.Times[lo:], a.Times[hi:])
	copy(a.Values[lo:], a.Values[hi:])
	w := n - (hi - lo)
	clear(a.Values[w:n])
	a.Times, a.Values = a.Times[:w], a.Values[:w]
}

// Include keeps only the points with min <= time <= max, in place. The kept
// points are moved to the front so that the array's capacity stays
// reusable.
func (a *Array[T]) Include(min, max int64) {
	if min > max {
		a.Reset()
		return
	}
	lo, hi := a.bounds(min, max)
	n := len(a.Times)
	if lo > 0 {
		copy(a.Times, a.Times[lo:hi])
		copy(a.Values, a.Values[lo:hi])
	}
	w := hi - lo
	clear(a.Values[w:n])
	a.Times, a.Values = a.Times[:w], a.Values[:w]
}
