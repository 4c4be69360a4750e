package bench

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/stratadb/strata/internal/lineprotocol"
	"github.com/stratadb/strata/internal/models"
)

func testDataset(hosts int, d time.Duration) Dataset {
	return Dataset{Hosts: hosts, Start: DefaultStart(), Duration: d, Interval: DefaultInterval, Seed: 1}
}

// generate returns the whole data set, produced n lines at a time.
func generate(t testing.TB, ds Dataset, n int) []byte {
	t.Helper()
	g, err := NewGenerator(ds)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for !g.Done() {
		var k int
		out, k = g.Next(out, n)
		if k == 0 {
			t.Fatal("Next returned no lines before Done")
		}
	}
	if got, want := g.Produced(), ds.Points(); got != want {
		t.Fatalf("Produced() = %d, want %d", got, want)
	}
	return out
}

// TestGeneratorGolden pins the bytes of the data set: a change to the
// generator changes every published benchmark, so it must be deliberate.
func TestGeneratorGolden(t *testing.T) {
	for _, tc := range []struct {
		float bool
		want  uint64
	}{
		{false, 0xa73f3505a078dc12},
		{true, 0xd92985a973ba48d},
	} {
		t.Run(fieldKind(tc.float), func(t *testing.T) {
			ds := testDataset(10, time.Hour)
			ds.Float = tc.float
			out := generate(t, ds, 1000)
			first := bytes.SplitAfterN(out, []byte("\n"), 1001)
			got := xxhash.Sum64(bytes.Join(first[:1000], nil))
			if got != tc.want {
				t.Fatalf("hash of the first 1000 lines = %#x, want %#x; first line:\n%s", got, tc.want, first[0])
			}
		})
	}
}

func TestGeneratorFirstLine(t *testing.T) {
	out := generate(t, testDataset(1, DefaultInterval), 10)
	want := "cpu,hostname=host_0,region=ap-southeast-1,datacenter=ap-southeast-1a,rack=50,os=Ubuntu16.10,arch=x86,team=SF," +
		"service=14,service_version=1,service_environment=test usage_user=85i,usage_system=48i,usage_idle=78i,usage_nice=99i," +
		"usage_iowait=49i,usage_irq=76i,usage_softirq=3i,usage_steal=38i,usage_guest=0i,usage_guest_nice=90i 1451606400000000000\n"
	if string(out) != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
}

func TestGeneratorDeterministicAndBatchIndependent(t *testing.T) {
	ds := testDataset(7, 30*time.Minute)
	a := generate(t, ds, 1)
	b := generate(t, ds, 5000)
	c := generate(t, ds, 13)
	if !bytes.Equal(a, b) || !bytes.Equal(a, c) {
		t.Fatal("the bytes depend on the batch size")
	}
	ds.Seed = 2
	if bytes.Equal(a, generate(t, ds, 100)) {
		t.Fatal("seed 2 gave the same data as seed 1")
	}
}

// A host's lines do not depend on how many hosts the set has.
func TestGeneratorHostIndependence(t *testing.T) {
	small := generate(t, testDataset(3, 10*time.Minute), 100)
	large := generate(t, testDataset(50, 10*time.Minute), 100)
	pick := func(b []byte, host string) []string {
		var out []string
		for line := range strings.Lines(string(b)) {
			if strings.Contains(line, "hostname="+host+",") {
				out = append(out, line)
			}
		}
		return out
	}
	for _, h := range []string{"host_0", "host_1", "host_2"} {
		if a, b := pick(small, h), pick(large, h); !slices.Equal(a, b) || len(a) != 60 {
			t.Fatalf("%s: %d lines in the small set, %d in the large, equal %v", h, len(a), len(b), slices.Equal(a, b))
		}
	}
}

