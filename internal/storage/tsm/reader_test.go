package tsm_test

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/block"
	"github.com/stratadb/strata/internal/storage/tsm"
	"github.com/stratadb/strata/internal/vfs"
)

var allTypes = []models.FieldType{models.Float, models.Integer, models.Unsigned, models.Boolean, models.String}

func TestRoundTripAllTypes(t *testing.T) {
	fsys, dir := vfs.OS{}, t.TempDir()
	var keys []keyData
	for i, typ := range allTypes {
		keys = append(keys, keyData{fieldKey("cpu,host=a", fmt.Sprintf("f%d_%s", i, typ)), series(typ, 50+i, 1_000+int64(i), 10, i)})
	}
	path := writeFile(t, fsys, dir, "a.tsm", keys)
	r := mustOpen(t, fsys, path)
	if r.KeyCount() != len(keys) {
		t.Fatalf("KeyCount = %d, want %d", r.KeyCount(), len(keys))
	}
	if r.Path() != path {
		t.Fatalf("Path = %q", r.Path())
	}
	if r.MinTime() != 1000 || r.MaxTime() != 1004+10*53 {
		t.Fatalf("MinTime/MaxTime = %d/%d", r.MinTime(), r.MaxTime())
	}
	for _, kd := range keys {
		typ, ok := r.Type(kd.key)
		if !ok || typ != kd.col.typ {
			t.Fatalf("Type(%q) = %v, %v; want %v", kd.key, typ, ok, kd.col.typ)
		}
		if d := diffColumn(kd.col, readColumn(t, r, kd.key)); d != "" {
			t.Fatalf("key %q mismatch (-want +got):\n%s", kd.key, d)
		}
	}
	// The wrong type is an error, not a silent conversion.
	var wrong block.Array[string]
	if err := tsm.ReadAll(r, keys[0].key, &wrong); err == nil {
		t.Fatalf("ReadAll of a float key as strings succeeded")
	}
}

func TestSplitIntoBlocksAndStats(t *testing.T) {
	fsys, dir := vfs.OS{}, t.TempDir()
	key := fieldKey("m", "v")
	col := series(models.Integer, 2500, -10_000, 7, 0)
	path := writeFile(t, fsys, dir, "a.tsm", []keyData{{key, col}})
	r := mustOpen(t, fsys, path)
	es := r.Entries(key, nil)
	if len(es) != 3 {
		t.Fatalf("%d blocks, want 3", len(es))
	}
	for i, e := range es {
		lo, hi := i*tsm.MaxPointsPerBlock, min((i+1)*tsm.MaxPointsPerBlock, len(col.times))
		part := fill[int64](column{typ: models.Integer, times: col.times[lo:hi], vals: col.vals[lo:hi]})
		want := block.ComputeStats(part)
		if e.Stats != want {
			t.Fatalf("block %d stats %+v, want %+v", i, e.Stats, want)
		}
		if e.MinTime != part.MinTime() || e.MaxTime != part.MaxTime() {
			t.Fatalf("block %d spans %d..%d, want %d..%d", i, e.MinTime, e.MaxTime, part.MinTime(), part.MaxTime())
		}
		if !e.OverlapsTime(part.MinTime(), part.MinTime()) || e.OverlapsTime(part.MaxTime()+1, math.MaxInt64) {
			t.Fatalf("OverlapsTime wrong for block %d", i)
		}
		blk, err := r.ReadBlock(e)
		if err != nil {
			t.Fatal(err)
		}
		var got block.Array[int64]
		if err := block.Decode(blk, &got); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(part, got); d != "" {
			t.Fatalf("block %d mismatch:\n%s", i, d)
		}
	}
	if d := diffColumn(col, readColumn(t, r, key)); d != "" {
		t.Fatalf("mismatch:\n%s", d)
	}
}

