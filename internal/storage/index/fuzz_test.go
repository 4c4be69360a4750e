package index

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync/atomic"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/vfs"
)

// sampleIndex builds a small index with every kind of content the files
// hold (several measurements, single and shared postings, escapes, drops)
// and returns its directory, closed, with a snapshot.
func sampleIndex(tb testing.TB, dir string) string {
	tb.Helper()
	ix, err := Open(vfs.OS{}, dir, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	var specs []SeriesSpec
	for _, k := range []string{"cpu,host=a,region=us", "cpu,host=b,region=us", `we\ ird,k\=1=v\,2`, "mem", "cpu,host=c"} {
		specs = append(specs, SeriesSpec{Key: []byte(k)})
	}
	if err := ix.CreateSeries(specs); err != nil {
		tb.Fatal(err)
	}
	if err := ix.DropSeries(roaring.BitmapOf(2)); err != nil {
		tb.Fatal(err)
	}
	if err := ix.CreateSeries([]SeriesSpec{{Key: []byte("cpu,host=b,region=eu")}}); err != nil {
		tb.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// exercise calls every read path of ix, which must not panic whatever the
// index was loaded from.
func exercise(ix *Index) {
	for _, name := range ix.MeasurementNames() {
		ix.MeasurementSeries(name)
		ix.MeasurementSeriesCount(name)
		_, _ = ix.Match(name, nil)
		for _, k := range ix.TagKeys(name) {
			ix.TagValueCount(name, k)
			for i, v := range ix.TagValues(name, k) {
				if i < 3 {
					_, _ = ix.Match(name, NewLeaf(k, Equal, v, nil))
				}
			}
			_, _ = ix.Match(name, NewOr(NewLeaf(k, Regex, nil, regexp.MustCompile("a")),
				NewAnd(NewLeaf(k, NotEqual, nil, nil), NewLeaf(k, NotRegex, nil, regexp.MustCompile("^$")))))
		}
	}
	for _, id := range append(liveIDs(ix), 0, ix.maxID.Load()+1) {
		if key := ix.SeriesKey(id); key != nil {
			ix.SeriesID(key)
		}
	}
}

// liveIDs lists the ids of the id → record table (of an index not in use).
func liveIDs(ix *Index) []uint64 {
	var ids []uint64
	ix.offs.each(func(id uint64, p *atomic.Uint32) {
		if p.Load() != 0 {
			ids = append(ids, id)
		}
	})
	return ids
}

// FuzzSeriesFile opens an index over an arbitrary series file: Open must
// fail with a *CorruptionError or succeed with a consistent index that
// reopens to the same answers.
func FuzzSeriesFile(f *testing.F) {
	dir := sampleIndex(f, f.TempDir())
	valid, err := os.ReadFile(filepath.Join(dir, seriesFileName))
	if err != nil {
		f.Fatal(err)
	}
	body := valid[fileHeaderLen:]
	f.Add(body)
	f.Add(body[:len(body)-3])
	f.Add(append(append([]byte{}, body...), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
	f.Add([]byte{})
	f.Add(appendTombstoneRecords(nil, []uint32{1, 5}))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, seriesFileName), append([]byte(fileMagic), data...), 0o644); err != nil {
			t.Fatal(err)
		}
		openReopen(t, dir)
	})
}

// FuzzSeriesRecords frames fuzzed records with correct checksums, so that
// the fuzzer explores what replay does with well-formed but arbitrary
// records: each chunk of the input is a type byte, a length byte and that
// many payload bytes; what is left over becomes a raw tail.
func FuzzSeriesRecords(f *testing.F) {
	frame := func(typ byte, p []byte) []byte { return append([]byte{typ, byte(len(p))}, p...) }
	series := func(id uint64, key string) []byte {
		name, tags, _ := models.ParseSeriesKey([]byte(key), nil)
		rec := appendSeriesRecord(nil, id, name, tags)
		return frame(recSeries, rec[recHeaderLen:len(rec)-4])
	}
	tomb := func(ids ...uint32) []byte {
		rec := appendTombstoneRecords(nil, ids)
		return frame(recTombstone, rec[recHeaderLen:len(rec)-4])
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	f.Add(cat(series(1, "cpu,host=a"), series(2, "cpu,host=b"), tomb(1), series(3, "cpu,host=a")))
	f.Add(cat(series(1, "cpu,host=a"), series(1, "cpu,host=b")))
	f.Add(cat(series(5, "m"), tomb(5, 9), series(7, "m"), []byte{1, 2, 3}))
	f.Add(cat(frame(recSeries, bytes.Repeat([]byte{7}, 255)), frame(recTombstone, bytes.Repeat([]byte{1}, 254))))
	f.Fuzz(func(t *testing.T, data []byte) {
		var file []byte
		for len(data) >= 2 && int(data[1]) <= len(data)-2 {
			// The length is widened before the addition: in byte
			// arithmetic 2+254 wraps to 0.
			end := 2 + int(data[1])
			start := len(file)
			file = append(file, make([]byte, recHeaderLen)...)
			file = append(file, data[2:end]...)
			file = finishRecord(file, start, data[0])
			data = data[end:]
		}
		file = append(file, data...)
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, seriesFileName), append([]byte(fileMagic), file...), 0o644); err != nil {
			t.Fatal(err)
		}
		openReopen(t, dir)
	})
}

// noSyncFS is the OS file system without fsync, so that fuzzing is not
// bound by the disk.
type noSyncFS struct{ vfs.OS }

type noSyncFile struct{ vfs.File }

func (noSyncFile) Sync() error { return nil }

func (fs noSyncFS) OpenFile(name string, flag int, perm os.FileMode) (vfs.File, error) {
	f, err := fs.OS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return noSyncFile{f}, nil
}

