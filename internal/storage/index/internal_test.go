package index

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/vfs"
)

func TestVecSeg(t *testing.T) {
	// Walk every index across the geometric segments and into the fixed
	// ones: each maps to a distinct (segment, offset) in order.
	prevK, prevOff := 0, uint64(0)
	for i := uint64(0); i < vecGeoTotal+3<<vecMaxShift; i++ {
		k, off := vecSeg(i)
		if i == 0 {
			if k != 0 || off != 0 {
				t.Fatalf("vecSeg(0) = %d, %d", k, off)
			}
			continue
		}
		switch {
		case k == prevK && off == prevOff+1:
		case k == prevK+1 && off == 0 && prevOff == uint64(vecSegLen(prevK)-1):
		default:
			t.Fatalf("vecSeg(%d) = (%d, %d) after (%d, %d)", i, k, off, prevK, prevOff)
		}
		prevK, prevOff = k, off
	}
	var v segVec[uint64]
	for i := range uint64(200000) {
		if got := v.push(i * 3); got != i {
			t.Fatalf("push returned %d, want %d", got, i)
		}
	}
	for i := range uint64(200000) {
		if got := *v.at(i); got != i*3 {
			t.Fatalf("at(%d) = %d", i, got)
		}
	}
}

func TestArena(t *testing.T) {
	a := newArena()
	var offs []uint32
	var want [][]byte
	// Items of many sizes, some larger than the small first segments,
	// so that items skip to the next segment rather than straddle two.
	for i := range 5000 {
		s := bytes.Repeat([]byte{byte(i)}, (i*7919)%9000)
		off, ok := a.putString(s)
		if !ok {
			t.Fatalf("putString %d failed", i)
		}
		offs = append(offs, off)
		want = append(want, s)
	}
	check := func(a *arena) {
		for i, off := range offs {
			if got := a.str(off); !bytes.Equal(got, want[i]) {
				t.Fatalf("str(%d) of item %d: %d bytes, want %d", off, i, len(got), len(want[i]))
			}
			if !a.checkString(off) {
				t.Fatalf("checkString(%d) false", off)
			}
			if got := a.str(off); cap(got) != len(got) {
				t.Fatal("str leaves spare capacity into the arena")
			}
		}
	}
	check(a)
	var raw []byte
	_ = a.segments(func(b []byte) error { raw = append(raw, b...); return nil })
	if uint64(len(raw)) != a.size {
		t.Fatalf("segments wrote %d bytes of %d", len(raw), a.size)
	}
	b, ok := restoreArena(raw)
	if !ok {
		t.Fatal("restoreArena failed")
	}
	check(b)
	if _, _, ok := a.alloc(arenaMaxItem + 1); ok {
		t.Error("alloc of more than a segment succeeded")
	}
}

