package tsm_test

import (
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/tsm"
	"github.com/stratadb/strata/internal/vfs"
)

func tombFile(t *testing.T, fsys vfs.FS) (string, [][]byte) {
	t.Helper()
	keys := [][]byte{fieldKey("cpu,host=a", "idle"), fieldKey("cpu,host=a", "user"), fieldKey("cpu,host=b", "idle")}
	var kds []keyData
	for _, k := range keys {
		kds = append(kds, keyData{k, series(models.Float, 10, 0, 10, 0)})
	}
	return writeFile(t, fsys, "/", "t.tsm", kds), keys
}

func TestTombstones(t *testing.T) {
	fsys := newMemFS()
	path, keys := tombFile(t, fsys)
	r := mustOpen(t, fsys, path)
	if r.HasTombstones() || r.TombstonesFor(keys[0]) != nil || len(r.Tombstones()) != 0 {
		t.Fatal("a new file has tombstones")
	}
	seriesA := models.AppendFieldKey(nil, []byte("cpu,host=a"), nil)
	add := []tsm.Tombstone{
		{Key: keys[0], Min: 10, Max: 20},
		{Key: keys[0], Min: 21, Max: 30}, // adjacent: coalesced with the first
		{Key: keys[0], Min: 50, Max: 60},
		{Key: seriesA, Min: 55, Max: 70, Prefix: true}, // overlaps the third for keys[0]
		{Key: keys[2], Min: math.MinInt64, Max: math.MaxInt64},
	}
	if err := r.AddTombstones(add); err != nil {
		t.Fatal(err)
	}
	check := func(r *tsm.Reader) {
		t.Helper()
		if !r.HasTombstones() {
			t.Fatal("HasTombstones = false")
		}
		if d := cmp.Diff(add, r.Tombstones(), cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("Tombstones mismatch (-want +got):\n%s", d)
		}
		want := map[string][]tsm.TimeRange{
			string(keys[0]): {{10, 30}, {50, 70}},
			string(keys[1]): {{55, 70}},
			string(keys[2]): {{math.MinInt64, math.MaxInt64}},
			"other":         nil,
		}
		for k, w := range want {
			if d := cmp.Diff(w, r.TombstonesFor([]byte(k)), cmpopts.EquateEmpty()); d != "" {
				t.Fatalf("TombstonesFor(%q) mismatch (-want +got):\n%s", k, d)
			}
		}
	}
	check(r)
	// The reader keeps its own copy of the keys.
	mut := []byte("mutable")
	if err := r.AddTombstones([]tsm.Tombstone{{Key: mut, Min: 1, Max: 1}}); err != nil {
		t.Fatal(err)
	}
	mut[0] = 'X'
	if r.TombstonesFor([]byte("mutable")) == nil || r.TombstonesFor(mut) != nil {
		t.Fatal("the reader shares the caller's key bytes")
	}
	add = append(add, tsm.Tombstone{Key: []byte("mutable"), Min: 1, Max: 1})
	// Durable: a new reader sees the same.
	r2 := mustOpen(t, fsys, path)
	check(r2)
	// Invalid tombstones are refused whole.
	for _, bad := range []tsm.Tombstone{{Key: keys[0], Min: 5, Max: 4}, {Min: 1, Max: 2}} {
		if err := r.AddTombstones([]tsm.Tombstone{{Key: keys[1], Min: 0, Max: 1}, bad}); !errors.Is(err, tsm.ErrInvalidTombstone) {
			t.Fatalf("AddTombstones(%+v) = %v", bad, err)
		}
	}
	check(r)
	// An empty prefix deletes from every key.
	if err := r.AddTombstones([]tsm.Tombstone{{Prefix: true, Min: 100, Max: 200}}); err != nil {
		t.Fatal(err)
	}
	if got := r.TombstonesFor([]byte("zzz")); len(got) != 1 || got[0] != (tsm.TimeRange{Min: 100, Max: 200}) {
		t.Fatalf("empty prefix: %v", got)
	}
}

// TestTombstoneTornTail cuts the tombstone file at every length: the
// batches written whole survive, a torn last batch is ignored, and the next
// add cuts the torn bytes away.
func TestTombstoneTornTail(t *testing.T) {
	fsys := newMemFS()
	path, keys := tombFile(t, fsys)
	r := mustOpen(t, fsys, path)
	batches := [][]tsm.Tombstone{
		{{Key: keys[0], Min: 1, Max: 2}},
		{{Key: keys[1], Min: 3, Max: 4}, {Key: keys[2], Min: 5, Max: 6, Prefix: true}},
		{{Key: keys[2], Min: 7, Max: 8}},
	}
	var ends []int // file size after each batch
	for _, b := range batches {
		if err := r.AddTombstones(b); err != nil {
			t.Fatal(err)
		}
		fi, err := fsys.Stat(tsm.TombstonePath(path))
		if err != nil {
			t.Fatal(err)
		}
		ends = append(ends, int(fi.Size()))
	}
	full, err := vfs.ReadFile(fsys, tsm.TombstonePath(path))
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n <= len(full); n++ {
		fsys.put(tsm.TombstonePath(path), full[:n])
		r, err := tsm.Open(fsys, path)
		if err != nil {
			t.Fatalf("Open with %d of %d tombstone bytes: %v", n, len(full), err)
		}
		var want []tsm.Tombstone
		for i, end := range ends {
			if n >= end {
				want = append(want, batches[i]...)
			}
		}
		if d := cmp.Diff(want, r.Tombstones(), cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("%d bytes: mismatch (-want +got):\n%s", n, d)
		}
		// Appending after a torn tail gives a clean file.
		extra := tsm.Tombstone{Key: keys[0], Min: 90, Max: 99}
		if err := r.AddTombstones([]tsm.Tombstone{extra}); err != nil {
			t.Fatal(err)
		}
		r.Close()
		r, err = tsm.Open(fsys, path)
		if err != nil {
			t.Fatalf("reopen after append at %d: %v", n, err)
		}
		if d := cmp.Diff(append(want, extra), r.Tombstones(), cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("%d bytes then append: mismatch (-want +got):\n%s", n, d)
		}
		r.Close()
	}
}

