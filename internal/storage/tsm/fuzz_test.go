package tsm_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/tsm"
	"github.com/stratadb/strata/internal/vfs"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz/FuzzOpen from files written by the current Writer")

// seedFiles writes a few small real files, with and without tombstones,
// and returns their bytes.
func seedFiles(t testing.TB) map[string][]byte {
	t.Helper()
	fsys := newMemFS()
	out := map[string][]byte{}
	put := func(name string, keys []keyData) {
		path := writeFile(t, fsys, "/", name, keys)
		data, err := vfs.ReadFile(fsys, path)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = data
	}
	put("empty", nil)
	var one []keyData
	for i, typ := range allTypes {
		one = append(one, keyData{fieldKey("cpu,host=a", fmt.Sprintf("f%d", i)), series(typ, 4, 10, 5, i)})
	}
	put("types", one)
	var many []keyData
	for i := range 40 {
		many = append(many, keyData{fieldKey(fmt.Sprintf("m,t=%02d", i), "v"), series(models.Integer, 2, int64(i), 1, i)})
	}
	put("groups", many)
	// Two blocks for one key, kept small: the fuzzer mutates every byte.
	put("blocks", []keyData{{[]byte("k"), series(models.Boolean, 3, 0, 1, 0)}, {[]byte("k"), series(models.Boolean, 2, 10, 1, 0)}})
	return out
}

func TestWriteFuzzSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite the FuzzOpen seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzOpen")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range seedFiles(t) {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
		if err := os.WriteFile(filepath.Join(dir, "seed-"+name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzOpen feeds arbitrary file bytes to Open and every read path: none
// may panic or read out of range, and every error from a damaged file is a
// *CorruptionError naming the file.
func FuzzOpen(f *testing.F) {
	for _, data := range seedFiles(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys, path := newMemFS(), "/f.tsm"
		fsys.put(path, data)
		err := readEverything(fsys, path)
		if err != nil {
			asCorruption(t, err, path, int64(len(data)))
		}
	})
}

// FuzzTombstone feeds arbitrary bytes to the tombstone decoder: no panic,
// the intact length is within the input, and what decodes re-encodes to
// the same tombstones.
func FuzzTombstone(f *testing.F) {
	fsys := newMemFS()
	path := writeFile(f, fsys, "/", "t.tsm", []keyData{{[]byte("k"), series(models.Float, 1, 0, 1, 0)}})
	r, err := tsm.Open(fsys, path)
	if err != nil {
		f.Fatal(err)
	}
	for _, batch := range [][]tsm.Tombstone{
		{{Key: []byte("k"), Min: 1, Max: 2}},
		{{Key: []byte("cpu"), Min: -5, Max: 1 << 40, Prefix: true}, {Key: []byte("x"), Min: 0, Max: 0}},
	} {
		if err := r.AddTombstones(batch); err != nil {
			f.Fatal(err)
		}
		data, err := vfs.ReadFile(fsys, tsm.TombstonePath(path))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	r.Close()
	f.Add([]byte("STTB\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, valid, err := tsm.DecodeTombstones(data)
		if err != nil {
			return
		}
		if valid < 0 || valid > len(data) {
			t.Fatalf("intact length %d of %d bytes", valid, len(data))
		}
		for _, x := range ts {
			if x.Min > x.Max || (len(x.Key) == 0 && !x.Prefix) {
				t.Fatalf("decoded an invalid tombstone %+v", x)
			}
		}
		// Write them through a reader and read them back.
		if len(ts) == 0 {
			return
		}
		fsys := newMemFS()
		path := writeFile(t, fsys, "/", "t.tsm", nil)
		r, err := tsm.Open(fsys, path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if err := r.AddTombstones(ts); err != nil {
			t.Fatal(err)
		}
		back, err := vfs.ReadFile(fsys, tsm.TombstonePath(path))
		if err != nil {
			t.Fatal(err)
		}
		again, n, err := tsm.DecodeTombstones(back)
		if err != nil || n != len(back) || len(again) != len(ts) {
			t.Fatalf("re-decode: %d tombstones, %d of %d bytes, %v", len(again), n, len(back), err)
		}
	})
}
