package monitor

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stratadb/strata/internal/stats"
)

// prometheusPrefix starts every metric name.
const prometheusPrefix = "strata_"

// runtimeGauges are the runtime values that go up and down; the others
// are cumulative.
var runtimeGauges = map[string]bool{
	"Alloc": true, "HeapAlloc": true, "HeapIdle": true, "HeapInUse": true, "HeapObjects": true,
	"HeapReleased": true, "HeapSys": true, "NumGoroutine": true, "Sys": true,
}

// sizeGauges are byte sizes of what exists now, unlike counts of bytes
// moved (writeReqBytes, queryRespBytes).
var sizeGauges = map[string]bool{
	"diskBytes": true, "memBytes": true, "cachedBytes": true,
	"currentSegmentDiskBytes": true, "oldSegmentsDiskBytes": true,
	"queueBytes": true, "queueLength": true,
}

// isGauge classifies a value of a statistic (see the package comment).
func isGauge(stat, value string) bool {
	if stat == "runtime" {
		return runtimeGauges[value]
	}
	return strings.HasPrefix(value, "num") || strings.HasSuffix(value, "Active") || sizeGauges[value]
}

// MetricsHandler serves GET /metrics: the statistics source returns (under
// metric names described in the package comment) together with the Go
// runtime's and the process's standard metrics, through client_golang's
// registry and exposition (text format 0.0.4, OpenMetrics or protobuf as
// the scraper asks, gzip when it accepts it).
func MetricsHandler(source func() []stats.Statistic) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		NewCollector(source),
	)
	// ContinueOnError: one statistic that cannot be exposed must not hide
	// the others from the scraper; it is left out and the rest is served.
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, EnableOpenMetrics: true})
}

// Collector is a prometheus.Collector over the server's statistics. It is
// unchecked (Describe sends nothing): the set of statistics changes as
// databases and shards come and go.
type Collector struct {
	source func() []stats.Statistic
}

// NewCollector returns a collector that calls source at every scrape.
func NewCollector(source func() []stats.Statistic) *Collector {
	return &Collector{source: source}
}

// Describe implements prometheus.Collector; see Collector.
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// promFamily is what a metric name was first given: a help text and a
// type must be the same for every sample of a name.
type promFamily struct {
	gauge bool
	help  string
	seen  map[string]bool // label sets already sent
	descs map[string]*prometheus.Desc
}

// Collect implements prometheus.Collector: one constant metric per
// numeric value of every statistic.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	sts := c.source()
	families := map[string]*promFamily{}
	// The same few statistic and value names repeat across statistics (one
	// "shard" per shard): convert each pair once.
	type nameKey struct{ stat, value string }
	names := map[nameKey]string{}
	var keyBuf strings.Builder
	for i := range sts {
		st := &sts[i]
		if st.Name == "" {
			continue
		}
		labelNames, labelValues := promLabels(st.Tags)
		keyBuf.Reset()
		for i := range labelNames {
			keyBuf.WriteString(labelNames[i])
			keyBuf.WriteByte(0)
			keyBuf.WriteString(labelValues[i])
			keyBuf.WriteByte(0)
		}
		labelKey := keyBuf.String()
		labelNamesKey := strings.Join(labelNames, "\x00")
		for key, v := range st.Values {
			f, ok := promValue(v)
			if !ok || key == "" {
				continue
			}
			gauge := isGauge(st.Name, key)
			nk := nameKey{st.Name, key}
			name, ok := names[nk]
			if !ok {
				name = prometheusPrefix + snakeCase(st.Name) + "_" + snakeCase(key)
				if !gauge {
					name += "_total"
				}
				names[nk] = name
			}
			fam := families[name]
			if fam == nil {
				kind := "counter"
				if gauge {
					kind = "gauge"
				}
				fam = &promFamily{gauge: gauge, seen: map[string]bool{}, descs: map[string]*prometheus.Desc{},
					help: "Strata statistic " + st.Name + " value " + key + " (" + kind + ")."}
				families[name] = fam
			}
			// A second statistic or value converting to the same name, or
			// the same series twice: the format forbids both; the first wins.
			if fam.gauge != gauge || fam.seen[labelKey] {
				continue
			}
			fam.seen[labelKey] = true
			desc := fam.descs[labelNamesKey]
			if desc == nil {
				desc = prometheus.NewDesc(name, fam.help, labelNames, nil)
				fam.descs[labelNamesKey] = desc
			}
			vt := prometheus.CounterValue
			if gauge {
				vt = prometheus.GaugeValue
			}
			m, err := prometheus.NewConstMetric(desc, vt, f, labelValues...)
			if err != nil {
				m = prometheus.NewInvalidMetric(desc, err)
			}
			ch <- m
		}
	}
}

// promLabels converts tags to label names (sorted, converted like metric
// names; a key that converts to one already used is left out) and their
// values (made valid UTF-8, which the format requires).
func promLabels(tags map[string]string) (names, values []string) {
	if len(tags) == 0 {
		return nil, nil
	}
	type pair struct{ k, v string }
	pairs := make([]pair, 0, len(tags))
	used := make(map[string]bool, len(tags))
	for _, k := range sortedKeys(tags) {
		name := labelName(k)
		if name == "" || used[name] {
			continue
		}
		used[name] = true
		pairs = append(pairs, pair{name, strings.ToValidUTF8(tags[k], "\uFFFD")})
	}
	slices.SortFunc(pairs, func(a, b pair) int { return cmp.Compare(a.k, b.k) })
	names = make([]string, len(pairs))
	values = make([]string, len(pairs))
	for i, p := range pairs {
		names[i], values[i] = p.k, p.v
	}
	return names, values
}

// promValue converts a statistic value to a sample value.
func promValue(v any) (float64, bool) {
	switch v := v.(type) {
	case int:
		return float64(v), true
	case int8:
		return float64(v), true
	case int16:
		return float64(v), true
	case int32:
		return float64(v), true
	case int64:
		return float64(v), true
	case uint:
		return float64(v), true
	case uint8:
		return float64(v), true
	case uint16:
		return float64(v), true
	case uint32:
		return float64(v), true
	case uint64:
		return float64(v), true
	case float32:
		return float64(v), true
	case float64:
		return v, true
	case bool:
		if v {
			return 1, true
		}
		return 0, true
	case time.Duration:
		return float64(v), true
	}
	return 0, false
}

// labelName converts a tag key to a valid label name that is not reserved
// (names starting with "__" are Prometheus'); "" when nothing is left.
func labelName(k string) string {
	n := snakeCase(k)
	switch {
	case n == "":
		return ""
	case n[0] >= '0' && n[0] <= '9':
		n = "_" + n
	}
	if strings.HasPrefix(n, "__") {
		n = "tag" + n
	}
	return n
}

// snakeCase converts a camelCase name to snake_case and replaces every
// byte outside [a-zA-Z0-9_] with '_': "pointsWrittenOK" →
// "points_written_ok", "HeapInUse" → "heap_in_use", "tsm1_engine" stays.
func snakeCase(s string) string {
	b := make([]byte, 0, len(s)+4)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			if i > 0 {
				p := s[i-1]
				lowerBefore := p >= 'a' && p <= 'z' || p >= '0' && p <= '9'
				acronymEnd := p >= 'A' && p <= 'Z' && i+1 < len(s) && s[i+1] >= 'a' && s[i+1] <= 'z'
				if (lowerBefore || acronymEnd) && b[len(b)-1] != '_' {
					b = append(b, '_')
				}
			}
			b = append(b, c+'a'-'A')
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_':
			b = append(b, c)
		default:
			b = append(b, '_')
		}
	}
	return string(b)
}
