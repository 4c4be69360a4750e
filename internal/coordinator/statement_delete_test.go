package coordinator_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/query"
)

// Times of the two shard groups the delete tests write to (autogen's
// groups are 7 days long and start on Mondays).
var (
	week1 = time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC) // a Monday
	week2 = week1.Add(7 * 24 * time.Hour)
)

// writeSeries writes n series of measurement name, each with one point an
// hour over the first `hours` hours of week1 and of week2.
func writeSeries(t testing.TB, e *env, name string, n, hours int) {
	t.Helper()
	var batch []models.Point
	flush := func() {
		if err := e.writer.WritePoints(context.Background(), "db0", "", batch); err != nil {
			t.Fatal(err)
		}
		batch = batch[:0]
	}
	for i := range n {
		tags := []models.Tag{{Key: []byte("host"), Value: fmt.Appendf(nil, "h%06d", i)}, {Key: []byte("rack"), Value: fmt.Appendf(nil, "r%d", i%10)}}
		for _, week := range []time.Time{week1, week2} {
			for h := range hours {
				batch = append(batch, models.Point{
					Measurement: []byte(name), Tags: tags,
					Fields: []models.Field{models.FloatField([]byte("value"), float64(i))},
					Time:   week.Add(time.Duration(h) * time.Hour).UnixNano(),
				})
				if len(batch) == 10000 {
					flush()
				}
			}
		}
	}
	if len(batch) > 0 {
		flush()
	}
}

func countRows(t testing.TB, e *env, text string) int64 {
	t.Helper()
	res := e.mustRun(text, query.ExecutionOptions{Database: "db0"})
	// The last column of the first row: count(value) or a cardinality.
	for _, r := range res {
		for _, row := range r.Series {
			if len(row.Values) == 0 {
				continue
			}
			v := row.Values[0]
			n, ok := v[len(v)-1].(int64)
			if !ok {
				t.Fatalf("%s: %T in the last column", text, v[len(v)-1])
			}
			return n
		}
	}
	return 0
}

// TestDeleteManySeries deletes more series than one batch, from data in
// files and in the cache, partly (a time range ending inside the second
// shard) and then wholly, and checks data, index and counts.
func TestDeleteManySeries(t *testing.T) {
	n := 9000
	if testing.Short() {
		n = 5000
	}
	e := newSelectEnv(t, envOptions{})
	e.mustRun("CREATE DATABASE db0", query.ExecutionOptions{})
	writeSeries(t, e, "big", n, 4)
	if err := e.store.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	writeSeries(t, e, "big", n/3, 6) // hours 4 and 5 stay in the caches

	cut := week2.Add(3*time.Hour + 30*time.Minute)
	e.mustRun(fmt.Sprintf("DELETE FROM big WHERE rack != 'r3' AND time < '%s'", cut.Format(time.RFC3339)), query.ExecutionOptions{Database: "db0"})
	// Series of rack r3 keep everything (12 points for the first n/3, 8
	// for the others); the others keep week2's hours 4 and 5, which only
	// the first n/3 have, and the rest of them have no point left.
	var wantPoints, wantSeries int64
	for i := range n {
		long := i < n/3
		switch {
		case i%10 == 3 && long:
			wantPoints, wantSeries = wantPoints+12, wantSeries+1
		case i%10 == 3:
			wantPoints, wantSeries = wantPoints+8, wantSeries+1
		case long:
			wantPoints, wantSeries = wantPoints+2, wantSeries+1
		}
	}
	if got := countRows(t, e, "SELECT count(value) FROM big"); got != wantPoints {
		t.Fatalf("count after the partial delete %d, want %d", got, wantPoints)
	}
	// Series with no point left leave the index; the others stay.
	if got := countRows(t, e, "SHOW SERIES EXACT CARDINALITY FROM big"); got != wantSeries {
		t.Fatalf("series after the partial delete %d, want %d", got, wantSeries)
	}
	r3 := int64(n / 10)
	e.mustRun(fmt.Sprintf("DELETE FROM big WHERE time >= '%s'", week2.Format(time.RFC3339)), query.ExecutionOptions{Database: "db0"})
	if got := countRows(t, e, "SHOW SERIES EXACT CARDINALITY FROM big"); got != r3 {
		t.Fatalf("series after deleting week2: %d, want the %d of rack r3 (they have week1 points)", got, r3)
	}
	e.mustRun("DELETE FROM big", query.ExecutionOptions{Database: "db0"})
	if got := countRows(t, e, "SELECT count(value) FROM big"); got != 0 {
		t.Fatalf("count after DELETE FROM big: %d", got)
	}
	res := e.mustRun("SHOW MEASUREMENTS; SHOW SERIES CARDINALITY", query.ExecutionOptions{Database: "db0"})
	if len(res[0].Series) != 0 || res[1].Series[0].Values[0][0] != int64(0) {
		t.Fatalf("after DELETE FROM big: measurements %v, cardinality %v", res[0].Series, res[1].Series[0].Values)
	}
}

// TestDeleteWriteLatency measures how long a large DELETE, then a DROP
// MEASUREMENT, hold up writes to another measurement: a writer writes
// small batches all along and records its slowest write. The figures go
// to the test log; the bound asserted is loose (the machine is shared and
// the race detector slows everything), the point being that writes never
// wait for the whole delete.
func TestDeleteWriteLatency(t *testing.T) {
	n := 30000
	if testing.Short() {
		n = 6000
	}
	e := newEnv(t, envOptions{})
	e.mustRun("CREATE DATABASE db0", query.ExecutionOptions{})
	writeSeries(t, e, "big", n, 4)
	if err := e.store.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	var (
		stop    atomic.Bool
		wg      sync.WaitGroup
		worst   atomic.Int64
		written atomic.Int64
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		tags := []models.Tag{{Key: []byte("host"), Value: []byte("writer")}}
		for i := 0; !stop.Load(); i++ {
			batch := make([]models.Point, 100)
			for j := range batch {
				batch[j] = models.Point{Measurement: []byte("other"), Tags: tags,
					Fields: []models.Field{models.FloatField([]byte("v"), 1)},
					Time:   week2.Add(time.Duration(i*100+j) * time.Millisecond).UnixNano()}
			}
			began := time.Now()
			if err := e.writer.WritePoints(context.Background(), "db0", "", batch); err != nil {
				t.Errorf("write during delete: %v", err)
				return
			}
			if d := time.Since(began).Nanoseconds(); d > worst.Load() {
				worst.Store(d)
			}
			written.Add(int64(len(batch)))
		}
	}()
	time.Sleep(50 * time.Millisecond) // let the writer get going

	measure := func(what, text string) {
		worst.Store(0)
		w0 := written.Load()
		began := time.Now()
		e.mustRun(text, query.ExecutionOptions{Database: "db0"})
		took := time.Since(began)
		max := time.Duration(worst.Load())
		t.Logf("%s of %d series (%d points): %v; meanwhile %d points written, slowest write %v",
			what, n, n*8, took.Round(time.Millisecond), written.Load()-w0, max.Round(time.Microsecond))
		if max > 2*time.Second {
			t.Errorf("%s: a write waited %v", what, max)
		}
	}
	measure("DELETE with a time range", fmt.Sprintf("DELETE FROM big WHERE time < '%s'", week2.Add(2*time.Hour).Format(time.RFC3339)))
	measure("DROP MEASUREMENT", "DROP MEASUREMENT big")
	stop.Store(true)
	wg.Wait()
	if got := countRows(t, e, "SHOW SERIES EXACT CARDINALITY"); got != 1 {
		t.Fatalf("series left: %d, want the writer's one", got)
	}
}
