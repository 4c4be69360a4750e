package query_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/query"
)

var randomN = flag.Int("random-oracle", 0, "run this many random queries against -oracle and compare")

// TestRandomOracle is a differential test: random data and random queries,
// run by Strata and by the InfluxDB 1.x at -oracle. It leaves out what
// 1.x decides arbitrarily or wrongly (see doc.go): ties among equal values
// in mode() and percentile(), the last bits of stddev(), integral() with
// with several output series or descending, and top()/bottom() with LIMIT.
//
//	go test -run TestRandomOracle -oracle=http://127.0.0.1:8086 -random-oracle=500
func TestRandomOracle(t *testing.T) {
	if *randomN == 0 || *oracle == "" {
		t.Skip()
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 9))
	s := newStack(t, query.EngineOptions{Workers: 2, MaxSelectBucketsN: 100000})
	orc := &oracleClient{t: t, base: *oracle, reset: map[string]bool{}}
	var b strings.Builder
	hosts := []string{"a", "b", "c", "d"}
	for si, h := range hosts {
		for ri, r := range []string{"x", "y"} {
			for i := range 30 {
				if rnd.IntN(3) == 0 {
					continue
				}
				ts := int64(i)*int64(7*time.Second) + int64(si*2+ri+1)*1000 + int64(rnd.IntN(3))*int64(time.Second)
				var fields []string
				if rnd.IntN(5) > 0 {
					fields = append(fields, fmt.Sprintf("v=%g", float64(rnd.IntN(40))/2))
				}
				if rnd.IntN(3) > 0 {
					fields = append(fields, fmt.Sprintf("i=%di", rnd.IntN(20)-5))
				}
				if rnd.IntN(4) == 0 {
					fields = append(fields, fmt.Sprintf("s=\"%c\"", 'p'+rune(rnd.IntN(3))))
				}
				if rnd.IntN(4) == 0 {
					fields = append(fields, fmt.Sprintf("b=%v", rnd.IntN(2) == 0))
				}
				if len(fields) == 0 {
					continue
				}
				tags := ",host=" + h + ",region=" + r
				if h == "d" && r == "y" {
					tags = ",region=" + r
				}
				fmt.Fprintf(&b, "m%s %s %d\n", tags, strings.Join(fields, ","), ts)
			}
		}
	}
	s.write("db", "", "", b.String())
	orc.write("db", "", "", b.String())
	pick := func(xs ...string) string { return xs[rnd.IntN(len(xs))] }
	fails := 0
	for n := 0; n < *randomN && fails < 20; n++ {
		var fields string
		agg := rnd.IntN(3) > 0
		interval := ""
		if agg {
			var fs []string
			for range 1 + rnd.IntN(2) {
				f := pick("count(v)", "sum(v)", "mean(v)", "min(v)", "max(v)", "first(v)", "last(v)", "spread(v)", "median(v)",
					"count(i)", "sum(i)", "mean(i)", "max(i)", "min(i)", "first(s)", "last(b)", "count(s)",
					"count(distinct(i))", "max(v) + min(i)", "mean(v) * 2")
				fs = append(fs, f)
			}
			if len(fs) == 1 && rnd.IntN(3) == 0 {
				fs[0] = pick("max(v), host", "min(i), v", "first(v), s", "last(i), region", "top(v, 2)", "bottom(i, 3)",
					"top(v, host, 2)", "distinct(i)")
			}
			fields = strings.Join(fs, ", ")
			if rnd.IntN(2) == 0 {
				interval = pick("time(10s)", "time(30s)", "time(1m)", "time(20s, 5s)", "time(45s)")
			}
		} else {
			fields = pick("*", "v", "v, i", "i, host", "v + i", "s, b", "v, region, host", "i * 2, v / 2")
		}
		var where []string
		if rnd.IntN(2) == 0 {
			where = append(where, pick("host = 'a'", "host != 'b'", "host =~ /a|c/", "region = 'y'", "host = ''", "(host = 'a' OR region = 'x')"))
		}
		if rnd.IntN(3) == 0 {
			where = append(where, pick("v > 5", "i < 3", "v >= 10 OR i = 0", "s = 'p'", "b = true", "v * 2 > i"))
		}
		if interval != "" || rnd.IntN(2) == 0 {
			lo := rnd.IntN(100)
			where = append(where, fmt.Sprintf("time >= %ds AND time < %ds", lo, lo+30+rnd.IntN(200)))
		}
		q := "SELECT " + fields + " FROM m"
		if len(where) > 0 {
			q += " WHERE " + strings.Join(where, " AND ")
		}
		var dims []string
		if interval != "" {
			dims = append(dims, interval)
		}
		if rnd.IntN(2) == 0 {
			dims = append(dims, pick("host", "region", "*", "host, region"))
		}
		if len(dims) > 0 {
			q += " GROUP BY " + strings.Join(dims, ", ")
		}
		if interval != "" && rnd.IntN(2) == 0 {
			q += " " + pick("fill(none)", "fill(0)", "fill(previous)", "fill(linear)", "fill(null)")
		}
		if rnd.IntN(4) == 0 && !strings.Contains(q, "integral") {
			q += " ORDER BY time DESC"
		}
		if rnd.IntN(4) == 0 && !strings.Contains(q, "top(") && !strings.Contains(q, "bottom(") {
			q += fmt.Sprintf(" LIMIT %d", 1+rnd.IntN(4))
			if rnd.IntN(2) == 0 {
				q += fmt.Sprintf(" OFFSET %d", rnd.IntN(3))
			}
		}
		if rnd.IntN(6) == 0 {
			q += " SLIMIT 2"
		}
		got := resultText(s.query("db", q, query.ExecutionOptions{}))
		orc.query("db", q, "", 0, false)
		want := strings.Join(orc.query("db", q, "", 0, false), "\n")
		if got != want {
			fails++
			t.Errorf("%s\nstrata: %s\noracle: %s", q, got, want)
		}
	}
}
