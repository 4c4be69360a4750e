package tsm_test

import (
	"context"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/block"
	"github.com/stratadb/strata/internal/storage/tsm"
	"github.com/stratadb/strata/internal/vfs"
)

// lastBits is the statistics form of a column's last value.
func lastBits(c column) uint64 {
	switch v := c.vals[len(c.vals)-1].(type) {
	case float64:
		return math.Float64bits(v)
	case int64:
		return uint64(v)
	case uint64:
		return v
	case bool:
		if v {
			return 1
		}
	}
	return 0
}

// lastKeys is one key of every type, each over several blocks, with
// integers that cross zero and the extremes (so last - min needs the whole
// uint64 range).
func lastKeys() []keyData {
	ints := series(models.Integer, 2500, 1, 10, 3)
	ints.vals[999] = int64(math.MinInt64)
	ints.vals[998] = int64(math.MaxInt64)
	return []keyData{
		{fieldKey("m,h=a", "b"), series(models.Boolean, 2100, 1, 10, 1)},
		{fieldKey("m,h=a", "f"), series(models.Float, 2500, 1, 10, 2)},
		{fieldKey("m,h=a", "i"), ints},
		{fieldKey("m,h=a", "s"), series(models.String, 1500, 1, 10, 4)},
		{fieldKey("m,h=a", "u"), series(models.Unsigned, 2500, 1, 10, 5)},
	}
}

// checkLast reads every key's entries and compares each block's Last with
// the value its block ends with.
func checkLast(t *testing.T, r *tsm.Reader, keys []keyData, want bool) {
	t.Helper()
	for _, kd := range keys {
		typ, es, err := r.Lookup(kd.key, nil)
		if err != nil || typ != kd.col.typ {
			t.Fatalf("Lookup(%q) = %v, %v", kd.key, typ, err)
		}
		seen := 0
		for i, e := range es {
			seen += int(e.Stats.Count)
			blk := column{typ: kd.col.typ, vals: kd.col.vals[:seen]}
			if typ == models.String || !want {
				if e.Stats.HasLast {
					t.Fatalf("%q entry %d has a last value", kd.key, i)
				}
				continue
			}
			if !e.Stats.HasLast || e.Stats.Last != lastBits(blk) {
				t.Fatalf("%q entry %d: last %x (known %v), want %x", kd.key, i, e.Stats.Last, e.Stats.HasLast, lastBits(blk))
			}
		}
	}
}

func TestIndexKeepsLastValue(t *testing.T) {
	fsys := newMemFS()
	keys := lastKeys()
	r := mustOpen(t, fsys, writeFile(t, fsys, "/d", "a.tsm", keys))
	checkLast(t, r, keys, true)
}

// TestVersion1FilesStayReadable: a file of the first version (no last
// values) opens, reads and verifies, and compaction rewrites it with them.
func TestVersion1FilesStayReadable(t *testing.T) {
	fsys := newMemFS()
	keys := lastKeys()
	f, err := vfs.Create(fsys, "/v1.tsm")
	if err != nil {
		t.Fatal(err)
	}
	w := tsm.NewWriterVersion1(f)
	for _, kd := range keys {
		if err := w.WriteArray(kd.key, kd.col.array()); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tsm.Verify(fsys, "/v1.tsm"); err != nil {
		t.Fatalf("Verify of a version 1 file: %v", err)
	}
	old := mustOpen(t, fsys, "/v1.tsm")
	checkLast(t, old, keys, false)
	for _, kd := range keys {
		if got := readColumn(t, old, kd.key); !cmp.Equal(got, kd.col, cmp.AllowUnexported(column{})) {
			t.Fatalf("version 1 read of %q differs: %s", kd.key, cmp.Diff(kd.col, got, cmp.AllowUnexported(column{})))
		}
	}

	out, err := vfs.Create(fsys, "/v2.tsm")
	if err != nil {
		t.Fatal(err)
	}
	w2 := tsm.NewWriter(out)
	res, err := tsm.CompactWithResult(context.Background(), w2, []*tsm.Reader{old}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	if res.BlocksCopied == 0 {
		t.Fatalf("compaction of one file copied no block (%+v): the copy path is untested", res)
	}
	if err := tsm.Verify(fsys, "/v2.tsm"); err != nil {
		t.Fatal(err)
	}
	checkLast(t, mustOpen(t, fsys, "/v2.tsm"), keys, true)
}

// TestVerifyCatchesWrongLast: an entry whose last value is not its block's
// is reported by Verify.
func TestVerifyCatchesWrongLast(t *testing.T) {
	fsys := newMemFS()
	f, err := vfs.Create(fsys, "/l.tsm")
	if err != nil {
		t.Fatal(err)
	}
	a := block.Array[int64]{Times: []int64{1, 2, 3}, Values: []int64{5, 9, 7}}
	blk, err := block.Encode(nil, a)
	if err != nil {
		t.Fatal(err)
	}
	st := block.ComputeStats(a)
	st.Last = 9 // within [min, max], so only Verify can tell
	w := tsm.NewWriter(f)
	if err := w.WriteBlock([]byte("k"), 1, 3, models.Integer, st, blk); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tsm.Verify(fsys, "/l.tsm"); err == nil {
		t.Fatal("Verify accepted an entry whose last value is wrong")
	}
}
