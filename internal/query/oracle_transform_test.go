package query_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/query"
)

// TestRandomOracleTransforms is TestRandomOracle for transformations, math
// functions and subqueries: random data, random queries, run by Strata and
// by the InfluxDB 1.x at -oracle.
//
//	go test -run TestRandomOracleTransforms -oracle=http://127.0.0.1:8086 -random-oracle=300
func TestRandomOracleTransforms(t *testing.T) {
	if *randomN == 0 || *oracle == "" {
		t.Skip()
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 17))
	s := newStack(t, query.EngineOptions{Workers: 2, MaxSelectBucketsN: 100000})
	orc := &oracleClient{t: t, base: *oracle, reset: map[string]bool{}}
	var b strings.Builder
	for si, h := range []string{"a", "b", "c"} {
		for i := range 40 {
			if rnd.IntN(4) == 0 {
				continue
			}
			ts := int64(i)*int64(3*time.Second) + int64(si+1)*1000
			var fields []string
			if rnd.IntN(6) > 0 {
				fields = append(fields, fmt.Sprintf("v=%g", float64(rnd.IntN(60))/4))
			}
			if rnd.IntN(3) > 0 {
				fields = append(fields, fmt.Sprintf("i=%di", rnd.IntN(30)-10))
			}
			if len(fields) == 0 {
				continue
			}
			fmt.Fprintf(&b, "m,host=%s,dc=%s %s %d\n", h, []string{"x", "y"}[si%2], strings.Join(fields, ","), ts)
		}
	}
	s.write("tdb", "", "", b.String())
	orc.write("tdb", "", "", b.String())
	pick := func(xs ...string) string { return xs[rnd.IntN(len(xs))] }
	fails := 0
	for n := 0; n < *randomN && fails < 20; n++ {
		var q string
		switch rnd.IntN(4) {
		case 0: // transformations of raw fields
			f := pick("derivative(v)", "derivative(i, 3s)", "non_negative_derivative(v)", "difference(i)",
				"non_negative_difference(v)", "moving_average(v, 3)", "cumulative_sum(i)", "elapsed(v, 1s)",
				"exponential_moving_average(v, 3)", "double_exponential_moving_average(i, 2)",
				"relative_strength_index(v, 3)", "chande_momentum_oscillator(v, 3)",
				"kaufmans_efficiency_ratio(v, 3)", "kaufmans_adaptive_moving_average(i, 2)",
				"triple_exponential_derivative(v, 2)", "abs(derivative(v))", "derivative(v), difference(i)")
			q = "SELECT " + f + " FROM m"
			if rnd.IntN(2) == 0 {
				q += " WHERE " + pick("host = 'a'", "host != 'b'", "v > 5", "i < 3", "time > 20s")
			}
			if rnd.IntN(2) == 0 {
				q += " GROUP BY " + pick("host", "dc", "*")
			}
		case 1: // transformations of aggregates
			f := pick("derivative(mean(v))", "non_negative_derivative(max(i), 1s)", "difference(sum(i))",
				"non_negative_difference(min(v))", "moving_average(mean(v), 2)", "cumulative_sum(count(v))",
				"elapsed(last(v))", "exponential_moving_average(mean(v), 2)", "derivative(mean(v)), max(v)",
				"holt_winters(mean(v), 2, 0)", "difference(first(i)), count(i)", "sqrt(derivative(max(v)))")
			lo := rnd.IntN(40)
			q = fmt.Sprintf("SELECT %s FROM m WHERE time >= %ds AND time < %ds GROUP BY time(%s)", f, lo, lo+30+rnd.IntN(90),
				pick("5s", "10s", "15s", "10s, 3s"))
			if rnd.IntN(2) == 0 {
				q += ", " + pick("host", "dc")
			}
			if rnd.IntN(2) == 0 {
				q += " " + pick("fill(none)", "fill(0)", "fill(previous)", "fill(linear)", "fill(null)")
			}
		case 2: // math
			q = "SELECT " + pick("abs(v), sqrt(v)", "round(v / 3)", "floor(mean(v)), ceil(max(v))", "pow(max(i), 2)",
				"abs(i) + abs(v)", "exp(v / 10)", "ln(v + 1)", "atan2(v, i)") + " FROM m"
			if rnd.IntN(2) == 0 {
				q += " WHERE " + pick("abs(i) > 3", "sqrt(v) < 3", "host = 'c'")
			}
		default: // subqueries
			inner := pick("SELECT max(v) AS x FROM m GROUP BY time(10s), host", "SELECT mean(v) AS x FROM m GROUP BY time(15s), dc",
				"SELECT v AS x, i FROM m", "SELECT v + i AS x FROM m GROUP BY host", "SELECT derivative(v) AS x FROM m")
			q = fmt.Sprintf("SELECT %s FROM (%s) WHERE time >= 0s AND time < 120s", pick("max(x)", "mean(x)", "count(x)", "sum(x)", "x"), inner)
			if !strings.Contains(q, "SELECT x FROM") && rnd.IntN(2) == 0 {
				q += " GROUP BY " + pick("time(30s)", "host", "dc", "time(20s), host")
			}
		}
		if rnd.IntN(4) == 0 && !strings.Contains(q, "holt_winters") {
			q += " ORDER BY time DESC"
		}
		if rnd.IntN(4) == 0 {
			q += fmt.Sprintf(" LIMIT %d", 1+rnd.IntN(4))
			if rnd.IntN(2) == 0 {
				q += fmt.Sprintf(" OFFSET %d", rnd.IntN(3))
			}
		}
		got := resultText(s.query("tdb", q, query.ExecutionOptions{}))
		orc.query("tdb", q, "", 0, false)
		want := strings.Join(orc.query("tdb", q, "", 0, false), "\n")
		if got != want {
			fails++
			t.Errorf("%s\nstrata: %s\noracle: %s", q, got, want)
		}
	}
}
