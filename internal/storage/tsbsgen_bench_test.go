package storage_test

// A TSBS cpu-only data generator for the storage benchmarks: the tag keys,
// tag value sets and field names of internal/bench (which follows TSBS),
// produced as models.Point directly so that no parsing is measured. It is
// not bench.Generator because the benchmarks need what that one does not
// do: series-major order, values without per-host state and tags built on
// the fly, so that a million hosts cost the generator next to nothing in
// the memory the benchmarks measure.

import (
	"math/bits"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/stratadb/strata/internal/bench"
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

// tsbsTagKeys are the TSBS tag keys sorted (the order the engine's series
// keys use): appendHostTags produces the values in this order.
func tsbsTagKeys() []string { return slices.Sorted(slices.Values(bench.TagKeys())) }

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
	reg := bench.Regions()[pick(len(bench.Regions()))]
	choose := func(b []byte, of []string) []byte { return append(b, of[pick(len(of))]...) }
	number := func(b []byte, below int) []byte { return strconv.AppendInt(b, int64(pick(below)), 10) }
	vals := [10]func(b []byte) []byte{ // in tsbsTagKeys order
		func(b []byte) []byte { return choose(b, bench.ArchChoices()) },
		func(b []byte) []byte { return append(b, reg[1+pick(len(reg)-1)]...) },
		func(b []byte) []byte { return strconv.AppendInt(append(b, "host_"...), int64(i), 10) }, // bench.HostName, without allocating
		func(b []byte) []byte { return choose(b, bench.OSChoices()) },
		func(b []byte) []byte { return number(b, bench.RackChoices) },
		func(b []byte) []byte { return append(b, reg[0]...) },
		func(b []byte) []byte { return number(b, bench.ServiceChoices) },
		func(b []byte) []byte { return choose(b, bench.EnvChoices()) },
		func(b []byte) []byte { return number(b, bench.ServiceVersionChoices) },
		func(b []byte) []byte { return choose(b, bench.TeamChoices()) },
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
	tagKeys, fieldNames := tsbsTagKeys(), bench.FieldNames()
	for k := range g.tagKeys {
		g.tagKeys[k] = []byte(tagKeys[k])
		g.fldKeys[k] = []byte(fieldNames[k])
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
