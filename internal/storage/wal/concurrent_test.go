package wal_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stratadb/strata/internal/storage/wal"
	"github.com/stratadb/strata/internal/vfs"
)

// ackRecord remembers when a record's Write started and was acknowledged,
// counted in acknowledgements.
type ackRecord struct {
	start int64 // acknowledgements completed before Write was called
	ack   int64 // this record's acknowledgement number (1-based)
}

// TestConcurrentWriters: every acknowledged record is replayed exactly
// once, and a record acknowledged before another was written comes first.
// Rotate, Segments, Size and Statistics run alongside to shake out races.
func TestConcurrentWriters(t *testing.T) {
	writers, perWriter := 8, 150
	if testing.Short() {
		perWriter = 40
	}
	dir := t.TempDir()
	w, _, _ := openReplayed(t, vfs.OS{}, dir, wal.Options{SegmentSize: 8 << 10})

	var acks atomic.Int64
	var mu sync.Mutex
	order := map[[2]int]ackRecord{}
	acked := map[[2]int]bool{}

	stop := make(chan struct{})
	var bg sync.WaitGroup
	bg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := w.Rotate(); err != nil {
				t.Errorf("Rotate: %v", err)
				return
			}
			_ = w.Segments()
			_ = w.Size()
			_ = w.Statistics(nil)
		}
	})

	var wg sync.WaitGroup
	for wr := range writers {
		wg.Go(func() {
			for seq := range perWriter {
				start := acks.Load()
				// Sizes vary so that some records are compressed.
				if _, err := w.Write(context.Background(), byte(wr), tagged(wr, seq, 16+(seq*37)%600)); err != nil {
					t.Errorf("writer %d seq %d: %v", wr, seq, err)
					return
				}
				a := acks.Add(1)
				mu.Lock()
				order[[2]int{wr, seq}] = ackRecord{start: start, ack: a}
				acked[[2]int{wr, seq}] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(stop)
	bg.Wait()
	mustClose(t, w)

	got, st, err := replayDir(t, dir)
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	if st.Segments < 2 {
		t.Fatalf("only %d segments: rotation was not exercised", st.Segments)
	}
	checkExactlyOnce(t, got, acked, nil)
	for _, r := range got {
		if wr, _ := untag(r.Payload); byte(wr) != r.Typ {
			t.Fatalf("record of writer %d has type %d", wr, r.Typ)
		}
	}
	checkAckOrder(t, got, order)
}

// checkAckOrder fails if a record A appears after a record B in got
// although A was acknowledged before B's Write was called.
func checkAckOrder(t *testing.T, got []rec, order map[[2]int]ackRecord) {
	t.Helper()
	minLater := int64(1 << 62) // smallest ack number among records after the current one
	for i := len(got) - 1; i >= 0; i-- {
		wr, seq := untag(got[i].Payload)
		o, ok := order[[2]int{wr, seq}]
		if !ok {
			continue
		}
		if minLater <= o.start {
			t.Fatalf("record writer=%d seq=%d (started after %d acks) replayed before a record acknowledged as #%d",
				wr, seq, o.start, minLater)
		}
		minLater = min(minLater, o.ack)
	}
}
