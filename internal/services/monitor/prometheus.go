package monitor

import (
	"bufio"
	"cmp"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stratadb/strata/internal/stats"
)

// PrometheusContentType is the Content-Type of WritePrometheus' output.
const PrometheusContentType = "text/plain; version=0.0.4; charset=utf-8"

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

// promSample is one line of a metric.
type promSample struct {
	labels string // rendered: `{a="b",c="d"}` or ""
	value  float64
}

type promMetric struct {
	gauge   bool
	help    string
	samples []promSample
	seen    map[string]bool // label sets already written
}

// WritePrometheus writes sts in the Prometheus text exposition format
// (see the package comment for the mapping). It returns the first write
// error.
func WritePrometheus(w io.Writer, sts []stats.Statistic) error {
	metrics := map[string]*promMetric{}
	// The same few statistic and value names repeat across statistics (one
	// "shard" per shard): convert each pair once.
	type nameKey struct{ stat, value string }
	names := map[nameKey]string{}
	var labelBuf strings.Builder
	for i := range sts {
		st := &sts[i]
		if st.Name == "" {
			continue
		}
		labels := renderLabels(&labelBuf, st.Tags)
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
			m := metrics[name]
			if m == nil {
				kind := "counter"
				if gauge {
					kind = "gauge"
				}
				m = &promMetric{gauge: gauge, seen: map[string]bool{},
					help: "Strata statistic " + st.Name + " value " + key + " (" + kind + ")."}
				metrics[name] = m
			}
			if m.seen[labels] {
				continue
			}
			m.seen[labels] = true
			m.samples = append(m.samples, promSample{labels: labels, value: f})
		}
	}

	sorted := make([]string, 0, len(metrics))
	for n := range metrics {
		sorted = append(sorted, n)
	}
	slices.Sort(sorted)
	bw := bufio.NewWriter(w)
	var num []byte
	for _, n := range sorted {
		m := metrics[n]
		slices.SortFunc(m.samples, func(a, b promSample) int { return cmp.Compare(a.labels, b.labels) })
		bw.WriteString("# HELP ")
		bw.WriteString(n)
		bw.WriteByte(' ')
		bw.WriteString(escapeHelp(m.help))
		bw.WriteString("\n# TYPE ")
		bw.WriteString(n)
		if m.gauge {
			bw.WriteString(" gauge\n")
		} else {
			bw.WriteString(" counter\n")
		}
		for _, s := range m.samples {
			bw.WriteString(n)
			bw.WriteString(s.labels)
			bw.WriteByte(' ')
			num = appendPromFloat(num[:0], s.value)
			bw.Write(num)
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
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

// appendPromFloat renders a sample value as the format spells it.
func appendPromFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "+Inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-Inf"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}

// renderLabels renders tags as a label set, keys converted and sorted. A
// key that converts to one already used is left out.
func renderLabels(b *strings.Builder, tags map[string]string) string {
	if len(tags) == 0 {
		return ""
	}
	keys := sortedKeys(tags)
	b.Reset()
	used := make(map[string]bool, len(keys))
	type pair struct{ k, v string }
	pairs := make([]pair, 0, len(keys))
	for _, k := range keys {
		name := labelName(k)
		if name == "" || used[name] {
			continue
		}
		used[name] = true
		pairs = append(pairs, pair{name, tags[k]})
	}
	if len(pairs) == 0 {
		return ""
	}
	slices.SortFunc(pairs, func(a, b pair) int { return cmp.Compare(a.k, b.k) })
	b.WriteByte('{')
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.k)
		b.WriteString(`="`)
		escapeLabelValue(b, p.v)
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
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

func escapeLabelValue(b *strings.Builder, v string) {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
}

func escapeHelp(s string) string {
	if !strings.ContainsAny(s, "\\\n") {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
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