func (noSyncFS) SyncDir(string) error { return nil }

// openReopen opens the index in dir: it must fail with a *CorruptionError,
// or give a consistent index that reopens (from its snapshot, and from the
// series file alone) to the same answers.
func openReopen(t *testing.T, dir string) {
	fsys := noSyncFS{}
	ix, err := Open(fsys, dir, Options{SnapshotBytes: -1})
	if err != nil {
		var ce *CorruptionError
		if !errors.As(err, &ce) {
			t.Fatalf("Open: %v, want a *CorruptionError", err)
		}
		return
	}
	exercise(ix)
	for _, id := range liveIDs(ix) {
		if key := ix.SeriesKey(id); key == nil || ix.SeriesID(key) != id {
			t.Fatalf("SeriesID(SeriesKey(%d) = %q) = %d", id, key, ix.SeriesID(key))
		}
	}
	want := fuzzDump(ix)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	for _, withSnapshot := range []bool{true, false} {
		if !withSnapshot {
			os.Remove(filepath.Join(dir, snapshotName))
		}
		ix, err := Open(fsys, dir, Options{SnapshotBytes: -1})
		if err != nil {
			t.Fatalf("reopen (snapshot %v): %v", withSnapshot, err)
		}
		if got := fuzzDump(ix); got != want {
			t.Fatalf("reopen (snapshot %v) answers\n%s\nwant\n%s", withSnapshot, got, want)
		}
		ix.Close()
	}
}

func fuzzDump(ix *Index) string {
	var b bytes.Buffer
	for _, name := range ix.MeasurementNames() {
		b.WriteString(string(name) + ":")
		for _, id := range ix.MeasurementSeries(name).ToArray() {
			b.WriteString(" " + string(ix.SeriesKey(uint64(id))))
		}
		for _, k := range ix.TagKeys(name) {
			b.WriteString(" [" + string(k) + "]")
			for _, v := range ix.TagValues(name, k) {
				b.WriteString(" " + string(v))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// snapshotWithCRC frames a snapshot body with the magic and a correct CRC,
// so that the fuzzer explores the decoder rather than the checksum.
func snapshotWithCRC(body []byte) []byte {
	data := append([]byte(snapMagic), body...)
	return binary.LittleEndian.AppendUint32(data, crc32c(data))
}

// FuzzSnapshot decodes arbitrary snapshot bodies: the decoder must return
// an error or an index whose every read and write path is safe to follow.
func FuzzSnapshot(f *testing.F) {
	dir := sampleIndex(f, f.TempDir())
	valid, err := os.ReadFile(filepath.Join(dir, snapshotName))
	if err != nil {
		f.Fatal(err)
	}
	body := valid[len(snapMagic) : len(valid)-4]
	f.Add(body)
	f.Add(body[:len(body)/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		ix := memIndex()
		if _, err := ix.decodeSnapshot(snapshotWithCRC(body)); err != nil {
			return
		}
		exercise(ix)
		// The write paths too: drop every series, then add one.
		for _, id := range liveIDs(ix) {
			ix.removeSeries(uint32(id))
		}
		if ix.lastFileID >= 1<<32-2 {
			return
		}
		key := []byte("cpu,host=z")
		name, tags, _ := models.ParseSeriesKey(key, nil)
		if err := ix.applySeries(uint32(ix.lastFileID+1), key, name, tags); err != nil {
			t.Fatal(err)
		}
		if ix.SeriesID(key) != ix.lastFileID+1 {
			t.Fatal("new series not found after a snapshot load")
		}
		exercise(ix)
	})
}

// FuzzSnapshotFile decodes whole files, checksum included.
func FuzzSnapshotFile(f *testing.F) {
	dir := sampleIndex(f, f.TempDir())
	valid, err := os.ReadFile(filepath.Join(dir, snapshotName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid[:20])
	f.Fuzz(func(t *testing.T, data []byte) {
		ix := memIndex()
		if _, err := ix.decodeSnapshot(data); err == nil {
			exercise(ix)
		}
	})
}

// FuzzRecordPayload decodes arbitrary record payloads; what decodes must
// survive an encode/decode round trip unchanged.
func FuzzRecordPayload(f *testing.F) {
	rec := appendSeriesRecord(nil, 7, []byte("cpu"), []models.Tag{{Key: []byte("h"), Value: []byte("a")}})
	f.Add(rec[recHeaderLen:len(rec)-4], false)
	rec = appendTombstoneRecords(nil, []uint32{3, 9})
	f.Add(rec[recHeaderLen:len(rec)-4], true)
	f.Fuzz(func(t *testing.T, p []byte, tombstone bool) {
		if tombstone {
			ids, err := decodeTombstonePayload(p, nil)
			if err != nil {
				return
			}
			rec := appendTombstoneRecords(nil, ids)
			back, err := decodeTombstonePayload(rec[recHeaderLen:len(rec)-4], nil)
			if err != nil || fmt.Sprint(back) != fmt.Sprint(ids) {
				t.Fatalf("tombstone %v round trip: %v %v", ids, back, err)
			}
			return
		}
		id, name, tags, err := decodeSeriesPayload(p, nil)
		if err != nil {
			return
		}
		rec := appendSeriesRecord(nil, id, name, tags)
		id2, name2, tags2, err := decodeSeriesPayload(rec[recHeaderLen:len(rec)-4], nil)
		if err != nil || id2 != id || !bytes.Equal(name2, name) || fmt.Sprintf("%q", tags2) != fmt.Sprintf("%q", tags) {
			t.Fatalf("series %d %q %q round trip: %d %q %q %v", id, name, tags, id2, name2, tags2, err)
		}
	})
}
