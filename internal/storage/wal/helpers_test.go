package wal_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stratadb/strata/internal/storage/wal"
	"github.com/stratadb/strata/internal/vfs"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// rec is one replayed record.
type rec struct {
	Typ     byte
	Payload []byte
}

// openReplayed opens dir, replays it (expecting no error) and registers a
// Close. It returns the WAL and what was replayed.
func openReplayed(t testing.TB, fsys vfs.FS, dir string, opts wal.Options) (*wal.WAL, []rec, wal.ReplayStats) {
	t.Helper()
	w, err := wal.Open(fsys, dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { w.Close() })
	var got []rec
	st, err := w.Replay(func(typ byte, p []byte) error {
		got = append(got, rec{typ, bytes.Clone(p)})
		return nil
	})
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	return w, got, st
}

// replayDir opens dir on the real file system, replays it and closes it.
func replayDir(t testing.TB, dir string) ([]rec, wal.ReplayStats, error) {
	t.Helper()
	w, err := wal.Open(vfs.OS{}, dir, wal.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer w.Close()
	var got []rec
	st, err := w.Replay(func(typ byte, p []byte) error {
		got = append(got, rec{typ, bytes.Clone(p)})
		return nil
	})
	return got, st, err
}

func mustWrite(t testing.TB, w *wal.WAL, typ byte, p []byte) uint64 {
	t.Helper()
	seg, err := w.Write(context.Background(), typ, p)
	if err != nil {
		t.Fatalf("Write(%d, %d bytes): %v", typ, len(p), err)
	}
	return seg
}

func mustClose(t testing.TB, w *wal.WAL) {
	t.Helper()
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// randomBytes returns n incompressible bytes.
func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// tagged returns a payload that names its writer and sequence number,
// padded to n bytes (compressible when n is large).
func tagged(writer, seq, n int) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(writer))
	b = binary.BigEndian.AppendUint32(b, uint32(seq))
	for len(b) < n {
		b = append(b, byte('a'+seq%26))
	}
	return b
}

func untag(p []byte) (writer, seq int) {
	return int(binary.BigEndian.Uint32(p)), int(binary.BigEndian.Uint32(p[4:]))
}

func segPath(dir string, id uint64) string { return filepath.Join(dir, fmt.Sprintf("_%05d.wal", id)) }

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat: %v", err)
	}
	return fi.Size()
}

// faults is an injector for vfs.ErrorFS: it counts operations and fails
// the ones a rule picks.
type faults struct {
	mu    sync.Mutex
	rule  func(op vfs.Op, path string) error
	count map[vfs.Op]int
}

func newFaults() *faults { return &faults{count: map[vfs.Op]int{}} }

func (f *faults) inject(op vfs.Op, path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count[op]++
	if f.rule == nil {
		return nil
	}
	return f.rule(op, path)
}

func (f *faults) set(rule func(op vfs.Op, path string) error) {
	f.mu.Lock()
	f.rule = rule
	f.mu.Unlock()
}

func (f *faults) n(op vfs.Op) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count[op]
}

// failOn fails every op in ops on paths with the given suffix ("" = all).
func failOn(suffix string, ops ...vfs.Op) func(vfs.Op, string) error {
	return func(op vfs.Op, path string) error {
		for _, o := range ops {
			if o == op && (suffix == "" || filepath.Base(path) == suffix) {
				return fmt.Errorf("%s %s: %w", op, path, vfs.ErrInjected)
			}
		}
		return nil
	}
}

// shortWriteFS writes the first half of a buffer and then fails the write
// while armed: the torn write ErrorFS cannot produce.
type shortWriteFS struct {
	vfs.FS
	armed atomic.Bool
}

func (s *shortWriteFS) OpenFile(name string, flag int, perm os.FileMode) (vfs.File, error) {
	f, err := s.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &shortWriteFile{File: f, fs: s}, nil
}

type shortWriteFile struct {
	vfs.File
	fs *shortWriteFS
}

func (f *shortWriteFile) Write(p []byte) (int, error) {
	if !f.fs.armed.Load() {
		return f.File.Write(p)
	}
	n, err := f.File.Write(p[:len(p)/2])
	if err != nil {
		return n, err
	}
	return n, io.ErrShortWrite
}

// checkExactlyOnce checks that got holds each tagged record of acked
// exactly once, and nothing else unless extra allows it.
func checkExactlyOnce(t *testing.T, got []rec, acked map[[2]int]bool, mayHave map[[2]int]bool) {
	t.Helper()
	seen := map[[2]int]int{}
	for _, r := range got {
		w, s := untag(r.Payload)
		k := [2]int{w, s}
		seen[k]++
		if !acked[k] && !mayHave[k] {
			t.Errorf("replayed record writer=%d seq=%d that was never written successfully", w, s)
		}
	}
	for k := range acked {
		if seen[k] != 1 {
			t.Errorf("acknowledged record writer=%d seq=%d replayed %d times, want 1", k[0], k[1], seen[k])
		}
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("record writer=%d seq=%d replayed %d times", k[0], k[1], n)
		}
	}
}

func isInjected(err error) bool { return errors.Is(err, vfs.ErrInjected) }