func TestGeneratorParses(t *testing.T) {
	for _, float := range []bool{false, true} {
		t.Run(fieldKind(float), func(t *testing.T) {
			ds := testDataset(12, 20*time.Minute)
			ds.Float = float
			out := generate(t, ds, 5000)
			var p lineprotocol.Parser
			points, errs := p.Parse(out, lineprotocol.Nanosecond, 0)
			if len(errs) > 0 {
				t.Fatalf("%d lines do not parse; first: %v", len(errs), errs[0])
			}
			if int64(len(points)) != ds.Points() {
				t.Fatalf("%d points, want %d", len(points), ds.Points())
			}
			wantType := models.Integer
			if float {
				wantType = models.Float
			}
			allowed := tagValues()
			var last int64
			hosts := map[string]bool{}
			for i := range points {
				pt := &points[i]
				if string(pt.Measurement) != Measurement || len(pt.Tags) != 10 || len(pt.Fields) != FieldsPerPoint {
					t.Fatalf("point %d: %s with %d tags, %d fields", i, pt.Measurement, len(pt.Tags), len(pt.Fields))
				}
				if pt.Time < last {
					t.Fatalf("point %d: time %d before %d: not in time order", i, pt.Time, last)
				}
				last = pt.Time
				if i%ds.Hosts == 0 && pt.Time != ds.Start.Add(time.Duration(i/ds.Hosts)*ds.Interval).UnixNano() {
					t.Fatalf("point %d: time %d is not epoch %d", i, pt.Time, i/ds.Hosts)
				}
				for _, tag := range pt.Tags {
					key, val := string(tag.Key), string(tag.Value)
					if key == "hostname" {
						hosts[val] = true
						continue
					}
					if !allowed[key][val] {
						t.Fatalf("point %d: tag %s=%s is not in the value set", i, key, val)
					}
				}
				for _, f := range pt.Fields {
					var v float64
					if f.Type != wantType {
						t.Fatalf("point %d: field %s has type %v, want %v", i, f.Key, f.Type, wantType)
					}
					if float {
						v = f.Float()
					} else {
						v = float64(f.Integer())
					}
					if v < 0 || v > 100 {
						t.Fatalf("point %d: field %s = %v outside 0..100", i, f.Key, v)
					}
				}
			}
			if len(hosts) != ds.Hosts {
				t.Fatalf("%d distinct hosts, want %d", len(hosts), ds.Hosts)
			}
		})
	}
}

// tagValues is every allowed value of every tag but hostname.
func tagValues() map[string]map[string]bool {
	m := map[string]map[string]bool{}
	add := func(k string, vs ...string) {
		if m[k] == nil {
			m[k] = map[string]bool{}
		}
		for _, v := range vs {
			m[k][v] = true
		}
	}
	for _, r := range Regions() {
		add("region", r[0])
		add("datacenter", r[1:]...)
	}
	for i := range RackChoices {
		add("rack", fmt.Sprint(i))
	}
	for i := range ServiceChoices {
		add("service", fmt.Sprint(i))
	}
	add("service_version", "0", "1")
	add("os", OSChoices()...)
	add("arch", ArchChoices()...)
	add("team", TeamChoices()...)
	add("service_environment", EnvChoices()...)
	return m
}

// The walks move: over a simulated day the values change most of the time
// and reach above 90 somewhere (high-cpu-1 must have something to find),
// for both kinds of field.
func TestGeneratorWalks(t *testing.T) {
	for _, float := range []bool{false, true} {
		ds := testDataset(4, 24*time.Hour)
		ds.Float = float
		changes, high, steps := 0, 0, 0
		for i := range ds.Hosts {
			h := newHost(&ds, i)
			for range ds.Epochs() {
				before := h.ints[0]
				beforeF := h.floats[0]
				if float {
					h.stepFloats()
				} else {
					h.stepInts()
				}
				steps++
				if h.ints[0] != before || h.floats[0] != beforeF {
					changes++
				}
				if h.ints[0] > 90 || h.floats[0] > 90 {
					high++
				}
				for f := range FieldsPerPoint {
					if h.ints[f] < 0 || h.ints[f] > 100 || h.floats[f] < 0 || h.floats[f] > 100 {
						t.Fatalf("field %d left 0..100: %d %v", f, h.ints[f], h.floats[f])
					}
				}
			}
		}
		if changes < steps/2 || high == 0 {
			t.Fatalf("float %v: %d of %d steps changed the value, %d above 90: the walk does not move", float, changes, steps, high)
		}
	}
}

func TestDatasetValidate(t *testing.T) {
	ok := testDataset(1, time.Minute)
	for _, tc := range []struct {
		name string
		edit func(*Dataset)
	}{
		{"no hosts", func(d *Dataset) { d.Hosts = 0 }},
		{"zero interval", func(d *Dataset) { d.Interval = 0 }},
		{"duration below interval", func(d *Dataset) { d.Duration = time.Second }},
		{"start at epoch", func(d *Dataset) { d.Start = time.Unix(0, 0) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := ok
			tc.edit(&d)
			if err := d.Validate(); !errors.Is(err, ErrInvalidDataset) {
				t.Fatalf("Validate() = %v, want ErrInvalidDataset", err)
			}
			if _, err := NewGenerator(d); !errors.Is(err, ErrInvalidDataset) {
				t.Fatalf("NewGenerator() = %v, want ErrInvalidDataset", err)
			}
		})
	}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	d := testDataset(4000, 25*time.Second) // not a whole number of intervals
	if d.Epochs() != 3 || d.Points() != 12000 || d.Values() != 120000 || !d.End().Equal(d.Start.Add(30*time.Second)) {
		t.Fatalf("epochs %d points %d values %d end %v", d.Epochs(), d.Points(), d.Values(), d.End())
	}
}