func TestSeriesIDsExhausted(t *testing.T) {
	ix, err := Open(vfs.OS{}, t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	create := func(key string) SeriesSpec {
		specs := []SeriesSpec{{Key: []byte(key)}}
		if err := ix.CreateSeries(specs); err != nil {
			t.Fatal(err)
		}
		return specs[0]
	}
	if s := create("a"); s.ID != 1 || s.Err != nil {
		t.Fatalf("first series: %d %v", s.ID, s.Err)
	}
	// Pretend every id up to 2^32-1 was handed out (the id table is
	// dense, so really doing so would take 16 GiB).
	ix.createMu.Lock()
	ix.nextID = 1 << 32
	ix.createMu.Unlock()
	if s := create("b"); s.ID != 0 || !errors.Is(s.Err, ErrSeriesIDsExhausted) {
		t.Errorf("past the last id: %d %v", s.ID, s.Err)
	}
	if s := create("a"); s.ID != 1 || s.Err != nil {
		t.Errorf("existing series after exhaustion: %d %v", s.ID, s.Err)
	}
}

// TestSparseIDs checks that a gap in the id space (ids of failed batches
// that could not be taken back) costs no memory for the gap, in memory, in
// the snapshot and on replay.
func TestSparseIDs(t *testing.T) {
	dir := t.TempDir()
	ix, err := Open(vfs.OS{}, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.CreateSeries([]SeriesSpec{{Key: []byte("a")}}); err != nil {
		t.Fatal(err)
	}
	const far = 3_000_000_000
	ix.createMu.Lock()
	ix.nextID = far
	ix.createMu.Unlock()
	specs := []SeriesSpec{{Key: []byte("b")}}
	if err := ix.CreateSeries(specs); err != nil || specs[0].ID != far {
		t.Fatalf("CreateSeries: %v, id %d", err, specs[0].ID)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	for _, snapshot := range []bool{true, false} {
		if !snapshot {
			os.Remove(filepath.Join(dir, snapshotName))
		}
		ix, err := Open(vfs.OS{}, dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := ix.SeriesKey(far); string(got) != "b" || ix.SeriesID([]byte("b")) != far || ix.SeriesKey(far-1) != nil {
			t.Errorf("snapshot %v: SeriesKey(%d) = %q", snapshot, uint64(far), got)
		}
		if n := ix.offs.length(); n != far+1 {
			t.Errorf("id table length %d", n)
		}
		segs := 0
		for _, seg := range *ix.offs.dir.Load() {
			if seg != nil {
				segs++
			}
		}
		if segs > 2 {
			t.Errorf("%d id table segments allocated for 2 series", segs)
		}
		if err := ix.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCompactionAtOpen drops most series and checks that reopening
// rebuilds the index without them, with the same answers.
func TestCompactionAtOpen(t *testing.T) {
	dir := t.TempDir()
	ix, err := Open(vfs.OS{}, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 3 * compactMinDead
	specs := make([]SeriesSpec, n)
	for i := range specs {
		specs[i] = SeriesSpec{Key: fmt.Appendf(nil, "cpu,host=h%d,rack=%d", i, i%10)}
	}
	if err := ix.CreateSeries(specs); err != nil {
		t.Fatal(err)
	}
	drop := roaring.New()
	drop.AddRange(1, n-100) // keep the last 101
	if err := ix.DropSeries(drop); err != nil {
		t.Fatal(err)
	}
	want, size := fuzzDump(ix), ix.recs.size+ix.strs.size
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	for round := range 2 { // compacting, then from the compact snapshot
		ix, err = Open(vfs.OS{}, dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := fuzzDump(ix); got != want {
			t.Fatalf("round %d: answers differ after compaction", round)
		}
		if got := ix.recs.size + ix.strs.size; got*20 > size {
			t.Errorf("round %d: arenas hold %d bytes, %d before compaction", round, got, size)
		}
		if round == 1 && ix.snapEnd == 0 {
			t.Error("round 1: compacted again instead of loading the compact snapshot")
		}
		if id := ix.nextID; id != n+1 {
			t.Errorf("round %d: next id %d, want %d", round, id, n+1)
		}
		if err := ix.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSeriesRecordRoundTrip(t *testing.T) {
	tags := []models.Tag{{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("b b"), Value: []byte("x,y=z")}}
	rec := appendSeriesRecord(nil, 42, []byte("cpu"), tags)
	if n := len(rec) - recOverhead; n != int(uint32(rec[0])|uint32(rec[1])<<8) {
		t.Fatalf("length field %v for %d payload bytes", rec[:4], n)
	}
	id, name, got, err := decodeSeriesPayload(rec[recHeaderLen:len(rec)-4], nil)
	if err != nil || id != 42 || string(name) != "cpu" || len(got) != 2 ||
		string(got[1].Key) != "b b" || string(got[1].Value) != "x,y=z" {
		t.Fatalf("decoded %d %q %q %v", id, name, got, err)
	}
	ids := []uint32{1, 2, 900, 1<<32 - 1}
	rec = appendTombstoneRecords(nil, ids)
	back, err := decodeTombstonePayload(rec[recHeaderLen:len(rec)-4], nil)
	if err != nil || fmt.Sprint(back) != fmt.Sprint(ids) {
		t.Fatalf("tombstone round trip: %v %v", back, err)
	}
	for _, bad := range []struct {
		name string
		tags []models.Tag
	}{
		{"", nil},
		{"m", []models.Tag{{Key: []byte("b"), Value: []byte("1")}, {Key: []byte("a"), Value: []byte("1")}}},
		{"m", []models.Tag{{Key: []byte("a"), Value: nil}}},
	} {
		rec := appendSeriesRecord(nil, 1, []byte(bad.name), bad.tags)
		if _, _, _, err := decodeSeriesPayload(rec[recHeaderLen:len(rec)-4], nil); err == nil {
			t.Errorf("decoded a non-canonical series %q %v", bad.name, bad.tags)
		}
	}
}

// memIndex returns an index with no files, for decoding snapshots.
func memIndex() *Index {
	ix := &Index{log: slog.New(slog.DiscardHandler)}
	ix.resetMemory()
	return ix
}
