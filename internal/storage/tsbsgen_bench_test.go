package storage_test

// A TSBS cpu-only data generator for the storage benchmarks: the tags and
// value sets of internal/bench (which follows TSBS), produced as
// models.Point directly so that no parsing is measured.

import (
	"math/bits"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/stratadb/strata/internal/models"
)

const (
	benchBatch    = 5000
	benchInterval = int64(10 * time.Second)
	benchDB       = "db"
	benchRP       = "autogen"
	benchShard    = 1
)

func benchEnvInt(name string, def int64) int64 {
	if s := os.Getenv(name); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
			return n
		}
	}
	return def
}

// TSBS cpu-only tag keys, sorted (the order the engine's series keys use),
// and value sets (as internal/bench, which follows TSBS).
var (
	tsbsTagKeys = [10]string{"arch", "datacenter", "hostname", "os", "rack", "region", "service",
		"service_environment", "service_version", "team"}
	tsbsFieldKeys = [10]string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
		"usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}
	tsbsRegions = [][]string{
		{"us-east-1", "us-east-1a", "us-east-1b", "us-east-1c", "us-east-1e"},
		{"us-west-1", "us-west-1a", "us-west-1b"},
		{"us-west-2", "us-west-2a", "us-west-2b", "us-west-2c"},
		{"eu-west-1", "eu-west-1a", "eu-west-1b", "eu-west-1c"},
		{"eu-central-1", "eu-central-1a", "eu-central-1b"},
		{"ap-southeast-1", "ap-southeast-1a", "ap-southeast-1b"},
		{"ap-southeast-2", "ap-southeast-2a", "ap-southeast-2b"},
		{"ap-northeast-1", "ap-northeast-1a", "ap-northeast-1c"},
		{"sa-east-1", "sa-east-1a", "sa-east-1b", "sa-east-1c"},
	}
)

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// appendHostTags appends the ten tag values of host i, in tsbsTagKeys
// order, each followed by its end offset in ends.
func appendHostTags(dst []byte, ends *[10]int, i int) []byte {
	r := splitmix(uint64(i) + 1)
	pick := func(n int) int {
		hi, lo := bits.Mul64(r, uint64(n))
		r = splitmix(lo ^ r)
		return int(hi)
	}
	reg := tsbsRegions[pick(len(tsbsRegions))]
	vals := [10]func(b []byte) []byte{
		func(b []byte) []byte { return append(b, []string{"x64", "x86"}[pick(2)]...) },
		func(b []byte) []byte { return append(b, reg[1+pick(len(reg)-1)]...) },
		func(b []byte) []byte { return strconv.AppendInt(append(b, "host_"...), int64(i), 10) },
		func(b []byte) []byte {
			return append(b, []string{"Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"}[pick(3)]...)
		},
		func(b []byte) []byte { return strconv.AppendInt(b, int64(pick(100)), 10) },
		func(b []byte) []byte { return append(b, reg[0]...) },
		func(b []byte) []byte { return strconv.AppendInt(b, int64(pick(20)), 10) },
		func(b []byte) []byte { return append(b, []string{"production", "staging", "test"}[pick(3)]...) },
		func(b []byte) []byte { return strconv.AppendInt(b, int64(pick(2)), 10) },
		func(b []byte) []byte { return append(b, []string{"SF", "NYC", "LON", "CHI"}[pick(4)]...) },
	}
	for k, f := range vals {
		dst = f(dst)
		ends[k] = len(dst)
	}
	return dst
}

// tsbsGen produces the points of the data set in TSBS order: every host at
// one time, then every host at the next. It reuses its buffers: a batch is
// valid until the next call.
type tsbsGen struct {
	hosts    int
	epoch    int64
	next     int
	start    int64
	walk     [][10]int64 // per host; nil: values derived from the time (no state)
	rng      uint64
	tagKeys  [10][]byte
	fldKeys  [10][]byte
	hostTags [][]models.Tag // per host when cached (≤ 100k hosts)

	// seriesMajor produces every epoch of host 0, then of host 1, … (the
	// same points in another order).
	seriesMajor bool

	pts    []models.Point
	tags   []models.Tag
	fields []models.Field
	arena  []byte
}

