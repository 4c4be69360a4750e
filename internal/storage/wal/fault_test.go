package wal_test

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stratadb/strata/internal/storage/wal"
	"github.com/stratadb/strata/internal/vfs"
)

// TestFaults injects one failure into the write path: the failing Write
// gets the error, the WAL keeps working once the fault clears, and replay
// holds exactly the acknowledged records.
func TestFaults(t *testing.T) {
	tests := []struct {
		name string
		// rotate makes the failing write the first of a new segment.
		rotate bool
		rule   func(vfs.Op, string) error
		// failures is how many writes fail before the fault is cleared.
		failures int
		// after is how many writes follow once it is cleared.
		after int
	}{
		{"write", false, failOn("_00001.wal", vfs.OpWrite), 1, 3},
		{"fsync", false, failOn("_00001.wal", vfs.OpSync), 1, 3},
		{"fsync twice", false, failOn("_00001.wal", vfs.OpSync), 2, 3},
		{"open next segment", true, failOn("_00002.wal", vfs.OpOpen), 2, 3},
		{"header write of next segment", true, failOn("_00002.wal", vfs.OpWrite), 1, 3},
		{"syncdir of next segment", true, failOn("", vfs.OpSyncDir), 1, 3},
		{"first fsync of next segment", true, failOn("_00002.wal", vfs.OpSync), 1, 3},
		{"fsync and repair", false, failOn("_00001.wal", vfs.OpSync, vfs.OpTruncate), 3, 3},
		{"fsync then close", false, failOn("_00001.wal", vfs.OpSync), 1, 0},
		{"write and reopen for repair", false, failOn("_00001.wal", vfs.OpWrite, vfs.OpOpen), 2, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			f := newFaults()
			fsys := vfs.NewErrorFS(vfs.OS{}, f.inject)
			w, _, _ := openReplayed(t, fsys, dir, wal.Options{})
			acked := map[[2]int]bool{}
			seq := 0
			// Failing records are larger than the later ones, so that a
			// failed batch left in place cannot be hidden by being
			// overwritten exactly.
			size := 200
			write := func() error {
				seq++
				_, err := w.Write(context.Background(), 1, tagged(0, seq, size))
				if err == nil {
					acked[[2]int{0, seq}] = true
				}
				return err
			}
			for range 3 {
				if err := write(); err != nil {
					t.Fatal(err)
				}
			}
			if tt.rotate {
				if closed, err := w.Rotate(); err != nil || closed != 1 {
					t.Fatalf("Rotate = %d, %v", closed, err)
				}
			}
			f.set(tt.rule)
			size = 400
			for i := range tt.failures {
				if err := write(); !isInjected(err) {
					t.Fatalf("write %d under fault: %v, want the injected error", i, err)
				}
			}
			f.set(nil)
			size = 100
			for range tt.after {
				if err := write(); err != nil {
					t.Fatalf("write after the fault cleared: %v", err)
				}
			}
			mustClose(t, w)

			got, st, err := replayDir(t, dir)
			if err != nil {
				t.Fatalf("Replay: %v", err)
			}
			if st.DroppedBytes != 0 {
				t.Fatalf("replay had to drop %d bytes: the WAL did not repair itself", st.DroppedBytes)
			}
			checkExactlyOnce(t, got, acked, nil)
		})
	}
}

// TestShortWrite: half of a batch reaches the file before the write fails;
// those bytes must not survive.
func TestShortWrite(t *testing.T) {
	dir := t.TempDir()
	fsys := &shortWriteFS{FS: vfs.OS{}}
	w, _, _ := openReplayed(t, fsys, dir, wal.Options{})
	mustWrite(t, w, 1, tagged(0, 1, 300))
	fsys.armed.Store(true)
	if _, err := w.Write(context.Background(), 1, tagged(0, 2, 300)); !errors.Is(err, io.ErrShortWrite) {
		t.Fatalf("Write: %v, want ErrShortWrite", err)
	}
	fsys.armed.Store(false)
	mustWrite(t, w, 1, tagged(0, 3, 300))
	mustClose(t, w)
	got, st, err := replayDir(t, dir)
	if err != nil || st.DroppedBytes != 0 {
		t.Fatalf("Replay: %v, stats %+v", err, st)
	}
	checkExactlyOnce(t, got, map[[2]int]bool{{0, 1}: true, {0, 3}: true}, nil)
}

