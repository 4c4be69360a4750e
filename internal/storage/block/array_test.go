package block_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/block"
)

func arr(pairs ...int64) block.Array[int64] {
	var a block.Array[int64]
	for i := 0; i+1 < len(pairs); i += 2 {
		a.Append(pairs[i], pairs[i+1])
	}
	return a
}

var emptyOK = cmpopts.EquateEmpty()

func TestMerge(t *testing.T) {
	tests := []struct {
		name         string
		older, newer block.Array[int64]
		want         block.Array[int64]
	}{
		{"both empty", arr(), arr(), arr()},
		{"older empty", arr(), arr(1, 10), arr(1, 10)},
		{"newer empty", arr(1, 10), arr(), arr(1, 10)},
		{"disjoint before", arr(1, 1, 2, 2), arr(3, 30, 4, 40), arr(1, 1, 2, 2, 3, 30, 4, 40)},
		{"disjoint after", arr(5, 5, 6, 6), arr(1, 10), arr(1, 10, 5, 5, 6, 6)},
		{"interleaved", arr(1, 1, 3, 3, 5, 5), arr(2, 20, 4, 40, 6, 60), arr(1, 1, 2, 20, 3, 3, 4, 40, 5, 5, 6, 60)},
		{"newer wins", arr(1, 1, 2, 2, 3, 3), arr(2, 20), arr(1, 1, 2, 20, 3, 3)},
		{"all equal", arr(1, 1, 2, 2), arr(1, 10, 2, 20), arr(1, 10, 2, 20)},
		{"runs", arr(1, 1, 2, 2, 3, 3, 10, 10), arr(3, 30, 4, 40, 5, 50, 11, 110), arr(1, 1, 2, 2, 3, 30, 4, 40, 5, 50, 10, 10, 11, 110)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := block.Merge(tt.older, tt.newer)
			if d := cmp.Diff(tt.want, got, emptyOK); d != "" {
				t.Fatalf("Merge mismatch (-want +got):\n%s", d)
			}
		})
	}
}

func TestSortDedup(t *testing.T) {
	tests := []struct {
		name    string
		in, out block.Array[int64]
	}{
		{"empty", arr(), arr()},
		{"sorted", arr(1, 1, 2, 2), arr(1, 1, 2, 2)},
		{"reverse", arr(3, 3, 2, 2, 1, 1), arr(1, 1, 2, 2, 3, 3)},
		{"dups sorted last wins", arr(1, 1, 1, 2, 1, 3, 2, 4), arr(1, 3, 2, 4)},
		{"dups unsorted last wins", arr(5, 1, 1, 2, 5, 3, 1, 4, 3, 9), arr(1, 4, 3, 9, 5, 3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.SortDedup()
			if d := cmp.Diff(tt.out, tt.in, emptyOK); d != "" {
				t.Fatalf("SortDedup mismatch (-want +got):\n%s", d)
			}
		})
	}
}

func TestExcludeInclude(t *testing.T) {
	base := func() block.Array[int64] { return arr(1, 1, 2, 2, 3, 3, 4, 4, 5, 5) }
	tests := []struct {
		name     string
		min, max int64
		exclude  block.Array[int64]
		include  block.Array[int64]
	}{
		{"middle", 2, 4, arr(1, 1, 5, 5), arr(2, 2, 3, 3, 4, 4)},
		{"exact point", 3, 3, arr(1, 1, 2, 2, 4, 4, 5, 5), arr(3, 3)},
		{"before all", -10, 0, base(), arr()},
		{"after all", 6, 100, base(), arr()},
		{"everything", -1 << 63, 1<<63 - 1, arr(), base()},
		{"head", 0, 2, arr(3, 3, 4, 4, 5, 5), arr(1, 1, 2, 2)},
		{"tail", 4, 9, arr(1, 1, 2, 2, 3, 3), arr(4, 4, 5, 5)},
		{"between points", 10, 20, base(), arr()},
		{"empty range", 4, 2, base(), arr()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := base()
			a.Exclude(tt.min, tt.max)
			if d := cmp.Diff(tt.exclude, a, emptyOK); d != "" {
				t.Fatalf("Exclude(%d,%d) mismatch (-want +got):\n%s", tt.min, tt.max, d)
			}
			b := base()
			b.Include(tt.min, tt.max)
			if d := cmp.Diff(tt.include, b, emptyOK); d != "" {
				t.Fatalf("Include(%d,%d) mismatch (-want +got):\n%s", tt.min, tt.max, d)
			}
		})
	}
}

func TestTypeOf(t *testing.T) {
	for _, c := range []struct{ got, want models.FieldType }{
		{block.TypeOf[float64](), models.Float},
		{block.TypeOf[int64](), models.Integer},
		{block.TypeOf[uint64](), models.Unsigned},
		{block.TypeOf[bool](), models.Boolean},
		{block.TypeOf[string](), models.String},
	} {
		if c.got != c.want {
			t.Fatalf("TypeOf = %v, want %v", c.got, c.want)
		}
	}
}

func TestArrayHelpers(t *testing.T) {
	a := arr(1, 10, 5, 50)
	if a.Len() != 2 || a.MinTime() != 1 || a.MaxTime() != 5 {
		t.Fatalf("Len/MinTime/MaxTime = %d/%d/%d", a.Len(), a.MinTime(), a.MaxTime())
	}
	a.Reset()
	if a.Len() != 0 || cap(a.Times) == 0 {
		t.Fatalf("Reset: len %d cap %d", a.Len(), cap(a.Times))
	}
}
