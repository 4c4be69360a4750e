package monitor_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/stratadb/strata/internal/stats"
)

var (
	metricLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\[\\"n]|[^"\\\n])*",?)*\})? (NaN|[+-]Inf|-?[0-9.e+-]+)$`)
	typeLine   = regexp.MustCompile(`^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge)$`)
	helpLine   = regexp.MustCompile(`^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) `)
)

// FuzzCollector: whatever the names, tags and values, a pedantic registry
// accepts every metric the collector sends, and the exposition text is
// valid: every line is a HELP, a TYPE or a sample; every sample follows its
// metric's TYPE line; no label is reserved; and the format's own parser
// reads it back.
func FuzzCollector(f *testing.F) {
	f.Add("httpd", "bind", ":8086", "req", 1.0)
	f.Add("shard", "__name__", "x\ny\"z\\", "numSeries", -0.5)
	f.Add("", "", "", "", 0.0)
	f.Add("a b\nc", "9", "\xff", "HeapInUse", 1e300)
	f.Fuzz(func(t *testing.T, name, tagKey, tagVal, valKey string, v float64) {
		sts := []stats.Statistic{
			{Name: name, Tags: map[string]string{tagKey: tagVal, "host": "h"}, Values: map[string]any{valKey: v, "n": int64(1)}},
			{Name: name, Values: map[string]any{valKey: true}},
		}
		text := exposition(t, sts)
		// The legacy scheme: names must be valid for every scraper, not
		// only the ones that accept UTF-8 names.
		parser := expfmt.NewTextParser(model.LegacyValidation)
		if _, err := parser.TextToMetricFamilies(strings.NewReader(text)); err != nil {
			t.Fatalf("exposition does not parse: %v\n%s", err, text)
		}
		typed := map[string]bool{}
		for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
			if line == "" {
				continue
			}
			if m := typeLine.FindStringSubmatch(line); m != nil {
				if typed[m[1]] {
					t.Fatalf("second TYPE line for %s", m[1])
				}
				typed[m[1]] = true
				continue
			}
			if helpLine.MatchString(line) {
				continue
			}
			m := metricLine.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("invalid line %q in:\n%s", line, text)
			}
			if !typed[m[1]] {
				t.Fatalf("sample before its TYPE line: %q", line)
			}
			if strings.Contains(line, "{__") || strings.Contains(line, ",__") {
				t.Fatalf("reserved label name: %q", line)
			}
		}
	})
}
