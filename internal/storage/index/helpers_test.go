package index_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/index"
	"github.com/stratadb/strata/internal/vfs"
)

// openIndex opens an index in dir on the OS file system and closes it (and
// checks it) when the test ends, unless the test closed it itself.
func openIndex(t testing.TB, dir string, opts index.Options) *index.Index {
	t.Helper()
	return openIndexFS(t, vfs.OS{}, dir, opts)
}

func openIndexFS(t testing.TB, fsys vfs.FS, dir string, opts index.Options) *index.Index {
	t.Helper()
	ix, err := index.Open(fsys, dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() {
		if tt, ok := t.(*testing.T); ok && !tt.Failed() {
			verify(tt, ix)
		}
		_ = ix.Close()
	})
	return ix
}

// spec builds a SeriesSpec from "m,k=v,k2=v2" written unescaped (no commas
// or equals signs inside names), sorting the tags.
func spec(s string) index.SeriesSpec {
	parts := strings.Split(s, ",")
	var tags []models.Tag
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		tags = append(tags, models.Tag{Key: []byte(k), Value: []byte(v)})
	}
	slices.SortFunc(tags, func(a, b models.Tag) int { return bytes.Compare(a.Key, b.Key) })
	name := []byte(parts[0])
	return index.SeriesSpec{Key: models.AppendSeriesKey(nil, name, tags), Measurement: name, Tags: tags}
}

// create creates the series and fails the test on any error.
func create(t testing.TB, ix *index.Index, keys ...string) []uint64 {
	t.Helper()
	specs := make([]index.SeriesSpec, len(keys))
	for i, k := range keys {
		specs[i] = spec(k)
	}
	if err := ix.CreateSeries(specs); err != nil {
		t.Fatalf("CreateSeries: %v", err)
	}
	ids := make([]uint64, len(specs))
	for i := range specs {
		if specs[i].Err != nil || specs[i].ID == 0 {
			t.Fatalf("CreateSeries(%s): id %d, err %v", keys[i], specs[i].ID, specs[i].Err)
		}
		ids[i] = specs[i].ID
	}
	return ids
}

func bitmapOf(ids ...uint64) *roaring.Bitmap {
	bm := roaring.New()
	for _, id := range ids {
		bm.Add(uint32(id))
	}
	return bm
}

func strs(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}

// verify is the index's fsck, run after every test that opens one: every
// series reachable from a measurement has a key that maps back to its id,
// whose tags' postings hold it, and the counts agree.
func verify(t *testing.T, ix *index.Index) {
	t.Helper()
	total, measurements := 0, 0
	for _, name := range ix.MeasurementNames() {
		measurements++
		series := ix.MeasurementSeries(name)
		if series.IsEmpty() {
			t.Errorf("verify: measurement %q listed without series", name)
		}
		if n := ix.MeasurementSeriesCount(name); n != int(series.GetCardinality()) {
			t.Errorf("verify: %q count %d, bitmap %d", name, n, series.GetCardinality())
		}
		total += int(series.GetCardinality())
		keys := ix.TagKeys(name)
		for _, k := range keys {
			if n := ix.TagValueCount(name, k); n != len(ix.TagValues(name, k)) {
				t.Errorf("verify: %q.%q value count %d, values %d", name, k, n, len(ix.TagValues(name, k)))
			}
		}
		it := series.Iterator()
		for it.HasNext() {
			id := uint64(it.Next())
			key := ix.SeriesKey(id)
			if key == nil {
				t.Errorf("verify: series %d of %q has no key", id, name)
				continue
			}
			if got := ix.SeriesID(key); got != id {
				t.Errorf("verify: SeriesID(%q) = %d, want %d", key, got, id)
			}
			m, tags, err := models.ParseSeriesKey(key, nil)
			if err != nil || !bytes.Equal(m, name) {
				t.Errorf("verify: key %q of %q: measurement %q, %v", key, name, m, err)
				continue
			}
			for _, tag := range tags {
				bm, err := ix.Match(name, index.NewLeaf(tag.Key, index.Equal, tag.Value, nil))
				if err != nil || !bm.Contains(uint32(id)) {
					t.Errorf("verify: %q=%q of %q does not hold series %d (%v)", tag.Key, tag.Value, name, id, err)
				}
			}
		}
	}
	if total != ix.SeriesCount() {
		t.Errorf("verify: SeriesCount %d, measurements hold %d", ix.SeriesCount(), total)
	}
	if measurements != ix.MeasurementCount() {
		t.Errorf("verify: MeasurementCount %d, names %d", ix.MeasurementCount(), measurements)
	}
}

// dump renders everything the read API can see, to compare two indexes.
func dump(ix *index.Index) string {
	var b strings.Builder
	fmt.Fprintf(&b, "series=%d measurements=%d\n", ix.SeriesCount(), ix.MeasurementCount())
	for _, name := range ix.MeasurementNames() {
		fmt.Fprintf(&b, "measurement %s\n", name)
		it := ix.MeasurementSeries(name).Iterator()
		for it.HasNext() {
			id := it.Next()
			fmt.Fprintf(&b, "  %d %s\n", id, ix.SeriesKey(uint64(id)))
		}
		for _, k := range ix.TagKeys(name) {
			fmt.Fprintf(&b, "  key %s:", k)
			for _, v := range ix.TagValues(name, k) {
				bm, _ := ix.Match(name, index.NewLeaf(k, index.Equal, v, nil))
				fmt.Fprintf(&b, " %s%v", v, bm.ToArray())
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// tsbsTags returns the tags of host i in the TSBS devops data set: a
// unique hostname, and nine tags whose values many hosts share.
func tsbsTags(i int) []models.Tag {
	x := uint64(i)*0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019
	next := func(n uint64) uint64 {
		x ^= x >> 31
		x *= 0xBF58476D1CE4E5B9
		x ^= x >> 29
		return x % n
	}
	regions := []string{"us-east-1", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1",
		"ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1"}
	region := regions[next(uint64(len(regions)))]
	tag := func(k, v string) models.Tag { return models.Tag{Key: []byte(k), Value: []byte(v)} }
	return []models.Tag{
		tag("arch", []string{"x64", "x86"}[next(2)]),
		tag("datacenter", region+string(rune('a'+next(3)))),
		tag("hostname", "host_"+strconv.Itoa(i)),
		tag("os", []string{"Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"}[next(3)]),
		tag("rack", strconv.Itoa(int(next(100)))),
		tag("region", region),
		tag("service", strconv.Itoa(int(next(20)))),
		tag("service_environment", []string{"production", "staging", "test"}[next(3)]),
		tag("service_version", strconv.Itoa(int(next(2)))),
		tag("team", []string{"SF", "NYC", "LON", "CHI"}[next(4)]),
	}
}

func tsbsSpec(i int) index.SeriesSpec {
	tags := tsbsTags(i)
	name := []byte("cpu")
	return index.SeriesSpec{Key: models.AppendSeriesKey(nil, name, tags), Measurement: name, Tags: tags}
}

// copyDir copies the regular files of src into a new directory: the state
// a crash at this moment would leave (every write the index acknowledged
// is fsynced, so it is in the files).
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func osFS() vfs.FS { return vfs.OS{} }