// TestManyKeys checks lookups of every key and of absent keys between them,
// across many restart groups, with keys that share long prefixes.
func TestManyKeys(t *testing.T) {
	fsys, dir := vfs.OS{}, t.TempDir()
	var keys []keyData
	for i := range 3000 {
		series := fmt.Sprintf("cpu,host=h%05d,region=r%d", i/3, i%7)
		for _, f := range []string{"a", "ab", "b"} {
			keys = append(keys, keyData{fieldKey(series, f), series0(i)})
		}
	}
	slices.SortFunc(keys, func(a, b keyData) int { return bytes.Compare(a.key, b.key) })
	keys = slices.CompactFunc(keys, func(a, b keyData) bool { return bytes.Equal(a.key, b.key) })
	path := writeFile(t, fsys, dir, "a.tsm", keys)
	r := mustOpen(t, fsys, path)
	if r.KeyCount() != len(keys) {
		t.Fatalf("KeyCount = %d, want %d", r.KeyCount(), len(keys))
	}
	var es []tsm.IndexEntry
	for i, kd := range keys {
		es = r.Entries(kd.key, es)
		if len(es) != 1 || es[0].MinTime != kd.col.times[0] {
			t.Fatalf("Entries(%q) = %+v", kd.key, es)
		}
		// Absent neighbours: a proper prefix, an extension, a key between.
		for _, absent := range [][]byte{kd.key[:len(kd.key)-1], append(slices.Clone(kd.key), 0), append(slices.Clone(kd.key), 'z')} {
			if i+1 < len(keys) && bytes.Equal(absent, keys[i+1].key) || i > 0 && bytes.Equal(absent, keys[i-1].key) {
				continue
			}
			if _, ok := slices.BinarySearchFunc(keys, absent, func(k keyData, t []byte) int { return bytes.Compare(k.key, t) }); ok {
				continue
			}
			if _, ok := r.Type(absent); ok {
				t.Fatalf("Type(%q) found an absent key", absent)
			}
			if es := r.Entries(absent, nil); len(es) != 0 {
				t.Fatalf("Entries(%q) found an absent key", absent)
			}
		}
	}
	for _, absent := range [][]byte{nil, {0}, {0xff, 0xff, 0xff}} {
		if _, ok := r.Type(absent); ok {
			t.Fatalf("Type(%q) found an absent key", absent)
		}
	}
	// Iterate sees every key in order.
	var got [][]byte
	if err := r.Iterate(func(key []byte, typ models.FieldType, es []tsm.IndexEntry) error {
		if typ != models.Float || len(es) != 1 {
			t.Fatalf("key %q: type %v, %d entries", key, typ, len(es))
		}
		got = append(got, slices.Clone(key))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(keys) {
		t.Fatalf("Iterate saw %d keys, want %d", len(got), len(keys))
	}
	for i := range got {
		if !bytes.Equal(got[i], keys[i].key) {
			t.Fatalf("Iterate key %d = %q, want %q", i, got[i], keys[i].key)
		}
	}
	// Seek by series prefix lists exactly that series' fields.
	for _, i := range []int{0, 1, 17, 500, len(keys) - 1} {
		sk, _, err := models.SplitFieldKey(keys[i].key)
		if err != nil {
			t.Fatal(err)
		}
		prefix := models.AppendFieldKey(nil, sk, nil)
		var want, have []string
		for _, kd := range keys {
			if bytes.HasPrefix(kd.key, prefix) {
				want = append(want, string(kd.key))
			}
		}
		it := r.Seek(prefix)
		for it.Next() {
			have = append(have, string(it.Key()))
			if _, err := it.Entries(nil); err != nil {
				t.Fatal(err)
			}
		}
		if it.Err() != nil {
			t.Fatal(it.Err())
		}
		if d := cmp.Diff(want, have); d != "" {
			t.Fatalf("Seek(%q) mismatch (-want +got):\n%s", prefix, d)
		}
	}
	// A prefix that matches nothing.
	if it := r.Seek([]byte("\xff\xff")); it.Next() {
		t.Fatalf("Seek of an absent prefix found %q", it.Key())
	}
}

func series0(i int) column {
	return column{typ: models.Float, times: []int64{int64(i)}, vals: []any{float64(i)}}
}

func TestEmptyFile(t *testing.T) {
	fsys, dir := vfs.OS{}, t.TempDir()
	path := writeFile(t, fsys, dir, "empty.tsm", nil)
	r := mustOpen(t, fsys, path)
	if r.KeyCount() != 0 || r.MinTime() <= r.MaxTime() {
		t.Fatalf("empty file: %d keys, times %d..%d", r.KeyCount(), r.MinTime(), r.MaxTime())
	}
	if _, ok := r.Type([]byte("x")); ok {
		t.Fatal("found a key in an empty file")
	}
	if r.Seek(nil).Next() {
		t.Fatal("iterated a key in an empty file")
	}
}

func TestReaderClosed(t *testing.T) {
	fsys, dir := vfs.OS{}, t.TempDir()
	key := fieldKey("m", "v")
	path := writeFile(t, fsys, dir, "a.tsm", []keyData{{key, series(models.Float, 3, 0, 1, 0)}})
	r, err := tsm.Open(fsys, path)
	if err != nil {
		t.Fatal(err)
	}
	es := r.Entries(key, nil)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := r.ReadBlock(es[0]); err != tsm.ErrClosed {
		t.Fatalf("ReadBlock after Close: %v", err)
	}
	if _, ok := r.Type(key); ok {
		t.Fatal("Type after Close found the key")
	}
	if err := r.Iterate(func([]byte, models.FieldType, []tsm.IndexEntry) error { return nil }); err != tsm.ErrClosed {
		t.Fatalf("Iterate after Close: %v", err)
	}
}

func TestRemove(t *testing.T) {
	fsys, dir := vfs.OS{}, t.TempDir()
	key := fieldKey("m", "v")
	path := writeFile(t, fsys, dir, "a.tsm", []keyData{{key, series(models.Float, 3, 0, 1, 0)}})
	r, err := tsm.Open(fsys, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.AddTombstones([]tsm.Tombstone{{Key: key, Min: 0, Max: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := r.Remove(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, tsm.TombstonePath(path)} {
		if _, err := fsys.Stat(p); err == nil {
			t.Fatalf("%s still exists", p)
		}
	}
}

// TestConcurrentReads runs lookups, reads and iteration from several
// goroutines (meaningful under -race).
func TestConcurrentReads(t *testing.T) {
	fsys, dir := vfs.OS{}, t.TempDir()
	var keys []keyData
	for i := range 200 {
		keys = append(keys, keyData{fieldKey(fmt.Sprintf("s%04d", i), "v"), series(models.Integer, 1500, 0, 1, i)})
	}
	path := writeFile(t, fsys, dir, "a.tsm", keys)
	r := mustOpen(t, fsys, path)
	done := make(chan error)
	for g := range 4 {
		go func() {
			var es []tsm.IndexEntry
			for i := g; i < len(keys); i += 2 {
				es = r.Entries(keys[i].key, es)
				if len(es) != 2 {
					done <- fmt.Errorf("key %d: %d entries", i, len(es))
					return
				}
				for _, e := range es {
					if _, err := r.ReadBlock(e); err != nil {
						done <- err
						return
					}
				}
				if g == 0 && i%50 == 0 {
					_ = r.AddTombstones([]tsm.Tombstone{{Key: keys[i].key, Min: 0, Max: 5}})
				}
				_ = r.TombstonesFor(keys[i].key)
			}
			done <- r.Iterate(func([]byte, models.FieldType, []tsm.IndexEntry) error { return nil })
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
