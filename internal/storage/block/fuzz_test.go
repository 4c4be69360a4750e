package block_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/stratadb/strata/internal/storage/block"
)

// FuzzDecode feeds arbitrary bytes to every decoder: none may panic, and a
// block that decodes must hold a valid array that survives a round trip.
func FuzzDecode(f *testing.F) {
	add := func(blk []byte, err error) {
		if err != nil {
			f.Fatal(err)
		}
		f.Add(blk)
	}
	add(block.Encode(nil, gen(10, func(i int) float64 { return float64(i) / 3 })))
	add(block.Encode(nil, gen(300, func(i int) int64 { return int64(i) - 7 })))
	add(block.Encode(nil, gen(5, func(i int) uint64 { return uint64(i) << 40 })))
	add(block.Encode(nil, gen(17, func(i int) bool { return i%2 == 0 })))
	add(block.Encode(nil, gen(4, func(i int) string { return "s" + string(rune('a'+i)) })))
	f.Add([]byte{})
	f.Add([]byte{1, 0})
	f.Add([]byte{4, 1, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := block.BlockType(data); err != nil {
			return
		}
		if ts, err := block.DecodeTimes(data, nil); err == nil {
			checkAscending(t, ts)
		}
		checkDecode[float64](t, data)
		checkDecode[int64](t, data)
		checkDecode[uint64](t, data)
		checkDecode[bool](t, data)
		checkDecode[string](t, data)
	})
}

func checkAscending(t *testing.T, ts []int64) {
	t.Helper()
	for i := 1; i < len(ts); i++ {
		if ts[i] <= ts[i-1] {
			t.Fatalf("decoded times not ascending at %d: %d after %d", i, ts[i], ts[i-1])
		}
	}
}

func checkDecode[T block.Value](t *testing.T, data []byte) {
	t.Helper()
	var a block.Array[T]
	if err := block.Decode(data, &a); err != nil {
		if a.Len() != 0 {
			t.Fatalf("failed Decode left %d points", a.Len())
		}
		return
	}
	if len(a.Times) != len(a.Values) {
		t.Fatalf("decoded %d times, %d values", len(a.Times), len(a.Values))
	}
	checkAscending(t, a.Times)
	enc, err := block.Encode(nil, a)
	if err != nil {
		t.Fatalf("re-encode of a decoded block: %v", err)
	}
	var b block.Array[T]
	if err := block.Decode(enc, &b); err != nil {
		t.Fatalf("decode of re-encoded block: %v", err)
	}
	if d := cmp.Diff(a, b, cmpopts.EquateEmpty(), cmpopts.EquateNaNs()); d != "" {
		t.Fatalf("round trip mismatch (-want +got):\n%s", d)
	}
}

// FuzzMerge checks SortDedup, Merge, Exclude and Include against a map
// model. The input is a list of (time, value) byte pairs; the first byte
// splits it into the older and the newer batch. Times are small so that
// duplicates and overlaps are common.
func FuzzMerge(f *testing.F) {
	f.Add([]byte{2, 1, 1, 2, 2, 1, 9})
	f.Add([]byte{0, 5, 5, 5, 6, 3, 3})
	f.Add([]byte{3, 9, 1, 8, 2, 7, 3, 1, 4, 9, 5, 8, 6, 4, 4})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		split, data := int(data[0]), data[1:]
		var older, newer block.Array[int64]
		model := map[int64]int64{}
		for i := 0; i+1 < len(data); i += 2 {
			ts, v := int64(data[i]%64)-20, int64(data[i+1])
			if i/2 < split {
				older.Append(ts, v)
			} else {
				newer.Append(ts, v)
			}
		}
		// The model applies older's appends, then newer's: last wins.
		for i := range older.Times {
			model[older.Times[i]] = older.Values[i]
		}
		for i := range newer.Times {
			model[newer.Times[i]] = newer.Values[i]
		}
		olderModel := fromAppends(older)
		older.SortDedup()
		if d := cmp.Diff(olderModel, older, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("SortDedup mismatch (-want +got):\n%s", d)
		}
		newer.SortDedup()
		got := block.Merge(older, newer)
		want := fromMap(model)
		if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("Merge mismatch (-want +got):\n%s", d)
		}
		// Cut a range out, and keep only a range, against the model.
		lo, hi := int64(len(data)%50)-25, int64(len(data)%50)-10
		ex := block.Array[int64]{Times: slices.Clone(got.Times), Values: slices.Clone(got.Values)}
		ex.Exclude(lo, hi)
		in := block.Array[int64]{Times: slices.Clone(got.Times), Values: slices.Clone(got.Values)}
		in.Include(lo, hi)
		wantEx, wantIn := map[int64]int64{}, map[int64]int64{}
		for k, v := range model {
			if k >= lo && k <= hi {
				wantIn[k] = v
			} else {
				wantEx[k] = v
			}
		}
		if d := cmp.Diff(fromMap(wantEx), ex, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("Exclude(%d,%d) mismatch (-want +got):\n%s", lo, hi, d)
		}
		if d := cmp.Diff(fromMap(wantIn), in, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("Include(%d,%d) mismatch (-want +got):\n%s", lo, hi, d)
		}
	})
}

func fromAppends(a block.Array[int64]) block.Array[int64] {
	m := map[int64]int64{}
	for i := range a.Times {
		m[a.Times[i]] = a.Values[i]
	}
	return fromMap(m)
}

func fromMap(m map[int64]int64) block.Array[int64] {
	var a block.Array[int64]
	for _, k := range slices.Sorted(maps.Keys(m)) {
		a.Append(k, m[k])
	}
	return a
}
