package wal_test

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stratadb/strata/internal/storage/wal"
	"github.com/stratadb/strata/internal/vfs"
)

func TestRotateRemove(t *testing.T) {
	dir := t.TempDir()
	w, _, _ := openReplayed(t, vfs.OS{}, dir, wal.Options{})

	if closed, err := w.Rotate(); err != nil || closed != 0 {
		t.Fatalf("Rotate on an empty WAL = %d, %v; want 0", closed, err)
	}
	if seg := mustWrite(t, w, 1, tagged(0, 1, 10)); seg != 1 {
		t.Fatalf("first record in segment %d", seg)
	}
	if closed, err := w.Rotate(); err != nil || closed != 1 {
		t.Fatalf("Rotate = %d, %v; want 1", closed, err)
	}
	// Nothing written since: the same answer, and no empty segment.
	if closed, err := w.Rotate(); err != nil || closed != 1 {
		t.Fatalf("idle Rotate = %d, %v; want 1", closed, err)
	}
	if seg := mustWrite(t, w, 1, tagged(0, 2, 10)); seg != 2 {
		t.Fatalf("record after Rotate in segment %d, want 2", seg)
	}
	mustWrite(t, w, 1, tagged(0, 3, 10))
	if closed, err := w.Rotate(); err != nil || closed != 2 {
		t.Fatalf("Rotate = %d, %v; want 2", closed, err)
	}
	mustWrite(t, w, 1, tagged(0, 4, 10))
	if diff := cmp.Diff([]uint64{1, 2, 3}, w.Segments()); diff != "" {
		t.Fatalf("Segments (-want +got):\n%s", diff)
	}
	checkSize(t, w, dir)

	// The engine persisted segments ≤ 1 elsewhere.
	if err := w.Remove(1); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(segPath(dir, 1)); !os.IsNotExist(err) {
		t.Fatalf("segment 1 still there: %v", err)
	}
	if diff := cmp.Diff([]uint64{2, 3}, w.Segments()); diff != "" {
		t.Fatalf("Segments after Remove(1) (-want +got):\n%s", diff)
	}
	checkSize(t, w, dir)
	// The current segment survives any upTo.
	if err := w.Remove(100); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]uint64{3}, w.Segments()); diff != "" {
		t.Fatalf("Segments after Remove(100) (-want +got):\n%s", diff)
	}
	if err := w.Remove(100); err != nil {
		t.Fatalf("Remove with nothing to remove: %v", err)
	}
	checkSize(t, w, dir)
	mustClose(t, w)

	got, _, err := replayDir(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, got, map[[2]int]bool{{0, 4}: true}, nil)

	// Ids keep growing after a restart, even with older ones gone.
	w2, _, _ := openReplayed(t, vfs.OS{}, dir, wal.Options{})
	if closed, err := w2.Rotate(); err != nil || closed != 3 {
		t.Fatalf("Rotate after reopen = %d, %v; want 3", closed, err)
	}
	if seg := mustWrite(t, w2, 1, tagged(0, 5, 10)); seg != 4 {
		t.Fatalf("record after reopen in segment %d, want 4", seg)
	}
	if err := w2.Remove(3); err != nil {
		t.Fatal(err)
	}
	mustClose(t, w2)
	got, _, err = replayDir(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, got, map[[2]int]bool{{0, 5}: true}, nil)
}

// TestRemoveFault: a failed remove is reported and the segment stays
// listed; a later Remove finishes the job.
func TestRemoveFault(t *testing.T) {
	dir := t.TempDir()
	f := newFaults()
	w, _, _ := openReplayed(t, vfs.NewErrorFS(vfs.OS{}, f.inject), dir, wal.Options{})
	for i := range 3 {
		mustWrite(t, w, 1, tagged(0, i, 10))
		if _, err := w.Rotate(); err != nil {
			t.Fatal(err)
		}
	}
	f.set(failOn("_00002.wal", vfs.OpRemove))
	if err := w.Remove(3); !isInjected(err) {
		t.Fatalf("Remove: %v, want the injected error", err)
	}
	if diff := cmp.Diff([]uint64{2}, w.Segments()); diff != "" {
		t.Fatalf("Segments (-want +got):\n%s", diff)
	}
	f.set(nil)
	if err := w.Remove(3); err != nil {
		t.Fatal(err)
	}
	if len(w.Segments()) != 0 || w.Size() != 0 {
		t.Fatalf("Segments %v, Size %d after removing all", w.Segments(), w.Size())
	}
}

// TestSegmentSizeRotation: the committer rotates before a batch that would
// overflow a non-empty segment, and never splits one.
func TestSegmentSizeRotation(t *testing.T) {
	dir := t.TempDir()
	const limit = 1000
	w, _, _ := openReplayed(t, vfs.OS{}, dir, wal.Options{SegmentSize: limit})
	r := newRand()
	for i := range 30 {
		mustWrite(t, w, 1, randomBytes(r, 100+i*10))
	}
	big := randomBytes(r, 3*limit) // larger than a segment: gets one of its own
	seg := mustWrite(t, w, 1, big)
	mustClose(t, w)
	for _, id := range w.Segments() {
		size := fileSize(t, segPath(dir, id))
		if id == seg {
			if size != 8+9+int64(len(big)) {
				t.Fatalf("oversized record's segment %d is %d bytes", id, size)
			}
			continue
		}
		if size > limit {
			t.Fatalf("segment %d is %d bytes, over the %d limit", id, size, limit)
		}
	}
	if len(w.Segments()) < 10 {
		t.Fatalf("%d segments for ~%d bytes at %d per segment", len(w.Segments()), 30*250, limit)
	}
}

func checkSize(t *testing.T, w *wal.WAL, dir string) {
	t.Helper()
	var sum int64
	for _, id := range w.Segments() {
		sum += fileSize(t, segPath(dir, id))
	}
	if w.Size() != sum {
		t.Fatalf("Size() = %d, segment files hold %d", w.Size(), sum)
	}
}
