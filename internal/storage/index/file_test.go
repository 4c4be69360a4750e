package index_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stratadb/strata/internal/storage/index"
	"github.com/stratadb/strata/internal/vfs"
)

// logBuffer collects log lines; the index logs from its own goroutine too.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// recordOffsets returns the offset of every record of a series file.
func recordOffsets(t *testing.T, path string) []int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var offs []int64
	for off := int64(8); off < int64(len(b)); {
		offs = append(offs, off)
		off += 9 + int64(binary.LittleEndian.Uint32(b[off:]))
	}
	return offs
}

func seriesPath(dir string) string { return filepath.Join(dir, "series.log") }

// populate creates a few series and drops one, then closes the index;
// it returns what the index answered.
func populate(t *testing.T, dir string, snapshot bool) string {
	t.Helper()
	ix, err := index.Open(vfs.OS{}, dir, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	create(t, ix, "cpu,host=a", "cpu,host=b", "mem,host=a,region=us")
	create(t, ix, "disk,path=/")
	if err := ix.DropSeries(bitmapOf(2)); err != nil {
		t.Fatal(err)
	}
	want := dump(ix)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if !snapshot {
		if err := os.Remove(filepath.Join(dir, "index.snap")); err != nil {
			t.Fatal(err)
		}
	}
	return want
}

func appendFile(t *testing.T, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestTornTailIsTruncated(t *testing.T) {
	// A valid record to tear: the last record of another series file.
	src := t.TempDir()
	ix := openIndex(t, src, index.Options{})
	create(t, ix, "torn,k=v")
	ix.Close()
	whole, _ := os.ReadFile(seriesPath(src))
	last := whole[8:]

	for _, tc := range []struct {
		name string
		tail []byte
	}{
		{"short header", last[:3]},
		{"short payload", last[:len(last)-2]},
		{"bad checksum", append(append([]byte{}, last[:len(last)-1]...), last[len(last)-1]^0xff)},
		{"zeros", make([]byte, 100)},
		{"record then zeros", append(append([]byte{}, last[:len(last)-1]...), make([]byte, 40)...)},
	} {
		for _, snapshot := range []bool{false, true} {
			name := tc.name + map[bool]string{true: " with snapshot", false: ""}[snapshot]
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				want := populate(t, dir, snapshot)
				size := fileSize(t, seriesPath(dir))
				appendFile(t, seriesPath(dir), tc.tail)
				var log logBuffer
				ix := openIndex(t, dir, index.Options{Logger: log.logger()})
				if got := dump(ix); got != want {
					t.Errorf("after repair:\n%s\nwant:\n%s", got, want)
				}
				if got := fileSize(t, seriesPath(dir)); got != size {
					t.Errorf("series file is %d bytes, want %d (tail truncated)", got, size)
				}
				if !strings.Contains(log.String(), "torn tail") {
					t.Errorf("repair not logged: %q", log.String())
				}
				// The repaired file takes new records and reads back.
				id := create(t, ix, "torn,k=v")[0]
				if err := ix.Close(); err != nil {
					t.Fatal(err)
				}
				ix2 := openIndex(t, dir, index.Options{})
				if got := ix2.SeriesID(spec("torn,k=v").Key); got != id {
					t.Errorf("series after repair and restart: id %d, want %d", got, id)
				}
			})
		}
	}
}

func TestCorruptionIsReportedWithOffset(t *testing.T) {
	dir := t.TempDir()
	populate(t, dir, false)
	path := seriesPath(dir)
	offs := recordOffsets(t, path)
	if len(offs) < 4 {
		t.Fatalf("only %d records", len(offs))
	}
	b, _ := os.ReadFile(path)
	b[offs[1]+7] ^= 0x40 // inside the second record's payload
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := index.Open(vfs.OS{}, dir, index.Options{})
	var ce *index.CorruptionError
	if !errors.As(err, &ce) {
		t.Fatalf("Open: %v, want a *CorruptionError", err)
	}
	if ce.Offset != offs[1] || ce.Path != path {
		t.Errorf("corruption at %s offset %d, want %s offset %d", ce.Path, ce.Offset, path, offs[1])
	}
	if !errors.Is(err, index.ErrCorrupt) {
		t.Errorf("%v is not ErrCorrupt", err)
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "offset") {
		t.Errorf("error %q does not name file and offset", err)
	}
	// The file is left alone for an operator to look at.
	if after, _ := os.ReadFile(path); !bytes.Equal(after, b) {
		t.Error("Open changed a corrupt series file")
	}
}

