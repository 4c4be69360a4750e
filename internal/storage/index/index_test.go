package index_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/index"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCreateAndLookup(t *testing.T) {
	ix := openIndex(t, t.TempDir(), index.Options{})
	keys := []string{
		"cpu,host=a,region=us",
		"cpu,host=b,region=us",
		"cpu",
		"mem,host=a",
		"cpu,host=a", // a different series: fewer tags
		"we ird,k ey=v=al,c=x y",
	}
	ids := create(t, ix, keys...)
	for i, id := range ids {
		if id != uint64(i+1) {
			t.Fatalf("ids %v, want 1..%d in order", ids, len(keys))
		}
		sp := spec(keys[i])
		if got := ix.SeriesID(sp.Key); got != id {
			t.Errorf("SeriesID(%q) = %d, want %d", sp.Key, got, id)
		}
		if got := ix.SeriesKey(id); !bytes.Equal(got, sp.Key) {
			t.Errorf("SeriesKey(%d) = %q, want %q", id, got, sp.Key)
		}
	}
	// Creating again returns the same ids, and a batch may repeat a key.
	again := create(t, ix, append(keys, keys[0])...)
	if diff := cmp.Diff(append(ids, ids[0]), again); diff != "" {
		t.Errorf("second CreateSeries ids differ (-want +got):\n%s", diff)
	}
	for _, k := range []string{"cpu,host=c", "disk", "cpu,host=a,region=eu"} {
		if id := ix.SeriesID(spec(k).Key); id != 0 {
			t.Errorf("SeriesID(%q) = %d, want 0", k, id)
		}
	}
	for _, id := range []uint64{0, 7, 1 << 40} {
		if k := ix.SeriesKey(id); k != nil {
			t.Errorf("SeriesKey(%d) = %q, want nil", id, k)
		}
	}
	if got, want := strs(ix.MeasurementNames()), []string{"cpu", "mem", "we ird"}; !cmp.Equal(got, want) {
		t.Errorf("MeasurementNames = %q, want %q", got, want)
	}
	if got, want := strs(ix.TagKeys([]byte("cpu"))), []string{"host", "region"}; !cmp.Equal(got, want) {
		t.Errorf("TagKeys(cpu) = %q, want %q", got, want)
	}
	if got, want := strs(ix.TagValues([]byte("cpu"), []byte("host"))), []string{"a", "b"}; !cmp.Equal(got, want) {
		t.Errorf("TagValues(cpu, host) = %q, want %q", got, want)
	}
	if got, want := strs(ix.TagValues([]byte("we ird"), []byte("k ey"))), []string{"v=al"}; !cmp.Equal(got, want) {
		t.Errorf("TagValues(we ird, k ey) = %q, want %q", got, want)
	}
	if got := ix.MeasurementSeries([]byte("cpu")).ToArray(); !cmp.Equal(got, []uint32{1, 2, 3, 5}) {
		t.Errorf("MeasurementSeries(cpu) = %v", got)
	}
	if n := ix.SeriesCount(); n != 6 {
		t.Errorf("SeriesCount = %d, want 6", n)
	}
	if n := ix.MeasurementCount(); n != 3 {
		t.Errorf("MeasurementCount = %d, want 3", n)
	}
	if n := ix.TagValueCount([]byte("cpu"), []byte("host")); n != 2 {
		t.Errorf("TagValueCount(cpu, host) = %d, want 2", n)
	}
	if v := ix.TagValues([]byte("nope"), []byte("host")); v != nil {
		t.Errorf("TagValues of unknown measurement = %q", v)
	}
	if bm := ix.MeasurementSeries([]byte("nope")); bm == nil || !bm.IsEmpty() {
		t.Errorf("MeasurementSeries of unknown measurement = %v", bm)
	}
	// The returned bitmap is a copy.
	ix.MeasurementSeries([]byte("cpu")).Add(99)
	if ix.MeasurementSeries([]byte("cpu")).Contains(99) {
		t.Error("MeasurementSeries returned the index's own bitmap")
	}
}

