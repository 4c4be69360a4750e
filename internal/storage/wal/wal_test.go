package wal_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stratadb/strata/internal/storage/wal"
	"github.com/stratadb/strata/internal/vfs"
)

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name    string
		typ     byte
		payload []byte
	}{
		{"empty", 0, nil},
		{"one byte", 1, []byte{0xff}},
		{"max type", wal.MaxType, []byte("max")},
		{"compressible", 2, []byte(strings.Repeat("cpu,host=server01 usage=0.5 ", 2000))},
		{"incompressible", 3, randomBytes(r, 5000)},
		{"zeros", 4, make([]byte, 100_000)},
		{"large mixed", 5, append(randomBytes(r, 300_000), bytes.Repeat([]byte{7}, 300_000)...)},
	}
	for _, segSize := range []int64{0, 256} { // default, and one rotation per record
		dir := t.TempDir()
		w, got, _ := openReplayed(t, vfs.OS{}, dir, wal.Options{SegmentSize: segSize})
		if len(got) != 0 {
			t.Fatalf("fresh WAL replayed %d records", len(got))
		}
		var want []rec
		var last uint64
		for _, tt := range tests {
			seg := mustWrite(t, w, tt.typ, tt.payload)
			if seg < last || seg == 0 {
				t.Fatalf("%s: segment %d after %d", tt.name, seg, last)
			}
			last = seg
			want = append(want, rec{tt.typ, tt.payload})
		}
		mustClose(t, w)

		got, st, err := replayDir(t, dir)
		if err != nil {
			t.Fatalf("Replay: %v", err)
		}
		if diff := diffRecs(want, got); diff != "" {
			t.Fatalf("segment size %d: replay mismatch: %s", segSize, diff)
		}
		if st.Records != len(want) || st.TruncatedSegment != "" || st.DroppedBytes != 0 {
			t.Fatalf("stats = %+v", st)
		}
		files, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if st.Segments != len(files) || (segSize == 256 && st.Segments < 3) {
			t.Fatalf("segment size %d: replayed %d segments, %d files", segSize, st.Segments, len(files))
		}
	}
}

// diffRecs compares records without cmp's element-wise walk over large
// payloads; nil and empty payloads are equal.
func diffRecs(want, got []rec) string {
	if len(want) != len(got) {
		return fmt.Sprintf("%d records, want %d", len(got), len(want))
	}
	for i := range want {
		if want[i].Typ != got[i].Typ || !bytes.Equal(want[i].Payload, got[i].Payload) {
			return fmt.Sprintf("record %d: type %d, %d bytes; want type %d, %d bytes",
				i, got[i].Typ, len(got[i].Payload), want[i].Typ, len(want[i].Payload))
		}
	}
	return ""
}

// TestReopenAppends checks that a reopened WAL keeps old records, writes
// new ones to a new segment, and replays both in order.
func TestReopenAppends(t *testing.T) {
	dir := t.TempDir()
	var want []rec
	var segs []uint64
	for round := range 3 {
		w, got, _ := openReplayed(t, vfs.OS{}, dir, wal.Options{})
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("round %d: replay mismatch (-want +got):\n%s", round, diff)
		}
		for i := range 3 {
			p := tagged(round, i, 20)
			segs = append(segs, mustWrite(t, w, 1, p))
			want = append(want, rec{1, p})
		}
		mustClose(t, w)
	}
	// One segment per open: 1,1,1,2,2,2,3,3,3.
	if diff := cmp.Diff([]uint64{1, 1, 1, 2, 2, 2, 3, 3, 3}, segs); diff != "" {
		t.Fatalf("segments (-want +got):\n%s", diff)
	}
}