func TestTombstoneCorrupt(t *testing.T) {
	fsys := newMemFS()
	path, keys := tombFile(t, fsys)
	r := mustOpen(t, fsys, path)
	for i := range 3 {
		if err := r.AddTombstones([]tsm.Tombstone{{Key: keys[i], Min: 1, Max: 2}}); err != nil {
			t.Fatal(err)
		}
	}
	full, err := vfs.ReadFile(fsys, tsm.TombstonePath(path))
	if err != nil {
		t.Fatal(err)
	}
	// A damaged record that is not the last one is corruption, not a torn
	// write: Open fails and names the tombstone file.
	bad := append([]byte(nil), full...)
	bad[8+8+2] ^= 0x40 // inside the first record's payload
	fsys.put(tsm.TombstonePath(path), bad)
	_, err = tsm.Open(fsys, path)
	ce := asCorruption(t, err, tsm.TombstonePath(path), int64(len(bad)))
	if ce.Offset != 8 {
		t.Fatalf("offset %d, want 8 (the first record)", ce.Offset)
	}
	bad = append([]byte(nil), full...)
	bad[0] = 'X'
	fsys.put(tsm.TombstonePath(path), bad)
	_, err = tsm.Open(fsys, path)
	asCorruption(t, err, tsm.TombstonePath(path), int64(len(bad)))
	fsys.put(tsm.TombstonePath(path), full) // for the Verify at cleanup
}

// TestTombstoneIOErrors shows that a failed write or fsync of the
// tombstone file is an error and leaves the tombstones out of effect.
func TestTombstoneIOErrors(t *testing.T) {
	for _, op := range []vfs.Op{vfs.OpOpen, vfs.OpWrite, vfs.OpSync, vfs.OpTruncate, vfs.OpSyncDir} {
		t.Run(string(op), func(t *testing.T) {
			efs := vfs.NewErrorFS(newMemFS(), nil)
			path, keys := tombFile(t, efs)
			r := mustOpen(t, efs, path)
			efs.SetInjector(func(o vfs.Op, _ string) error {
				if o == op {
					return vfs.ErrInjected
				}
				return nil
			})
			err := r.AddTombstones([]tsm.Tombstone{{Key: keys[0], Min: 1, Max: 2}})
			if !errors.Is(err, vfs.ErrInjected) {
				t.Fatalf("AddTombstones err = %v, want the injected error", err)
			}
			if r.HasTombstones() || r.TombstonesFor(keys[0]) != nil {
				t.Fatal("a failed add is in effect")
			}
			efs.SetInjector(nil)
			if err := r.AddTombstones([]tsm.Tombstone{{Key: keys[1], Min: 3, Max: 4}}); err != nil {
				t.Fatalf("add after the failure: %v", err)
			}
			r2 := mustOpen(t, efs, path)
			if got := r2.TombstonesFor(keys[1]); len(got) != 1 {
				t.Fatalf("reopened: %v", got)
			}
		})
	}
}

func TestDecodeTombstones(t *testing.T) {
	tests := []struct {
		name  string
		data  []byte
		valid int
		err   bool
	}{
		{"empty", nil, 0, false},
		{"torn header", []byte("STT"), 0, false},
		{"header only", []byte("STTB\x01\x00\x00\x00"), 8, false},
		{"bad magic", []byte("XXXX\x01\x00\x00\x00"), 0, true},
		{"bad version", []byte("STTB\x09\x00\x00\x00"), 0, true},
		{"torn record head", []byte("STTB\x01\x00\x00\x00\x05\x00"), 8, false},
		{"length past end", []byte("STTB\x01\x00\x00\x00\xff\x00\x00\x00\x00\x00\x00\x00\x01"), 8, false},
		{"bad crc at end", []byte("STTB\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00"), 8, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, valid, err := tsm.DecodeTombstones(tt.data)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if err == nil && (valid != tt.valid || len(ts) != 0) {
				t.Fatalf("valid = %d, %d tombstones; want %d, 0", valid, len(ts), tt.valid)
			}
		})
	}
}