func TestCreateSeriesFromKeyOnly(t *testing.T) {
	ix := openIndex(t, t.TempDir(), index.Options{})
	specs := []index.SeriesSpec{{Key: []byte(`cpu,host=a\,b,region=us\ east`)}}
	if err := ix.CreateSeries(specs); err != nil || specs[0].Err != nil {
		t.Fatalf("CreateSeries: %v %v", err, specs[0].Err)
	}
	if got := strs(ix.TagValues([]byte("cpu"), []byte("host"))); !cmp.Equal(got, []string{"a,b"}) {
		t.Errorf("host values %q", got)
	}
	if got := ix.SeriesKey(specs[0].ID); string(got) != `cpu,host=a\,b,region=us\ east` {
		t.Errorf("SeriesKey = %q", got)
	}
}

func TestCreateSeriesRejectsBadSpecs(t *testing.T) {
	ix := openIndex(t, t.TempDir(), index.Options{})
	tag := func(k, v string) models.Tag { return models.Tag{Key: []byte(k), Value: []byte(v)} }
	long := bytes.Repeat([]byte("x"), models.MaxKeyLength)
	specs := []index.SeriesSpec{
		{Key: []byte("cpu,host=a"), Measurement: []byte("cpu"), Tags: []models.Tag{tag("host", "b")}},
		{Key: []byte("cpu,b=1,a=2"), Measurement: []byte("cpu"), Tags: []models.Tag{tag("b", "1"), tag("a", "2")}},
		{Key: []byte("cpu,a=1,a=2"), Measurement: []byte("cpu"), Tags: []models.Tag{tag("a", "1"), tag("a", "2")}},
		{Key: []byte(",a=1"), Measurement: []byte{}, Tags: []models.Tag{tag("a", "1")}},
		{Key: append([]byte("m,k="), long...), Measurement: []byte("m"), Tags: []models.Tag{{Key: []byte("k"), Value: long}}},
		spec("cpu,host=ok"),
		// An empty value is not part of the series: this is "cpu".
		{Key: []byte("cpu"), Measurement: []byte("cpu"), Tags: []models.Tag{tag("host", "")}},
	}
	if err := ix.CreateSeries(specs); err != nil {
		t.Fatalf("CreateSeries: %v", err)
	}
	for i, s := range specs[:5] {
		if !errors.Is(s.Err, index.ErrBadSeriesKey) || s.ID != 0 {
			t.Errorf("spec %d (%q): id %d, err %v; want ErrBadSeriesKey", i, s.Key, s.ID, s.Err)
		}
	}
	for i, s := range specs[5:] {
		if s.Err != nil || s.ID == 0 {
			t.Errorf("spec %d (%q): id %d, err %v", i+5, s.Key, s.ID, s.Err)
		}
	}
	if got := ix.TagKeys([]byte("cpu")); len(got) != 1 {
		t.Errorf("TagKeys(cpu) = %q, want only host", got)
	}
}

// TestConcurrentCreateSameKeys has many goroutines create overlapping sets
// of keys in different orders: every key must get exactly one id.
func TestConcurrentCreateSameKeys(t *testing.T) {
	ix := openIndex(t, t.TempDir(), index.Options{})
	const nKeys, workers = 2000, 8
	keys := make([]string, nKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("cpu,host=h%d,rack=r%d", i, i%17)
	}
	got := make([]map[string]uint64, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			order := rng.Perm(nKeys)
			got[w] = map[string]uint64{}
			for len(order) > 0 {
				n := min(len(order), 1+rng.IntN(50))
				specs := make([]index.SeriesSpec, n)
				for i, k := range order[:n] {
					specs[i] = spec(keys[k])
				}
				if err := ix.CreateSeries(specs); err != nil {
					t.Errorf("CreateSeries: %v", err)
					return
				}
				for i, k := range order[:n] {
					if specs[i].ID == 0 || specs[i].Err != nil {
						t.Errorf("%s: id %d err %v", keys[k], specs[i].ID, specs[i].Err)
					}
					got[w][keys[k]] = specs[i].ID
				}
				order = order[n:]
			}
		})
	}
	// Readers run alongside, for the race detector.
	stop := make(chan struct{})
	var rwg sync.WaitGroup
	rwg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			ix.TagValues([]byte("cpu"), []byte("rack"))
			if _, err := ix.Match([]byte("cpu"), index.NewLeaf([]byte("rack"), index.NotEqual, []byte("r3"), nil)); err != nil {
				t.Error(err)
			}
			for id := uint64(1); id < 50; id++ {
				if k := ix.SeriesKey(id); k != nil && ix.SeriesID(k) != id {
					t.Errorf("SeriesID(SeriesKey(%d)) mismatch", id)
				}
			}
		}
	})
	wg.Wait()
	close(stop)
	rwg.Wait()

	seen := map[uint64]string{}
	for _, k := range keys {
		id := got[0][k]
		for w := 1; w < workers; w++ {
			if got[w][k] != id {
				t.Fatalf("%s: worker 0 got id %d, worker %d got %d", k, id, w, got[w][k])
			}
		}
		if other, dup := seen[id]; dup {
			t.Fatalf("id %d given to %s and %s", id, k, other)
		}
		seen[id] = k
	}
	if n := ix.SeriesCount(); n != nKeys {
		t.Fatalf("SeriesCount = %d, want %d", n, nKeys)
	}
	for id := range seen {
		if id < 1 || id > nKeys {
			t.Fatalf("id %d outside 1..%d: ids are sequential", id, nKeys)
		}
	}
}

