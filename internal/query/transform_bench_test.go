package query_test

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkTransformQuery runs transformations, math functions and
// subqueries end to end over benchStack's 1M points.
func BenchmarkTransformQuery(b *testing.B) {
	s, start := benchStack(b)
	end := start.Add(100_000 * time.Second)
	rng := fmt.Sprintf("time >= '%s' AND time < '%s'", start.Format(time.RFC3339), end.Format(time.RFC3339))
	for _, bc := range []struct {
		name   string
		q      string
		points int
	}{
		{"derivative_raw_100k", "SELECT derivative(v) FROM cpu WHERE host = 'h3'", 100_000},
		{"difference_raw_1M_merge_10_series", "SELECT difference(v) FROM cpu", 1_000_000},
		{"moving_average_raw_100k", "SELECT moving_average(v, 10) FROM cpu WHERE host = 'h3'", 100_000},
		{"ema_raw_100k", "SELECT exponential_moving_average(v, 10) FROM cpu WHERE host = 'h3'", 100_000},
		{"math_raw_100k", "SELECT abs(v) * 2, sqrt(v) FROM cpu WHERE host = 'h3'", 100_000},
		{"derivative_mean_1m_1M", "SELECT non_negative_derivative(mean(v)) FROM cpu WHERE " + rng + " GROUP BY time(1m)", 1_000_000},
		{"derivative_mean_1m_by_host_1M", "SELECT derivative(mean(v)), max(v) FROM cpu WHERE " + rng + " GROUP BY time(1m), host", 1_000_000},
		{"holt_winters_1h_1M", "SELECT holt_winters(mean(v), 10, 4) FROM cpu WHERE " + rng + " GROUP BY time(1h)", 1_000_000},
		{"subquery_max_of_mean_1M", "SELECT max(m) FROM (SELECT mean(v) AS m FROM cpu WHERE " + rng + " GROUP BY time(1m), host) GROUP BY host", 1_000_000},
		{"subquery_raw_100k", "SELECT count(v) FROM (SELECT v FROM cpu WHERE host = 'h3')", 100_000},
	} {
		b.Run(bc.name, func(b *testing.B) { runBench(b, s, bc.q, bc.points) })
	}
}