func newTSBSGen(hosts int, walk bool) *tsbsGen {
	g := &tsbsGen{hosts: hosts, start: time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(), rng: 1}
	for k := range g.tagKeys {
		g.tagKeys[k] = []byte(tsbsTagKeys[k])
		g.fldKeys[k] = []byte(tsbsFieldKeys[k])
	}
	if walk {
		g.walk = make([][10]int64, hosts)
		for i := range g.walk {
			for f := range g.walk[i] {
				g.walk[i][f] = int64(g.rand() % 101)
			}
		}
	}
	if hosts <= 100_000 {
		g.hostTags = make([][]models.Tag, hosts)
		var ends [10]int
		for i := range g.hostTags {
			b := appendHostTags(nil, &ends, i)
			g.hostTags[i] = g.makeTags(nil, b, &ends)
		}
	}
	return g
}

func (g *tsbsGen) rand() uint64 {
	g.rng = splitmix(g.rng)
	return g.rng
}

func (g *tsbsGen) makeTags(dst []models.Tag, b []byte, ends *[10]int) []models.Tag {
	from := 0
	for k := range 10 {
		dst = append(dst, models.Tag{Key: g.tagKeys[k], Value: b[from:ends[k]:ends[k]]})
		from = ends[k]
	}
	return dst
}

// batch returns the next n points (fewer at the end of epochs limit).
func (g *tsbsGen) batch(n int, epochs int64) []models.Point {
	g.pts, g.tags, g.fields = g.pts[:0], g.tags[:0], g.fields[:0]
	if g.hostTags == nil {
		g.arena = slices.Grow(g.arena[:0], n*160)
	}
	// First pass: tags and fields into flat buffers (which must not move
	// once points point into them).
	type span struct {
		host int
		t    int64
	}
	var spans []span
	for len(spans) < n && g.epoch < epochs && g.next < g.hosts {
		spans = append(spans, span{g.next, g.start + g.epoch*benchInterval})
		switch {
		case g.seriesMajor:
			if g.epoch++; g.epoch == epochs {
				g.epoch, g.next = 0, g.next+1
			}
		default:
			if g.next++; g.next == g.hosts {
				g.next, g.epoch = 0, g.epoch+1
			}
		}
	}
	g.tags = slices.Grow(g.tags, 10*len(spans))
	g.fields = slices.Grow(g.fields, 10*len(spans))
	for _, sp := range spans {
		t0 := len(g.tags)
		if g.hostTags != nil {
			g.tags = append(g.tags, g.hostTags[sp.host]...)
		} else {
			var ends [10]int
			base := len(g.arena)
			g.arena = appendHostTags(g.arena, &ends, sp.host)
			from := base
			for k := range 10 {
				g.tags = append(g.tags, models.Tag{Key: g.tagKeys[k], Value: g.arena[from:ends[k]:ends[k]]})
				from = ends[k]
			}
		}
		f0 := len(g.fields)
		if g.walk != nil {
			w := &g.walk[sp.host]
			x := g.rand()
			for f := range w {
				w[f] = min(max(w[f]+int64(bits.OnesCount64(x&0xf))-2, 0), 100)
				x >>= 4
				g.fields = append(g.fields, models.IntegerField(g.fldKeys[f], w[f]))
			}
		} else {
			for f := range 10 {
				g.fields = append(g.fields, models.IntegerField(g.fldKeys[f], int64((uint64(sp.t/benchInterval)+uint64(f))%101)))
			}
		}
		g.pts = append(g.pts, models.Point{
			Measurement: []byte("cpu"),
			Tags:        g.tags[t0:len(g.tags):len(g.tags)],
			Fields:      g.fields[f0:len(g.fields):len(g.fields)],
			Time:        sp.t,
		})
	}
	return g.pts
}

// lineBytes is the size of the points as line protocol (for SetBytes).
func lineBytes(pts []models.Point) int64 {
	n := int64(0)
	for i := range pts {
		p := &pts[i]
		n += int64(len(p.Measurement)) + 20 // the timestamp, spaces, newline
		for _, t := range p.Tags {
			n += int64(len(t.Key) + len(t.Value) + 2)
		}
		for _, f := range p.Fields {
			n += int64(len(f.Key)) + 4 // "=", a value of ~2 digits, "i", ","
		}
	}
	return n
}

// clonePoints deep-copies points whose slices the generator will reuse.
func clonePoints(src []models.Point) []models.Point {
	out := make([]models.Point, len(src))
	tags := make([]models.Tag, 0, 10*len(src))
	fields := make([]models.Field, 0, 10*len(src))
	for i, p := range src {
		t0, f0 := len(tags), len(fields)
		tags = append(tags, p.Tags...)
		fields = append(fields, p.Fields...)
		out[i] = models.Point{Measurement: p.Measurement, Tags: tags[t0:len(tags):len(tags)], Fields: fields[f0:len(fields):len(fields)], Time: p.Time}
	}
	return out
}
