package wal_test

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stratadb/strata/internal/storage/wal"
	"github.com/stratadb/strata/internal/vfs"
)

// realSegment writes records through a WAL and returns the segment bytes.
func realSegment(tb testing.TB, payloads ...[]byte) []byte {
	tb.Helper()
	dir := tb.TempDir()
	w, err := wal.Open(vfs.OS{}, dir, wal.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Replay(func(byte, []byte) error { return nil }); err != nil {
		tb.Fatal(err)
	}
	for i, p := range payloads {
		mustWrite(tb, w, byte(i), p)
	}
	mustClose(tb, w)
	data, err := os.ReadFile(segPath(dir, 1))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// FuzzReplay feeds arbitrary bytes as the first segment, alone (the last
// segment: repairable) or followed by a valid segment (a middle one: never
// repaired). Replay must not panic; on success a second replay sees the
// same records and repairs nothing; on a CorruptionError no file changed.
func FuzzReplay(f *testing.F) {
	seg := realSegment(f, []byte("a"), nil, []byte(strings.Repeat("cpu,host=a value=1 ", 50)), []byte{0, 1, 2, 3})
	for _, seed := range [][]byte{
		seg,
		seg[:len(seg)-3],
		seg[:20],
		append(bytes.Clone(seg), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
		seg[:8],
		nil,
		make([]byte, 12),
		[]byte("\x01\x00\x00\x00\x05hello"),
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	next := realSegment(f, []byte("next segment"))

	f.Fuzz(func(t *testing.T, data []byte, middle bool) {
		dir := t.TempDir()
		first := segPath(dir, 1)
		if err := os.WriteFile(first, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if middle {
			if err := os.WriteFile(segPath(dir, 2), next, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, st, err := replayDir(t, dir)
		if err != nil {
			var cerr *wal.CorruptionError
			if !errors.As(err, &cerr) {
				t.Fatalf("Replay: %v, want nil or *CorruptionError", err)
			}
			if cerr.Segment != first {
				t.Fatalf("corruption reported in %s, only %s is damaged", cerr.Segment, first)
			}
			if now, _ := os.ReadFile(first); !bytes.Equal(now, data) {
				t.Fatalf("Replay changed a segment and returned %v", err)
			}
			return
		}
		if middle {
			if st.DroppedBytes != 0 {
				t.Fatalf("a middle segment was repaired: %+v", st)
			}
			if len(got) == 0 || string(got[len(got)-1].Payload) != "next segment" {
				t.Fatalf("last record is not the valid segment's")
			}
		}
		if st.Records != len(got) {
			t.Fatalf("stats count %d records, fn saw %d", st.Records, len(got))
		}
		again, st2, err := replayDir(t, dir)
		if err != nil || st2.DroppedBytes != 0 {
			t.Fatalf("second replay: %v, stats %+v", err, st2)
		}
		if diff := diffRecs(got, again); diff != "" {
			t.Fatalf("second replay differs: %s", diff)
		}
	})
}