func TestDropSeries(t *testing.T) {
	dir := t.TempDir()
	ix := openIndex(t, dir, index.Options{})
	ids := create(t, ix, "cpu,host=a,region=us", "cpu,host=b,region=us", "cpu,host=c,region=eu", "mem,host=a")
	if err := ix.DropSeries(bitmapOf(ids[2], ids[3], 77)); err != nil {
		t.Fatalf("DropSeries: %v", err)
	}
	check := func(ix *index.Index) {
		t.Helper()
		for _, k := range []string{"cpu,host=c,region=eu", "mem,host=a"} {
			if id := ix.SeriesID(spec(k).Key); id != 0 {
				t.Errorf("dropped %s still has id %d", k, id)
			}
		}
		if k := ix.SeriesKey(ids[2]); k != nil {
			t.Errorf("SeriesKey of dropped series = %q", k)
		}
		if got := strs(ix.MeasurementNames()); !cmp.Equal(got, []string{"cpu"}) {
			t.Errorf("MeasurementNames = %q", got)
		}
		if got := strs(ix.TagValues([]byte("cpu"), []byte("region"))); !cmp.Equal(got, []string{"us"}) {
			t.Errorf("region values = %q", got)
		}
		bm, _ := ix.Match([]byte("cpu"), index.NewLeaf([]byte("region"), index.NotEqual, []byte("us"), nil))
		if !bm.IsEmpty() {
			t.Errorf("region != us matches %v", bm.ToArray())
		}
		if ix.SeriesCount() != 2 || ix.MeasurementCount() != 1 {
			t.Errorf("counts %d series, %d measurements", ix.SeriesCount(), ix.MeasurementCount())
		}
	}
	check(ix)
	// Dropping again is a no-op.
	if err := ix.DropSeries(bitmapOf(ids[2])); err != nil {
		t.Fatal(err)
	}
	// A dropped series created again gets a new id: ids are never reused.
	again := create(t, ix, "mem,host=a")
	if again[0] <= ids[3] {
		t.Fatalf("re-created series got id %d, not above %d", again[0], ids[3])
	}
	if err := ix.DropSeries(bitmapOf(again[0])); err != nil {
		t.Fatal(err)
	}
	check(ix)
	want := dump(ix)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	// Survives a restart with the snapshot, and without it.
	ix2 := openIndex(t, dir, index.Options{})
	check(ix2)
	if got := dump(ix2); got != want {
		t.Errorf("after restart:\n%s\nwant:\n%s", got, want)
	}
	next := create(t, ix2, "disk")
	if next[0] <= again[0] {
		t.Errorf("id after restart %d, not above %d", next[0], again[0])
	}
	if err := ix2.DropSeries(bitmapOf(next[0])); err != nil {
		t.Fatal(err)
	}
	ix2.Close()
	if err := os.Remove(filepath.Join(dir, "index.snap")); err != nil {
		t.Fatal(err)
	}
	ix3 := openIndex(t, dir, index.Options{})
	check(ix3)
	if got := dump(ix3); got != want {
		t.Errorf("after restart without snapshot:\n%s\nwant:\n%s", got, want)
	}
	if last := create(t, ix3, "disk"); last[0] <= next[0] {
		t.Errorf("id after replay %d, not above the dropped %d", last[0], next[0])
	}
}