// TestCrashBeforeRepair: the fsync fails and so does every repair, then
// the process "dies" (Close fails too). After the restart the failed
// record may appear (it was written, never acknowledged), every
// acknowledged one does, and new writes work.
func TestCrashBeforeRepair(t *testing.T) {
	dir := t.TempDir()
	f := newFaults()
	fsys := vfs.NewErrorFS(vfs.OS{}, f.inject)
	w, err := wal.Open(fsys, dir, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Replay(func(byte, []byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, w, 1, tagged(0, 1, 100))
	f.set(failOn("", vfs.OpSync, vfs.OpTruncate))
	if _, err := w.Write(context.Background(), 1, tagged(0, 2, 100)); !isInjected(err) {
		t.Fatalf("Write: %v", err)
	}
	if _, err := w.Write(context.Background(), 1, tagged(0, 3, 100)); !isInjected(err) {
		t.Fatalf("Write while the repair fails: %v", err)
	}
	if _, err := w.Rotate(); !isInjected(err) {
		t.Fatalf("Rotate while the repair fails: %v", err)
	}
	if err := w.Close(); !isInjected(err) {
		t.Fatalf("Close while the repair fails: %v", err)
	}
	f.set(nil)

	w2, got, _ := openReplayed(t, vfs.OS{}, dir, wal.Options{})
	checkExactlyOnce(t, got, map[[2]int]bool{{0, 1}: true}, map[[2]int]bool{{0, 2}: true})
	mustWrite(t, w2, 1, tagged(0, 4, 100))
	mustClose(t, w2)
	got, _, err = replayDir(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, got, map[[2]int]bool{{0, 1}: true, {0, 4}: true}, map[[2]int]bool{{0, 2}: true})
}

// TestRandomFaultsConcurrent: concurrent writers under random write,
// fsync, open and syncdir failures, with small segments so that segment
// creation fails too. Replay after the faults clear holds exactly the
// acknowledged records, in an order consistent with acknowledgement.
func TestRandomFaultsConcurrent(t *testing.T) {
	writers, perWriter := 6, 60
	if testing.Short() {
		perWriter = 20
	}
	dir := t.TempDir()
	f := newFaults()
	fsys := vfs.NewErrorFS(vfs.OS{}, f.inject)
	w, _, _ := openReplayed(t, fsys, dir, wal.Options{SegmentSize: 512})

	var rmu sync.Mutex
	r := rand.New(rand.NewPCG(9, 10))
	f.set(func(op vfs.Op, path string) error {
		switch op {
		case vfs.OpWrite, vfs.OpSync, vfs.OpOpen, vfs.OpSyncDir, vfs.OpTruncate:
			rmu.Lock()
			fail := r.IntN(8) == 0
			rmu.Unlock()
			if fail {
				return vfs.ErrInjected
			}
		}
		return nil
	})

	var mu sync.Mutex
	var acks int64
	acked := map[[2]int]bool{}
	order := map[[2]int]ackRecord{}
	failed := 0
	var wg sync.WaitGroup
	for wr := range writers {
		wg.Go(func() {
			for seq := range perWriter {
				mu.Lock()
				start := acks
				mu.Unlock()
				_, err := w.Write(context.Background(), 1, tagged(wr, seq, 50+seq%200))
				mu.Lock()
				switch {
				case err == nil:
					acks++
					acked[[2]int{wr, seq}] = true
					order[[2]int{wr, seq}] = ackRecord{start: start, ack: acks}
				case isInjected(err):
					failed++
				default:
					t.Errorf("unexpected error: %v", err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	f.set(nil)
	mustClose(t, w)
	if failed == 0 || len(acked) == 0 {
		t.Fatalf("%d failed, %d acknowledged: the test exercised nothing", failed, len(acked))
	}
	t.Logf("%d acknowledged, %d failed, %d segments", len(acked), failed, len(w.Segments()))

	got, st, err := replayDir(t, dir)
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	if st.DroppedBytes != 0 {
		t.Fatalf("replay dropped %d bytes", st.DroppedBytes)
	}
	checkExactlyOnce(t, got, acked, nil)
	checkAckOrder(t, got, order)
}
