package wal_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratadb/strata/internal/storage/wal"
	"github.com/stratadb/strata/internal/vfs"
)

// writeSegment writes records into a fresh WAL in dir (one segment) and
// returns them with the file size after each record: the record
// boundaries.
func writeSegment(t *testing.T, dir string, payloads [][]byte) (recs []rec, ends []int64) {
	t.Helper()
	w, _, _ := openReplayed(t, vfs.OS{}, dir, wal.Options{})
	for i, p := range payloads {
		mustWrite(t, w, byte(i%3), p)
		recs = append(recs, rec{byte(i % 3), p})
		ends = append(ends, w.Size())
	}
	mustClose(t, w)
	return recs, ends
}

// TestTornTailEveryOffset truncates the last segment at every byte offset
// inside its last three records: replay keeps every whole record, drops
// and reports the partial one, leaves a file that replays cleanly, and
// accepts new writes after it.
func TestTornTailEveryOffset(t *testing.T) {
	src := t.TempDir()
	r := rand.New(rand.NewPCG(3, 4))
	payloads := [][]byte{
		[]byte("first"), []byte("second"), randomBytes(r, 40),
		[]byte(strings.Repeat("compressible ", 20)), // stored as s2
		randomBytes(r, 30),
		nil,
	}
	recs, ends := writeSegment(t, src, payloads)
	seg := segPath(src, 1)
	full, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(full)) != ends[len(ends)-1] {
		t.Fatalf("file %d bytes, Size said %d", len(full), ends[len(ends)-1])
	}

	from := ends[len(ends)-4] // start of the third-to-last record
	for cut := from; cut < int64(len(full)); cut++ {
		dir := t.TempDir()
		path := segPath(dir, 1)
		if err := os.WriteFile(path, full[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		// The whole records before the cut survive.
		whole := 0
		for whole < len(ends) && ends[whole] <= cut {
			whole++
		}
		good := int64(8)
		if whole > 0 {
			good = ends[whole-1]
		}
		got, st, err := replayDir(t, dir)
		if err != nil {
			t.Fatalf("cut %d: Replay: %v", cut, err)
		}
		if diff := diffRecs(recs[:whole], got); diff != "" {
			t.Fatalf("cut %d: %s", cut, diff)
		}
		if cut == good {
			if st.TruncatedSegment != "" || st.DroppedBytes != 0 {
				t.Fatalf("cut %d at a record boundary: stats %+v", cut, st)
			}
		} else {
			var cerr *wal.CorruptionError
			if st.TruncatedSegment != path || st.TruncatedAt != good || st.DroppedBytes != cut-good ||
				!errors.As(st.TruncateCause, &cerr) || cerr.Offset != good {
				t.Fatalf("cut %d: stats %+v, want truncation of %s to %d dropping %d", cut, st, path, good, cut-good)
			}
		}
		if size := fileSize(t, path); size != good {
			t.Fatalf("cut %d: file is %d bytes after replay, want %d", cut, size, good)
		}
		// Repaired once, clean after; and the log takes new records.
		w, again, st2 := openReplayed(t, vfs.OS{}, dir, wal.Options{})
		if st2.DroppedBytes != 0 || len(again) != whole {
			t.Fatalf("cut %d: second replay: %d records, stats %+v", cut, len(again), st2)
		}
		if cut%5 == 0 {
			mustWrite(t, w, 7, []byte("after repair"))
			mustClose(t, w)
			got, _, err := replayDir(t, dir)
			if err != nil || len(got) != whole+1 || string(got[whole].Payload) != "after repair" {
				t.Fatalf("cut %d: after new write: %d records, err %v", cut, len(got), err)
			}
		}
	}
}

// TestGarbageTail appends junk to the last segment: replay truncates
// exactly the junk and keeps every record.
func TestGarbageTail(t *testing.T) {
	src := t.TempDir()
	recs, ends := writeSegment(t, src, [][]byte{[]byte("one"), []byte("two"), []byte(strings.Repeat("three ", 30))})
	size := ends[len(ends)-1]
	full, err := os.ReadFile(segPath(src, 1))
	if err != nil {
		t.Fatal(err)
	}
	lastRec := full[ends[1]:] // a copy of the last, valid record
	flipped := bytes.Clone(lastRec)
	flipped[len(flipped)-1] ^= 0x01
	hugeLen := binary.LittleEndian.AppendUint32([]byte{1}, 0xffffffff)
	hugeLen = append(hugeLen, 0, 0, 0, 0, 'x')
	shortLen := binary.LittleEndian.AppendUint32([]byte{1}, 1000)
	shortLen = append(shortLen, 0, 0, 0, 0, 'x', 'y')

	tests := []struct {
		name    string
		garbage []byte
		kind    error
	}{
		{"one zero", []byte{0}, wal.ErrTruncated},
		{"zeros", make([]byte, 100), wal.ErrChecksum},
		{"random", randomBytes(rand.New(rand.NewPCG(5, 6)), 50), nil},
		{"huge length", hugeLen, wal.ErrBadLength},
		{"length past end", shortLen, wal.ErrTruncated},
		{"flipped copy of a record", flipped, wal.ErrChecksum},
		{"valid record then junk", append(bytes.Clone(lastRec), 0xde, 0xad), wal.ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := segPath(dir, 1)
			if err := os.WriteFile(path, append(bytes.Clone(full), tt.garbage...), 0o644); err != nil {
				t.Fatal(err)
			}
			want, good := recs, size
			if strings.HasPrefix(tt.name, "valid record") {
				want = append(append([]rec{}, recs...), recs[len(recs)-1])
				good = size + int64(len(lastRec))
			}
			got, st, err := replayDir(t, dir)
			if err != nil {
				t.Fatalf("Replay: %v", err)
			}
			if diff := diffRecs(want, got); diff != "" {
				t.Fatal(diff)
			}
			if st.TruncatedAt != good || st.DroppedBytes != size+int64(len(tt.garbage))-good {
				t.Fatalf("stats %+v, want truncation to %d", st, good)
			}
			if tt.kind != nil && !errors.Is(st.TruncateCause, tt.kind) {
				t.Fatalf("cause %v, want %v", st.TruncateCause, tt.kind)
			}
			if got := fileSize(t, path); got != good {
				t.Fatalf("file %d bytes, want %d", got, good)
			}
		})
	}
}