func TestDropMeasurement(t *testing.T) {
	ix := openIndex(t, t.TempDir(), index.Options{})
	create(t, ix, "cpu,host=a", "cpu,host=b", "mem,host=a")
	if err := ix.DropMeasurement([]byte("cpu")); err != nil {
		t.Fatal(err)
	}
	if err := ix.DropMeasurement([]byte("nope")); err != nil {
		t.Fatal(err)
	}
	if got := strs(ix.MeasurementNames()); !cmp.Equal(got, []string{"mem"}) {
		t.Errorf("MeasurementNames = %q", got)
	}
	if k := ix.TagKeys([]byte("cpu")); len(k) != 0 {
		t.Errorf("TagKeys of dropped measurement = %q", k)
	}
	ids := create(t, ix, "cpu,region=eu")
	if got := ix.MeasurementSeries([]byte("cpu")).ToArray(); !cmp.Equal(got, []uint32{uint32(ids[0])}) {
		t.Errorf("re-created measurement series = %v", got)
	}
	if got := strs(ix.TagKeys([]byte("cpu"))); !cmp.Equal(got, []string{"region"}) {
		t.Errorf("TagKeys = %q", got)
	}
}

// TestRestart checks that an index reopened from its snapshot, from the
// series file alone, and from a snapshot plus a series-file tail (a crash
// after a snapshot) answers exactly as the original did.
func TestRestart(t *testing.T) {
	dir := t.TempDir()
	ix := openIndex(t, dir, index.Options{})
	var specs []index.SeriesSpec
	for i := range 300 {
		tags := tsbsTags(i)[:3+i%7]
		name := []byte(fmt.Sprint("m", i%5))
		specs = append(specs, index.SeriesSpec{Key: models.AppendSeriesKey(nil, name, tags), Measurement: name, Tags: tags})
	}
	if err := ix.CreateSeries(specs); err != nil {
		t.Fatal(err)
	}
	if err := ix.DropSeries(bitmapOf(3, 4, 5, 100, 299)); err != nil {
		t.Fatal(err)
	}
	if err := ix.Snapshot(); err != nil {
		t.Fatal(err)
	}
	create(t, ix, "m1,extra=1", "m9,x=y")
	if err := ix.DropSeries(bitmapOf(7)); err != nil {
		t.Fatal(err)
	}
	want := dump(ix)
	crashed := copyDir(t, dir) // snapshot + tail
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name  string
		dir   string
		setup func(dir string)
	}{
		{"snapshot", dir, func(string) {}},
		{"snapshot+tail", crashed, func(string) {}},
		{"no snapshot", copyDir(t, dir), func(d string) { os.Remove(filepath.Join(d, "index.snap")) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup(tc.dir)
			ix := openIndex(t, tc.dir, index.Options{})
			if got := dump(ix); got != want {
				t.Errorf("answers differ after restart:\n%s", cmp.Diff(want, got))
			}
			if id := create(t, ix, "m0,new=1")[0]; id != 303 {
				t.Errorf("next id %d, want 303", id)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	t.Run("max-series-per-database", func(t *testing.T) {
		ix := openIndex(t, t.TempDir(), index.Options{MaxSeriesPerDatabase: 3})
		create(t, ix, "cpu,host=a")
		specs := []index.SeriesSpec{spec("cpu,host=a"), spec("cpu,host=b"), spec("cpu,host=c"), spec("cpu,host=d"), spec("cpu,host=e")}
		if err := ix.CreateSeries(specs); err != nil {
			t.Fatal(err)
		}
		for i, s := range specs {
			refused := i >= 3
			if refused != (s.Err != nil) || refused != (s.ID == 0) {
				t.Errorf("spec %s: id %d err %v", s.Key, s.ID, s.Err)
			}
		}
		err := specs[3].Err
		if got, want := fmt.Sprint(err), "max-series-per-database limit exceeded: (3)"; got != want {
			t.Errorf("error %q, want %q", got, want)
		}
		if !errors.Is(err, index.ErrMaxSeriesPerDatabase) {
			t.Errorf("error %v is not ErrMaxSeriesPerDatabase", err)
		}
		var le *index.LimitError
		if !errors.As(err, &le) {
			t.Errorf("error %T is not a *LimitError", err)
		}
		if err := ix.DropSeries(bitmapOf(1)); err != nil {
			t.Fatal(err)
		}
		create(t, ix, "cpu,host=d")
	})
	t.Run("max-values-per-tag", func(t *testing.T) {
		ix := openIndex(t, t.TempDir(), index.Options{MaxValuesPerTag: 2})
		// The values of series in the same call count before they are
		// durable.
		specs := []index.SeriesSpec{spec("cpu,host=a"), spec("cpu,host=b"), spec("cpu,host=c"), spec("cpu,host=a,region=x"), spec("mem,host=c")}
		if err := ix.CreateSeries(specs); err != nil {
			t.Fatal(err)
		}
		for i, s := range specs {
			if refused := i == 2; refused != (s.Err != nil) {
				t.Errorf("spec %s: id %d err %v", s.Key, s.ID, s.Err)
			}
		}
		want := `max-values-per-tag limit exceeded (2/2): measurement="cpu" tag="host" value="c"`
		if got := fmt.Sprint(specs[2].Err); got != want {
			t.Errorf("error %q, want %q", got, want)
		}
		if !errors.Is(specs[2].Err, index.ErrMaxValuesPerTag) {
			t.Errorf("error %v is not ErrMaxValuesPerTag", specs[2].Err)
		}
		// Dropping the only series of a value frees its place.
		if err := ix.DropSeries(bitmapOf(specs[1].ID)); err != nil {
			t.Fatal(err)
		}
		create(t, ix, "cpu,host=c")
	})
}

func TestStatistics(t *testing.T) {
	ix := openIndex(t, t.TempDir(), index.Options{})
	create(t, ix, "cpu,host=a", "cpu,host=b", "mem")
	st := ix.Statistics(map[string]string{"database": "db0"})
	if len(st) != 1 || st[0].Name != "database" || st[0].Tags["database"] != "db0" {
		t.Fatalf("Statistics = %+v", st)
	}
	if st[0].Values["numSeries"] != int64(3) || st[0].Values["numMeasurements"] != int64(2) {
		t.Errorf("values %v", st[0].Values)
	}
}

func TestClosed(t *testing.T) {
	ix, err := index.Open(osFS(), t.TempDir(), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	create(t, ix, "cpu")
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	specs := []index.SeriesSpec{spec("mem")}
	if err := ix.CreateSeries(specs); !errors.Is(err, index.ErrClosed) {
		t.Errorf("CreateSeries after Close: %v", err)
	}
	if err := ix.DropSeries(bitmapOf(1)); !errors.Is(err, index.ErrClosed) {
		t.Errorf("DropSeries after Close: %v", err)
	}
	if err := ix.Snapshot(); !errors.Is(err, index.ErrClosed) {
		t.Errorf("Snapshot after Close: %v", err)
	}
	// Existing series still resolve (the engine may race with Close).
	if ix.SeriesID([]byte("cpu")) != 1 {
		t.Error("SeriesID after Close")
	}
}

// TestBackgroundSnapshot makes the series file outgrow a tiny snapshot
// threshold and waits for the goroutine to write one.
func TestBackgroundSnapshot(t *testing.T) {
	dir := t.TempDir()
	ix := openIndex(t, dir, index.Options{SnapshotBytes: 1})
	snap := filepath.Join(dir, "index.snap")
	for i := 0; ; i++ {
		create(t, ix, fmt.Sprintf("cpu,host=h%d", i))
		if _, err := os.Stat(snap); err == nil {
			break
		}
		if i > 10000 {
			t.Fatal("no background snapshot")
		}
	}
}