func TestWriteRules(t *testing.T) {
	dir := t.TempDir()
	w, err := wal.Open(vfs.OS{}, dir, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := w.Write(ctx, 1, []byte("x")); !errors.Is(err, wal.ErrNotReplayed) {
		t.Fatalf("Write before Replay: %v, want ErrNotReplayed", err)
	}
	if _, err := w.Replay(func(byte, []byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Replay(func(byte, []byte) error { return nil }); err != nil {
		t.Fatalf("second Replay before any Write: %v", err)
	}
	if _, err := w.Write(ctx, wal.MaxType+1, []byte("x")); !errors.Is(err, wal.ErrInvalidType) {
		t.Fatalf("Write type 0x80: %v, want ErrInvalidType", err)
	}
	if _, err := w.Write(ctx, 1, make([]byte, wal.MaxPayloadSize+1)); !errors.Is(err, wal.ErrRecordTooLarge) {
		t.Fatalf("Write oversized: %v, want ErrRecordTooLarge", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := w.Write(cancelled, 1, []byte("never")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write with cancelled ctx: %v", err)
	}
	mustWrite(t, w, 1, []byte("kept"))
	if _, err := w.Replay(func(byte, []byte) error { return nil }); !errors.Is(err, wal.ErrReplayAfterWrite) {
		t.Fatalf("Replay after Write: %v, want ErrReplayAfterWrite", err)
	}
	mustClose(t, w)
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := w.Write(ctx, 1, []byte("late")); !errors.Is(err, wal.ErrClosed) {
		t.Fatalf("Write after Close: %v, want ErrClosed", err)
	}
	if _, err := w.Rotate(); !errors.Is(err, wal.ErrClosed) {
		t.Fatalf("Rotate after Close: %v, want ErrClosed", err)
	}
	got, _, err := replayDir(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]rec{{1, []byte("kept")}}, got); diff != "" {
		t.Fatalf("only the acknowledged record may be there (-want +got):\n%s", diff)
	}
}

// TestContextCancelWhileWaiting: the writer gets ctx.Err(), and the record
// still becomes durable (the documented rule).
func TestContextCancelWhileWaiting(t *testing.T) {
	dir := t.TempDir()
	w, _, _ := openReplayed(t, vfs.OS{}, dir, wal.Options{FsyncDelay: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := w.Write(ctx, 9, []byte("in flight")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Write: %v, want DeadlineExceeded", err)
	}
	mustClose(t, w) // commits the pending batch without waiting for the hour
	got, _, err := replayDir(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]rec{{9, []byte("in flight")}}, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestReplayCallbackError(t *testing.T) {
	dir := t.TempDir()
	w, _, _ := openReplayed(t, vfs.OS{}, dir, wal.Options{})
	for i := range 5 {
		mustWrite(t, w, 1, tagged(0, i, 10))
	}
	mustClose(t, w)

	w2, err := wal.Open(vfs.OS{}, dir, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	stop := errors.New("stop here")
	calls := 0
	st, err := w2.Replay(func(byte, []byte) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || !strings.Contains(err.Error(), "_00001.wal") {
		t.Fatalf("Replay: %v, want the callback's error with the segment", err)
	}
	if calls != 3 || st.Records != 2 {
		t.Fatalf("calls %d records %d, want 3 and 2", calls, st.Records)
	}
	if _, err := w2.Write(context.Background(), 1, nil); !errors.Is(err, wal.ErrNotReplayed) {
		t.Fatalf("Write after failed Replay: %v, want ErrNotReplayed", err)
	}
}

func TestStatistics(t *testing.T) {
	dir := t.TempDir()
	f := newFaults()
	fsys := vfs.NewErrorFS(vfs.OS{}, f.inject)
	w, _, _ := openReplayed(t, fsys, dir, wal.Options{})
	for i := range 3 {
		mustWrite(t, w, 1, tagged(0, i, 100))
	}
	if _, err := w.Rotate(); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, w, 1, tagged(0, 3, 100))
	f.set(failOn("", vfs.OpSync))
	if _, err := w.Write(context.Background(), 1, tagged(0, 4, 100)); !isInjected(err) {
		t.Fatalf("Write with failing fsync: %v", err)
	}
	f.set(nil)

	st := w.Statistics(map[string]string{"path": dir})
	if len(st) != 1 || st[0].Name != "tsm1_wal" || st[0].Tags["path"] != dir {
		t.Fatalf("statistics = %+v", st)
	}
	want := map[string]any{
		"currentSegmentDiskBytes": fileSize(t, segPath(dir, 2)),
		"oldSegmentsDiskBytes":    fileSize(t, segPath(dir, 1)),
		"writeOk":                 int64(4),
		"writeErr":                int64(1),
	}
	if diff := cmp.Diff(want, st[0].Values); diff != "" {
		t.Fatalf("values (-want +got):\n%s", diff)
	}
	if got, want := w.Size(), fileSize(t, segPath(dir, 1))+fileSize(t, segPath(dir, 2)); got != want {
		t.Fatalf("Size = %d, files hold %d", got, want)
	}
}

// TestScan: the read-only scan reports each record's segment and offset
// (matching the segment Write returned), and reports a torn tail as
// corruption without repairing it.
func TestScan(t *testing.T) {
	dir := t.TempDir()
	w, _, _ := openReplayed(t, vfs.OS{}, dir, wal.Options{SegmentSize: 300})
	type loc struct {
		seg uint64
		off int64
	}
	var want []loc
	offsets := map[uint64]int64{}
	r := newRand()
	for i := range 12 {
		p := randomBytes(r, 50+i*5)
		seg := mustWrite(t, w, byte(i), p)
		if _, ok := offsets[seg]; !ok {
			offsets[seg] = 8
		}
		want = append(want, loc{seg, offsets[seg]})
		offsets[seg] += int64(9 + len(p))
	}
	mustClose(t, w)

	var got []loc
	err := wal.Scan(vfs.OS{}, dir, func(seg uint64, off int64, typ byte, p []byte) error {
		if int(typ) != len(got) {
			t.Fatalf("record %d has type %d", len(got), typ)
		}
		got = append(got, loc{seg, off})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(loc{})); diff != "" {
		t.Fatalf("locations (-want +got):\n%s", diff)
	}

	for _, id := range w.Segments() {
		if err := wal.VerifySegment(vfs.OS{}, segPath(dir, id)); err != nil {
			t.Fatalf("VerifySegment(%d) of a healthy segment: %v", id, err)
		}
	}

	last := w.Segments()[len(w.Segments())-1]
	path := segPath(dir, last)
	if err := os.Truncate(path, fileSize(t, path)-1); err != nil {
		t.Fatal(err)
	}
	size := fileSize(t, path)
	err = wal.Scan(vfs.OS{}, dir, func(uint64, int64, byte, []byte) error { return nil })
	var cerr *wal.CorruptionError
	if !errors.As(err, &cerr) || cerr.Segment != path || !errors.Is(err, wal.ErrTruncated) {
		t.Fatalf("Scan of torn tail: %v", err)
	}
	if err := wal.VerifySegment(vfs.OS{}, path); !errors.Is(err, wal.ErrTruncated) {
		t.Fatalf("VerifySegment of torn segment: %v", err)
	}
	if fileSize(t, path) != size {
		t.Fatalf("Scan or VerifySegment modified the segment")
	}
	stop := errors.New("stop")
	if err := wal.Scan(vfs.OS{}, dir, func(uint64, int64, byte, []byte) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("Scan with failing fn: %v", err)
	}
}