func TestBadMagic(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(seriesPath(dir), []byte("NOTASERIESFILE"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := index.Open(vfs.OS{}, dir, index.Options{})
	var ce *index.CorruptionError
	if !errors.As(err, &ce) || ce.Offset != 0 {
		t.Fatalf("Open: %v, want corruption at offset 0", err)
	}
}

func TestTornHeaderIsRewritten(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(seriesPath(dir), []byte("STR"), 0o644); err != nil {
		t.Fatal(err)
	}
	ix := openIndex(t, dir, index.Options{})
	create(t, ix, "cpu")
}

func TestCorruptSnapshotFallsBackToReplay(t *testing.T) {
	for _, damage := range []string{"flip", "truncate", "garbage", "stale"} {
		t.Run(damage, func(t *testing.T) {
			dir := t.TempDir()
			want := populate(t, dir, true)
			snap := filepath.Join(dir, "index.snap")
			b, _ := os.ReadFile(snap)
			switch damage {
			case "flip":
				b[len(b)/2] ^= 1
			case "truncate":
				b = b[:len(b)/3]
			case "garbage":
				b = []byte("garbage")
			case "stale":
				// A snapshot that covers more than the series file holds
				// (the series file was replaced): it must not be trusted.
				if err := os.Truncate(seriesPath(dir), 8); err != nil {
					t.Fatal(err)
				}
				want = "series=0 measurements=0\n"
			}
			if err := os.WriteFile(snap, b, 0o644); err != nil {
				t.Fatal(err)
			}
			var log logBuffer
			ix := openIndex(t, dir, index.Options{Logger: log.logger()})
			if got := dump(ix); got != want {
				t.Errorf("after fallback:\n%s\nwant:\n%s", got, want)
			}
			if !strings.Contains(log.String(), "snapshot unusable") {
				t.Errorf("fallback not logged: %q", log.String())
			}
		})
	}
}

// failOn returns an injector failing op on files whose name contains
// substr.
func failOn(op vfs.Op, substr string) vfs.Injector {
	return func(o vfs.Op, path string) error {
		if o == op && strings.Contains(filepath.Base(path), substr) {
			return vfs.ErrInjected
		}
		return nil
	}
}

func TestFailedAppendLeavesNothing(t *testing.T) {
	for _, op := range []vfs.Op{vfs.OpSync, vfs.OpWrite} {
		t.Run(string(op), func(t *testing.T) {
			dir := t.TempDir()
			efs := vfs.NewErrorFS(vfs.OS{}, nil)
			ix, err := index.Open(efs, dir, index.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer ix.Close()
			create(t, ix, "cpu,host=a")
			size := fileSize(t, seriesPath(dir))

			efs.SetInjector(failOn(op, "series.log"))
			specs := []index.SeriesSpec{spec("cpu,host=a"), spec("cpu,host=b"), spec("mem")}
			err = ix.CreateSeries(specs)
			if !errors.Is(err, vfs.ErrInjected) {
				t.Fatalf("CreateSeries: %v, want the injected error", err)
			}
			if specs[0].ID != 1 || specs[0].Err != nil {
				t.Errorf("existing series: id %d err %v", specs[0].ID, specs[0].Err)
			}
			for _, s := range specs[1:] {
				if s.ID != 0 || !errors.Is(s.Err, vfs.ErrInjected) {
					t.Errorf("%s: id %d err %v, want 0 and the error", s.Key, s.ID, s.Err)
				}
				if id := ix.SeriesID(s.Key); id != 0 {
					t.Errorf("%s visible with id %d after a failed fsync", s.Key, id)
				}
			}
			if names := strs(ix.MeasurementNames()); len(names) != 1 {
				t.Errorf("MeasurementNames = %q", names)
			}
			if got := fileSize(t, seriesPath(dir)); got != size {
				t.Errorf("series file %d bytes after the failure, want %d", got, size)
			}

			efs.SetInjector(nil)
			ids := create(t, ix, "cpu,host=c")
			if ids[0] != 2 {
				t.Errorf("id after a failed batch %d, want 2: unused ids are taken back", ids[0])
			}
			want := dump(ix)
			if err := ix.Close(); err != nil {
				t.Fatal(err)
			}
			os.Remove(filepath.Join(dir, "index.snap"))
			ix2 := openIndex(t, dir, index.Options{})
			if got := dump(ix2); got != want {
				t.Errorf("after reopen:\n%s\nwant:\n%s", got, want)
			}
			if ix2.SeriesID(spec("cpu,host=b").Key) != 0 || ix2.SeriesID(spec("cpu,host=c").Key) != ids[0] {
				t.Error("reopened index disagrees about which series exist")
			}
		})
	}
}

func TestFailedRepairBreaksIndex(t *testing.T) {
	dir := t.TempDir()
	efs := vfs.NewErrorFS(vfs.OS{}, nil)
	ix, err := index.Open(efs, dir, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	efs.SetInjector(func(op vfs.Op, path string) error {
		if op == vfs.OpSync || op == vfs.OpTruncate {
			return vfs.ErrInjected
		}
		return nil
	})
	if err := ix.CreateSeries([]index.SeriesSpec{spec("cpu")}); !errors.Is(err, index.ErrBroken) {
		t.Fatalf("CreateSeries: %v, want ErrBroken", err)
	}
	efs.SetInjector(nil)
	if err := ix.CreateSeries([]index.SeriesSpec{spec("mem")}); !errors.Is(err, index.ErrBroken) {
		t.Fatalf("CreateSeries after: %v, want ErrBroken", err)
	}
	if err := ix.DropSeries(bitmapOf(1)); err != nil && !errors.Is(err, index.ErrBroken) {
		t.Fatalf("DropSeries: %v", err)
	}
}

func TestFailedDropKeepsSeries(t *testing.T) {
	dir := t.TempDir()
	efs := vfs.NewErrorFS(vfs.OS{}, nil)
	ix, err := index.Open(efs, dir, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ids := create(t, ix, "cpu,host=a", "cpu,host=b")
	efs.SetInjector(failOn(vfs.OpSync, "series.log"))
	if err := ix.DropSeries(bitmapOf(ids[0])); !errors.Is(err, vfs.ErrInjected) {
		t.Fatalf("DropSeries: %v", err)
	}
	if ix.SeriesID(spec("cpu,host=a").Key) != ids[0] {
		t.Error("series gone after a failed drop")
	}
	efs.SetInjector(nil)
	want := dump(ix)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	ix2 := openIndex(t, dir, index.Options{})
	if got := dump(ix2); got != want {
		t.Errorf("after reopen:\n%s\nwant:\n%s", got, want)
	}
}

func TestFailedSnapshot(t *testing.T) {
	dir := t.TempDir()
	efs := vfs.NewErrorFS(vfs.OS{}, nil)
	ix, err := index.Open(efs, dir, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	create(t, ix, "cpu,host=a", "mem")
	want := dump(ix)
	efs.SetInjector(failOn(vfs.OpRename, "index.snap"))
	if err := ix.Close(); !errors.Is(err, vfs.ErrInjected) {
		t.Fatalf("Close: %v, want the injected error", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "index.snap")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("snapshot exists after a failed rename: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "index.snap.tmp")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary snapshot left behind: %v", err)
	}
	ix2 := openIndex(t, dir, index.Options{})
	if got := dump(ix2); got != want {
		t.Errorf("after reopen:\n%s\nwant:\n%s", got, want)
	}
}
