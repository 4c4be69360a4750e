package monitor

import (
	"bytes"
	"cmp"
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/stats"
)

// RuntimeStatistic returns Go's memory statistics as 1.x's "runtime"
// statistic.
func RuntimeStatistic() stats.Statistic {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return stats.Statistic{Name: "runtime", Tags: map[string]string{}, Values: map[string]any{
		"Alloc":        int64(ms.Alloc),
		"Frees":        int64(ms.Frees),
		"HeapAlloc":    int64(ms.HeapAlloc),
		"HeapIdle":     int64(ms.HeapIdle),
		"HeapInUse":    int64(ms.HeapInuse),
		"HeapObjects":  int64(ms.HeapObjects),
		"HeapReleased": int64(ms.HeapReleased),
		"HeapSys":      int64(ms.HeapSys),
		"Lookups":      int64(ms.Lookups),
		"Mallocs":      int64(ms.Mallocs),
		"NumGC":        int64(ms.NumGC),
		"NumGoroutine": int64(runtime.NumGoroutine()),
		"PauseTotalNs": int64(ms.PauseTotalNs),
		"Sys":          int64(ms.Sys),
		"TotalAlloc":   int64(ms.TotalAlloc),
	}}
}

// Points turns statistics into points at time at: measurement = name, tags
// = tags sorted by key (empty values left out), fields = the values that
// line protocol can hold, sorted by key (see the package comment for the
// types). A statistic without such a value, or without a name, gives no
// point. The points own their bytes.
func Points(sts []stats.Statistic, at time.Time) []models.Point {
	out := make([]models.Point, 0, len(sts))
	ns := at.UnixNano()
	for i := range sts {
		st := &sts[i]
		if st.Name == "" {
			continue
		}
		fields := make([]models.Field, 0, len(st.Values))
		for k, v := range st.Values {
			if f, ok := field(k, v); ok {
				fields = append(fields, f)
			}
		}
		if len(fields) == 0 {
			continue
		}
		slices.SortFunc(fields, func(a, b models.Field) int { return bytes.Compare(a.Key, b.Key) })
		tags := make([]models.Tag, 0, len(st.Tags))
		for k, v := range st.Tags {
			if k == "" || v == "" {
				continue
			}
			tags = append(tags, models.Tag{Key: []byte(k), Value: []byte(v)})
		}
		slices.SortFunc(tags, func(a, b models.Tag) int { return bytes.Compare(a.Key, b.Key) })
		out = append(out, models.Point{Measurement: []byte(st.Name), Tags: tags, Fields: fields, Time: ns})
	}
	return out
}

// field converts one statistic value; ok is false for a value the
// _internal database does not store.
func field(key string, v any) (models.Field, bool) {
	if key == "" {
		return models.Field{}, false
	}
	k := []byte(key)
	switch v := v.(type) {
	case int:
		return models.IntegerField(k, int64(v)), true
	case int8:
		return models.IntegerField(k, int64(v)), true
	case int16:
		return models.IntegerField(k, int64(v)), true
	case int32:
		return models.IntegerField(k, int64(v)), true
	case int64:
		return models.IntegerField(k, v), true
	case uint:
		return unsignedField(k, uint64(v)), true
	case uint8:
		return models.IntegerField(k, int64(v)), true
	case uint16:
		return models.IntegerField(k, int64(v)), true
	case uint32:
		return models.IntegerField(k, int64(v)), true
	case uint64:
		return unsignedField(k, v), true
	case float32:
		return floatField(k, float64(v))
	case float64:
		return floatField(k, v)
	case bool:
		return models.BooleanField(k, v), true
	case string:
		return models.StringField(k, []byte(v)), true
	case time.Duration:
		return models.IntegerField(k, int64(v)), true
	}
	return models.Field{}, false
}

// unsignedField keeps counters integer while they fit, so that the field's
// type is the same in every shard.
func unsignedField(k []byte, v uint64) models.Field {
	if v <= math.MaxInt64 {
		return models.IntegerField(k, int64(v))
	}
	return models.UnsignedField(k, v)
}

func floatField(k []byte, v float64) (models.Field, bool) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return models.Field{}, false
	}
	return models.FloatField(k, v), true
}

// Row is one series of a SHOW STATS or SHOW DIAGNOSTICS result: the shape
// of query.Row, which the statement executor copies it into (this package
// does not depend on the query engine).
type Row struct {
	Name    string
	Tags    map[string]string
	Columns []string
	Values  [][]any
}

// StatsRows returns SHOW STATS rows for sts: one per statistic, with its
// tags, its value names sorted as columns and one row of values. A
// non-empty module keeps the statistics of that name (SHOW STATS FOR
// 'module'). Rows are ordered by name, then tags, whatever the order of
// sts.
func StatsRows(sts []stats.Statistic, module string) []*Row {
	var rows []*Row
	for i := range sts {
		st := &sts[i]
		if module != "" && st.Name != module {
			continue
		}
		cols := make([]string, 0, len(st.Values))
		for k := range st.Values {
			cols = append(cols, k)
		}
		slices.Sort(cols)
		vals := make([]any, len(cols))
		for j, c := range cols {
			vals[j] = st.Values[c]
		}
		rows = append(rows, &Row{Name: st.Name, Tags: st.Tags, Columns: cols, Values: [][]any{vals}})
	}
	slices.SortStableFunc(rows, func(a, b *Row) int {
		if c := cmp.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return compareTags(a.Tags, b.Tags)
	})
	return rows
}

// compareTags orders tag sets by their sorted key=value pairs.
func compareTags(a, b map[string]string) int {
	ka, kb := sortedKeys(a), sortedKeys(b)
	for i := 0; i < len(ka) && i < len(kb); i++ {
		if c := cmp.Compare(ka[i], kb[i]); c != 0 {
			return c
		}
		if c := cmp.Compare(a[ka[i]], b[kb[i]]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(ka), len(kb))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