// TestSegmentHeaders covers files that are empty, torn during creation,
// foreign or from a newer version.
func TestSegmentHeaders(t *testing.T) {
	tests := []struct {
		name    string
		content []byte
		last    bool  // repaired (true) or CorruptionError (false) when last
		kind    error // expected kind when not repaired, or in a middle segment
	}{
		{"empty", nil, true, nil},
		{"short header", []byte("STW"), true, wal.ErrBadHeader},
		{"zero header", make([]byte, 8), true, wal.ErrBadHeader},
		{"zeros past header", make([]byte, 30), true, wal.ErrBadHeader},
		{"header only", []byte("STWL\x01\x00\x00\x00"), true, nil},
		{"newer version", []byte("STWL\x02\x00\x00\x00"), false, wal.ErrUnsupportedVersion},
		{"foreign (1.x WAL entry)", []byte("\x01\x00\x00\x00\x10snappy-block...."), false, wal.ErrForeignSegment},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/last", func(t *testing.T) {
			dir := t.TempDir()
			path := segPath(dir, 1)
			if err := os.WriteFile(path, tt.content, 0o644); err != nil {
				t.Fatal(err)
			}
			got, st, err := replayDir(t, dir)
			if !tt.last {
				var cerr *wal.CorruptionError
				if !errors.As(err, &cerr) || !errors.Is(err, tt.kind) || cerr.Segment != path || cerr.Offset != 0 {
					t.Fatalf("Replay: %v, want CorruptionError %v at %s:0", err, tt.kind, path)
				}
				if data, _ := os.ReadFile(path); !bytes.Equal(data, tt.content) {
					t.Fatalf("unrepairable segment was modified")
				}
				return
			}
			if err != nil || len(got) != 0 {
				t.Fatalf("Replay: %d records, %v", len(got), err)
			}
			if tt.kind != nil && (st.TruncatedAt != 0 || st.DroppedBytes != int64(len(tt.content)) || !errors.Is(st.TruncateCause, tt.kind)) {
				t.Fatalf("stats %+v, want everything dropped for %v", st, tt.kind)
			}
			if tt.kind == nil && st.DroppedBytes != 0 {
				t.Fatalf("valid segment truncated: %+v", st)
			}
		})
		t.Run(tt.name+"/middle", func(t *testing.T) {
			dir := t.TempDir()
			path := segPath(dir, 1)
			if err := os.WriteFile(path, tt.content, 0o644); err != nil {
				t.Fatal(err)
			}
			w, err := wal.Open(vfs.OS{}, dir, wal.Options{})
			if err != nil {
				t.Fatal(err)
			}
			w.Close()
			// A valid second segment makes segment 1 a middle one.
			writeSegmentAt(t, dir, 2, "later")
			got, _, err := replayDir(t, dir)
			if tt.kind == nil {
				if err != nil || len(got) != 1 {
					t.Fatalf("Replay: %d records, %v", len(got), err)
				}
				return
			}
			var cerr *wal.CorruptionError
			if !errors.As(err, &cerr) || !errors.Is(err, tt.kind) || cerr.Segment != path {
				t.Fatalf("Replay: %v, want CorruptionError %v in %s", err, tt.kind, path)
			}
		})
	}
}

// writeSegmentAt creates a valid segment with the given id holding one
// record, by writing it in a scratch WAL and renaming it.
func writeSegmentAt(t *testing.T, dir string, id uint64, payload string) {
	t.Helper()
	scratch := t.TempDir()
	w, _, _ := openReplayed(t, vfs.OS{}, scratch, wal.Options{})
	mustWrite(t, w, 1, []byte(payload))
	mustClose(t, w)
	if err := os.Rename(segPath(scratch, 1), segPath(dir, id)); err != nil {
		t.Fatal(err)
	}
}

