package wal_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stratadb/strata/internal/storage/wal"
	"github.com/stratadb/strata/internal/vfs"
)

func newRand() *rand.Rand { return rand.New(rand.NewPCG(11, 12)) }

// TestFsyncDelayBatching runs in a synctest bubble, where time only moves
// once every goroutine is blocked: the committer's FsyncDelay timer fires
// after all eight writers have queued their records, so the eight records
// share exactly one fsync. Without the delay a lone committer could sync
// the first record before the others arrive.
func TestFsyncDelayBatching(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		f := newFaults()
		w, _, _ := openReplayed(t, vfs.NewErrorFS(vfs.OS{}, f.inject), dir, wal.Options{FsyncDelay: 10 * time.Millisecond})
		const writers = 8
		start := time.Now()
		segs := make([]uint64, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				seg, err := w.Write(context.Background(), 1, tagged(i, 0, 100))
				if err != nil {
					t.Errorf("writer %d: %v", i, err)
				}
				segs[i] = seg
			})
		}
		wg.Wait()
		if d := time.Since(start); d != 10*time.Millisecond {
			t.Errorf("writes took %v of bubble time, want exactly the 10ms delay", d)
		}
		if n := f.n(vfs.OpSync); n != 1 {
			t.Fatalf("%d fsyncs for %d concurrent writes, want 1", n, writers)
		}
		for i, s := range segs {
			if s != 1 {
				t.Fatalf("writer %d got segment %d", i, s)
			}
		}
		// A second round: one more fsync.
		for i := range writers {
			wg.Go(func() { mustWrite(t, w, 1, tagged(i, 1, 100)) })
		}
		wg.Wait()
		if n := f.n(vfs.OpSync); n != 2 {
			t.Fatalf("%d fsyncs after two rounds, want 2", n)
		}
		mustClose(t, w)
	})
}

// TestGroupCommitRealTime: on the real clock and disk, concurrent writers
// with a small FsyncDelay need far fewer fsyncs than writes.
func TestGroupCommitRealTime(t *testing.T) {
	dir := t.TempDir()
	f := newFaults()
	w, _, _ := openReplayed(t, vfs.NewErrorFS(vfs.OS{}, f.inject), dir, wal.Options{FsyncDelay: 2 * time.Millisecond})
	const writers, per = 8, 20
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			for j := range per {
				mustWrite(t, w, 1, tagged(i, j, 500))
			}
		})
	}
	wg.Wait()
	syncs := f.n(vfs.OpSync)
	t.Logf("%d writes, %d fsyncs (%.2f per write)", writers*per, syncs, float64(syncs)/float64(writers*per))
	if syncs >= writers*per/2 {
		t.Fatalf("%d fsyncs for %d writes: group commit is not batching", syncs, writers*per)
	}
}
