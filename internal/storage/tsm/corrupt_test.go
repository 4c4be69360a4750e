package tsm_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/block"
	"github.com/stratadb/strata/internal/storage/tsm"
	"github.com/stratadb/strata/internal/vfs"
)

// smallFile returns the bytes of a small valid file with every type, a key
// split in two blocks, and more keys than one restart group.
func smallFile(t testing.TB) []byte {
	t.Helper()
	dir := t.TempDir()
	var keys []keyData
	for i, typ := range allTypes {
		keys = append(keys, keyData{fieldKey("cpu", fmt.Sprintf("f%d", i)), series(typ, 3, 100, 10, i)})
	}
	keys = append(keys, keyData{fieldKey("disk", "big"), series(models.Integer, tsm.MaxPointsPerBlock+2, 0, 1, 0)})
	for i := range 14 {
		keys = append(keys, keyData{fieldKey(fmt.Sprintf("mem%02d", i), "v"), series(models.Float, 1, int64(i), 1, i)})
	}
	path := writeFile(t, vfs.OS{}, dir, "small.tsm", keys)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// readEverything exercises every read path; it returns the first error.
// Whatever the bytes, it must not panic.
func readEverything(fsys vfs.FS, path string) error {
	r, err := tsm.Open(fsys, path)
	if err != nil {
		return err
	}
	defer r.Close()
	var first error
	keep := func(err error) {
		if first == nil && err != nil {
			first = err
		}
	}
	var keys [][]byte
	keep(r.Iterate(func(key []byte, typ models.FieldType, es []tsm.IndexEntry) error {
		keys = append(keys, append([]byte(nil), key...))
		for _, e := range es {
			blk, err := r.ReadBlock(e)
			if err != nil {
				keep(err)
				continue
			}
			_ = decodeAs(typ, blk) // a bad block must not panic; Verify below reports it with its location
		}
		return nil
	}))
	for _, k := range keys {
		_, es, err := r.Lookup(k, nil)
		keep(err)
		for _, e := range es {
			_, err := r.ReadBlock(e)
			keep(err)
		}
		it := r.Seek(k[:len(k)/2])
		for it.Next() {
			_, err := it.Entries(nil)
			keep(err)
		}
		keep(it.Err())
		_ = r.TombstonesFor(k)
	}
	keep(tsm.Verify(fsys, path))
	return first
}

func decodeAs(typ models.FieldType, blk []byte) error {
	switch typ {
	case models.Float:
		return block.Decode(blk, &block.Array[float64]{})
	case models.Integer:
		return block.Decode(blk, &block.Array[int64]{})
	case models.Unsigned:
		return block.Decode(blk, &block.Array[uint64]{})
	case models.Boolean:
		return block.Decode(blk, &block.Array[bool]{})
	case models.String:
		return block.Decode(blk, &block.Array[string]{})
	}
	return fmt.Errorf("unknown type %v", typ)
}

func TestTruncatedFile(t *testing.T) {
	good := smallFile(t)
	fsys, path := newMemFS(), "/t.tsm"
	for n := 0; n < len(good); n++ {
		fsys.put(path, good[:n])
		_, err := tsm.Open(fsys, path)
		if err == nil {
			t.Fatalf("Open of %d of %d bytes succeeded", n, len(good))
		}
		asCorruption(t, err, path, int64(n))
		if err := tsm.Verify(fsys, path); err == nil {
			t.Fatalf("Verify of %d of %d bytes succeeded", n, len(good))
		}
	}
}

// TestBitFlips flips one bit in every byte of a small file: every flip is
// found, by Open or else by Verify, with the file and the offset of the
// damaged part, and no read path panics.
func TestBitFlips(t *testing.T) {
	good := smallFile(t)
	fsys, path := newMemFS(), "/f.tsm"
	fsys.put(path, good)
	r := mustOpen(t, fsys, path)
	size := r.Size()
	indexOff := size - tsm.FooterSize - r.IndexSize()
	footerOff := size - tsm.FooterSize
	// Where each block starts, to check the offset a block error names.
	var blockStarts []int64
	var blocks []tsm.IndexEntry
	if err := r.Iterate(func(_ []byte, _ models.FieldType, es []tsm.IndexEntry) error {
		for _, e := range es {
			blockStarts = append(blockStarts, int64(e.Offset))
			blocks = append(blocks, e)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Inside a big block one byte is like the next: flip its first and
	// last bytes and a sample of the middle, to keep the test fast.
	sampled := func(p int64) bool {
		for _, e := range blocks {
			lo, hi := int64(e.Offset), int64(e.Offset)+int64(e.Size)
			if p >= lo+32 && p < hi-32 {
				return p%17 == 0
			}
		}
		return true
	}
	blockOf := func(p int64) int64 {
		s := int64(-1)
		for _, b := range blockStarts {
			if b <= p {
				s = b
			}
		}
		return s
	}
	for p := range int64(len(good)) {
		if !sampled(p) {
			continue
		}
		bad := append([]byte(nil), good...)
		bad[p] ^= 1 << (p % 8)
		fsys.put(path, bad)
		_ = readEverything(fsys, path) // must not panic
		_, openErr := tsm.Open(fsys, path)
		verifyErr := tsm.Verify(fsys, path)
		if verifyErr == nil {
			t.Fatalf("flip at %d (of %d) went unnoticed", p, size)
		}
		ce := asCorruption(t, verifyErr, path, size)
		switch {
		case p < tsm.HeaderSize:
			// A bad magic is reported at the magic's start.
			if openErr == nil || ce.Offset > p || p-ce.Offset >= 4 {
				t.Fatalf("header flip at %d: Open err %v, offset %d", p, openErr, ce.Offset)
			}
		case p < indexOff:
			if openErr != nil {
				t.Fatalf("block flip at %d failed Open: %v", p, openErr)
			}
			// The CRC check names the block's start; a CRC collision is
			// impossible for one bit.
			if want := blockOf(p); ce.Offset != want {
				t.Fatalf("block flip at %d: offset %d, want block start %d (%v)", p, ce.Offset, want, verifyErr)
			}
		case p < footerOff:
			if openErr == nil || ce.Offset != indexOff {
				t.Fatalf("index flip at %d: Open err %v, offset %d, want %d", p, openErr, ce.Offset, indexOff)
			}
		default:
			if openErr == nil || ce.Offset < footerOff {
				t.Fatalf("footer flip at %d: Open err %v, offset %d", p, openErr, ce.Offset)
			}
		}
	}
}

func TestCorruptMessages(t *testing.T) {
	good := smallFile(t)
	path := filepath.Join(t.TempDir(), "x.tsm")
	bad := append([]byte(nil), good...)
	bad[0] = 'X'
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := tsm.Open(vfs.OS{}, path)
	want := fmt.Sprintf("tsm: corrupt file %s at offset 0: bad magic", path)
	if err == nil || len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
		t.Fatalf("error %q, want prefix %q", err, want)
	}
	// A missing file is not corruption.
	_, err = tsm.Open(vfs.OS{}, path+".missing")
	if err == nil || errors.Is(err, tsm.ErrCorrupt) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open of a missing file: %v", err)
	}
}

// TestReadBlockBadEntry feeds ReadBlock entries that point outside the data.
func TestReadBlockBadEntry(t *testing.T) {
	fsys, dir := vfs.OS{}, t.TempDir()
	key := fieldKey("m", "v")
	path := writeFile(t, fsys, dir, "a.tsm", []keyData{{key, series(models.Float, 10, 0, 1, 0)}})
	r := mustOpen(t, fsys, path)
	e := r.Entries(key, nil)[0]
	for _, bad := range []tsm.IndexEntry{
		{Offset: 0, Size: e.Size},
		{Offset: e.Offset, Size: 4},
		{Offset: e.Offset, Size: 0},
		{Offset: uint64(r.Size()), Size: 10},
		{Offset: e.Offset, Size: uint32(r.Size())},
		{Offset: 1 << 63, Size: 1 << 31},
		{Offset: e.Offset + 1, Size: e.Size - 1},
	} {
		if _, err := r.ReadBlock(bad); err == nil {
			t.Fatalf("ReadBlock(%+v) succeeded", bad)
		} else {
			asCorruption(t, err, path, r.Size())
		}
	}
}