// TestCorruptMiddleSegment: damage in a segment that is not the last is a
// CorruptionError naming the segment and the record's offset; records
// before it are delivered; no file changes; writes stay refused.
func TestCorruptMiddleSegment(t *testing.T) {
	const n = 100 // incompressible payload: each record is 9+n bytes
	r := rand.New(rand.NewPCG(7, 8))
	mk := func(dir string) []rec {
		w, _, _ := openReplayed(t, vfs.OS{}, dir, wal.Options{SegmentSize: 8 + 3*(9+n)})
		var recs []rec
		for range 9 { // three segments of three records
			p := randomBytes(r, n)
			mustWrite(t, w, 2, p)
			recs = append(recs, rec{2, p})
		}
		mustClose(t, w)
		if got := w.Segments(); len(got) != 3 {
			t.Fatalf("segments %v, want 3", got)
		}
		return recs
	}
	tests := []struct {
		name   string
		damage func(data []byte) []byte
		offset int64
		kind   error
	}{
		{"flipped payload byte", func(d []byte) []byte { d[8+(9+n)+9+50] ^= 0x40; return d }, 8 + (9 + n), wal.ErrChecksum},
		{"flipped type byte", func(d []byte) []byte { d[8+2*(9+n)] ^= 0x01; return d }, 8 + 2*(9+n), wal.ErrChecksum},
		{"torn", func(d []byte) []byte { return d[:len(d)-10] }, 8 + 2*(9+n), wal.ErrTruncated},
		{"huge length", func(d []byte) []byte { binary.LittleEndian.PutUint32(d[8+1:], 1<<30); return d }, 8, wal.ErrBadLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			recs := mk(dir)
			mid := segPath(dir, 2)
			data, err := os.ReadFile(mid)
			if err != nil {
				t.Fatal(err)
			}
			damaged := tt.damage(data)
			if err := os.WriteFile(mid, damaged, 0o644); err != nil {
				t.Fatal(err)
			}
			before := snapshotDir(t, dir)

			w, err := wal.Open(vfs.OS{}, dir, wal.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			var got []rec
			_, err = w.Replay(func(typ byte, p []byte) error {
				got = append(got, rec{typ, bytes.Clone(p)})
				return nil
			})
			var cerr *wal.CorruptionError
			if !errors.As(err, &cerr) {
				t.Fatalf("Replay: %v, want *CorruptionError", err)
			}
			if cerr.Segment != mid || cerr.Offset != tt.offset || !errors.Is(err, tt.kind) {
				t.Fatalf("CorruptionError %s@%d (%v), want %s@%d (%v)", cerr.Segment, cerr.Offset, cerr.Err, mid, tt.offset, tt.kind)
			}
			wantN := 3 + int(tt.offset-8)/(9+n)
			if diff := diffRecs(recs[:wantN], got); diff != "" {
				t.Fatalf("records before the damage: %s", diff)
			}
			if after := snapshotDir(t, dir); !equalSnapshots(before, after) {
				t.Fatalf("replay changed files on corruption")
			}
			if _, err := w.Write(t.Context(), 1, nil); !errors.Is(err, wal.ErrNotReplayed) {
				t.Fatalf("Write after corrupt replay: %v, want ErrNotReplayed", err)
			}
		})
	}
}

// TestCorruptPayloadNotRepaired: a record whose checksum is right but whose
// s2 block is broken cannot come from a torn write, so even at the tail of
// the last segment it is an error, not a truncation.
func TestCorruptPayloadNotRepaired(t *testing.T) {
	dir := t.TempDir()
	recs, ends := writeSegment(t, dir, [][]byte{[]byte("ok"), []byte(strings.Repeat("zip ", 100))})
	path := segPath(dir, 1)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	off := ends[0]
	if data[off]&0x80 == 0 {
		t.Fatalf("second record is not compressed; test needs a compressed one")
	}
	// Break the s2 block (its varint length says 1 byte) and fix the CRC.
	body := data[off+9:]
	body[0] = 1
	sum := crc32c(append(bytes.Clone(data[off:off+5]), body...))
	binary.LittleEndian.PutUint32(data[off+5:], sum)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	got, _, err := replayDir(t, dir)
	var cerr *wal.CorruptionError
	if !errors.As(err, &cerr) || !errors.Is(err, wal.ErrBadPayload) || cerr.Offset != off {
		t.Fatalf("Replay: %v, want CorruptionError ErrBadPayload at %d", err, off)
	}
	if diff := diffRecs(recs[:1], got); diff != "" {
		t.Fatal(diff)
	}
	if fileSize(t, path) != int64(len(data)) {
		t.Fatalf("segment was truncated")
	}
}

func crc32c(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }

func snapshotDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = data
	}
	return out
}

func equalSnapshots(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			return false
		}
	}
	return true
}
