package bench

import (
	"fmt"
	"math/bits"
	"strconv"
	"time"
)

// DefaultInterval is the time between two points of one host (TSBS's
// log-interval).
const DefaultInterval = 10 * time.Second

// FieldsPerPoint is the number of fields of every cpu point.
const FieldsPerPoint = 10

// Measurement is the one measurement of the data set.
const Measurement = "cpu"

// DefaultStart is the time of the first point unless told otherwise: TSBS's
// default start, midnight UTC on 2016-01-01.
func DefaultStart() time.Time { return time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC) }

// FieldNames returns the cpu field keys in the order every line carries
// them.
func FieldNames() [FieldsPerPoint]string {
	return [FieldsPerPoint]string{
		"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
		"usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice",
	}
}

// TagKeys returns the host tag keys in the order every line carries them
// (TSBS's order, not sorted: sorting is the server's job).
func TagKeys() []string {
	return []string{"hostname", "region", "datacenter", "rack", "os", "arch", "team",
		"service", "service_version", "service_environment"}
}

// Regions lists each region with its datacenters (the region first).
func Regions() [][]string {
	return [][]string{
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
}

// Value sets of the other tags; racks, services and service versions are
// numbers below these bounds.
const (
	RackChoices           = 100
	ServiceChoices        = 20
	ServiceVersionChoices = 2
)

// OSChoices, ArchChoices, TeamChoices and EnvChoices are the values of the
// os, arch, team and service_environment tags.
func OSChoices() []string   { return []string{"Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"} }
func ArchChoices() []string { return []string{"x64", "x86"} }
func TeamChoices() []string { return []string{"SF", "NYC", "LON", "CHI"} }
func EnvChoices() []string  { return []string{"production", "staging", "test"} }

// Dataset describes one cpu-only data set. Two equal Datasets generate the
// same bytes.
type Dataset struct {
	// Hosts is the number of simulated hosts (TSBS's scale).
	Hosts int `json:"hosts"`
	// Start is the time of the first point.
	Start time.Time `json:"start"`
	// Duration is the simulated span; the points are at Start,
	// Start+Interval, … while before Start+Duration.
	Duration time.Duration `json:"duration_ns"`
	// Interval is the time between two points of one host.
	Interval time.Duration `json:"interval_ns"`
	// Seed selects the random walks and tag values.
	Seed uint64 `json:"seed"`
	// Float writes float fields instead of integer ones.
	Float bool `json:"float"`
}

// Validate reports whether the data set can be generated.
func (d Dataset) Validate() error {
	switch {
	case d.Hosts <= 0:
		return fmt.Errorf("%w: hosts must be positive, got %d", ErrInvalidDataset, d.Hosts)
	case d.Interval <= 0:
		return fmt.Errorf("%w: interval must be positive, got %v", ErrInvalidDataset, d.Interval)
	case d.Duration < d.Interval:
		return fmt.Errorf("%w: duration %v is shorter than the interval %v", ErrInvalidDataset, d.Duration, d.Interval)
	case d.Start.UnixNano() <= 0 || d.End().Before(d.Start):
		return fmt.Errorf("%w: start %v and duration %v leave the supported time range", ErrInvalidDataset, d.Start, d.Duration)
	}
	return nil
}

// Epochs returns the number of timestamps: Duration/Interval rounded up.
func (d Dataset) Epochs() int64 {
	if d.Interval <= 0 {
		return 0
	}
	return int64((d.Duration + d.Interval - 1) / d.Interval)
}

// Points returns the number of points (lines) in the set.
func (d Dataset) Points() int64 { return d.Epochs() * int64(d.Hosts) }

// Values returns the number of field values in the set.
func (d Dataset) Values() int64 { return d.Points() * FieldsPerPoint }

// End returns the exclusive end of the set's time range: one interval
// after the last point.
func (d Dataset) End() time.Time { return d.Start.Add(time.Duration(d.Epochs()) * d.Interval) }

// HostName returns the hostname tag of host i.
func HostName(i int) string { return "host_" + strconv.Itoa(i) }

// host is the simulation state of one host.
type host struct {
	prefix []byte // "cpu,hostname=…,service_environment=… "
	r      rng
	ints   [FieldsPerPoint]int64
	floats [FieldsPerPoint]float64
}

func newHost(ds *Dataset, i int) host {
	h := host{r: newRNG(ds.Seed, uint64(i))}
	reg := Regions()[h.r.intn(len(Regions()))]
	tags := [...]string{
		HostName(i),
		reg[0],
		reg[1+h.r.intn(len(reg)-1)],
		strconv.Itoa(h.r.intn(RackChoices)),
		OSChoices()[h.r.intn(len(OSChoices()))],
		ArchChoices()[h.r.intn(len(ArchChoices()))],
		TeamChoices()[h.r.intn(len(TeamChoices()))],
		strconv.Itoa(h.r.intn(ServiceChoices)),
		strconv.Itoa(h.r.intn(ServiceVersionChoices)),
		EnvChoices()[h.r.intn(len(EnvChoices()))],
	}
	h.prefix = append(h.prefix, Measurement...)
	for k, key := range TagKeys() {
		h.prefix = append(h.prefix, ',')
		h.prefix = append(h.prefix, key...)
		h.prefix = append(h.prefix, '=')
		h.prefix = append(h.prefix, tags[k]...)
	}
	h.prefix = append(h.prefix, ' ')
	for f := range FieldsPerPoint {
		if ds.Float {
			h.floats[f] = float64(h.r.float01() * 100)
		} else {
			h.ints[f] = int64(h.r.intn(101))
		}
	}
	return h
}

// stepInts advances every integer walk by a step in -2..2 (a binomial
// distribution with variance 1: the popcount of four random bits, minus
// two), clamped to 0..100. One random draw serves all ten fields.
func (h *host) stepInts() {
	x := h.r.next()
	for f := range h.ints {
		v := h.ints[f] + int64(bits.OnesCount64(x&0xf)) - 2
		h.ints[f] = min(max(v, 0), 100)
		x >>= 4
	}
}

// irwinHallScale turns the sum of four 16-bit uniforms, centred, into a
// step of variance 1: each uniform on [0, 2^16) has variance 2^32/12, so
// the sum has 2^32/3 and the scale is sqrt(3)/2^16.
const irwinHallScale = 1.7320508075688772 / 65536

// irwinHallMean is the mean of that sum: four times 65535/2.
const irwinHallMean = 4 * 65535.0 / 2

// stepFloats advances every float walk by an approximately normal step
// (Irwin–Hall of four uniforms, variance 1), clamped to 0..100. The
// explicit conversions forbid fused multiply-add, so every platform rounds
// the same way.
func (h *host) stepFloats() {
	for f := range h.floats {
		x := h.r.next()
		s := x&0xffff + x>>16&0xffff + x>>32&0xffff + x>>48
		step := float64((float64(s) - irwinHallMean) * irwinHallScale)
		v := float64(h.floats[f] + step)
		h.floats[f] = min(max(v, 0), 100)
	}
}

// Generator produces the lines of a Dataset in order. It is not safe for
// concurrent use.
type Generator struct {
	ds    Dataset
	hosts []host
	keys  [FieldsPerPoint][]byte // "usage_user=", ",usage_system=", …
	epoch int64                  // epoch of the next line
	next  int                    // host of the next line
	ts    []byte                 // " <timestamp>\n" of the current epoch
}

// NewGenerator returns a generator positioned at the first line.
func NewGenerator(ds Dataset) (*Generator, error) {
	if err := ds.Validate(); err != nil {
		return nil, err
	}
	g := &Generator{ds: ds, hosts: make([]host, ds.Hosts)}
	for i := range g.hosts {
		g.hosts[i] = newHost(&g.ds, i)
	}
	for f, name := range FieldNames() {
		if f > 0 {
			g.keys[f] = append(g.keys[f], ',')
		}
		g.keys[f] = append(g.keys[f], name...)
		g.keys[f] = append(g.keys[f], '=')
	}
	g.setEpoch(0)
	return g, nil
}

// Dataset returns the data set being generated.
func (g *Generator) Dataset() Dataset { return g.ds }

// Done reports whether every line has been produced.
func (g *Generator) Done() bool { return g.epoch >= g.ds.Epochs() }

// Produced returns the number of lines produced so far.
func (g *Generator) Produced() int64 { return g.epoch*int64(g.ds.Hosts) + int64(g.next) }

func (g *Generator) setEpoch(e int64) {
	g.epoch, g.next = e, 0
	t := g.ds.Start.Add(time.Duration(e) * g.ds.Interval).UnixNano()
	g.ts = append(g.ts[:0], ' ')
	g.ts = strconv.AppendInt(g.ts, t, 10)
	g.ts = append(g.ts, '\n')
}

// Next appends up to n lines to dst and returns the extended buffer and
// the number of lines appended, which is 0 only once Done.
func (g *Generator) Next(dst []byte, n int) ([]byte, int) {
	written := 0
	for written < n && !g.Done() {
		h := &g.hosts[g.next]
		dst = append(dst, h.prefix...)
		for f := range FieldsPerPoint {
			dst = append(dst, g.keys[f]...)
			if g.ds.Float {
				dst = strconv.AppendFloat(dst, h.floats[f], 'f', -1, 64)
			} else {
				dst = strconv.AppendInt(dst, h.ints[f], 10)
				dst = append(dst, 'i')
			}
		}
		dst = append(dst, g.ts...)
		if g.ds.Float {
			h.stepFloats()
		} else {
			h.stepInts()
		}
		written++
		if g.next++; g.next == len(g.hosts) {
			g.setEpoch(g.epoch + 1)
		}
	}
	return dst, written
}
