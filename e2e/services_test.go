package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratadb/strata/e2e/harness"
)

// End-to-end tests of the background services (issue 7) against the real
// stratad, configured through its config file with short intervals:
// retention and shard precreation here, continuous queries in
// services_cq_test.go, the monitor and /metrics in
// services_monitor_test.go, subscriptions in services_subscriber_test.go.
//
// Every test starts servers of its own and runs in parallel with the
// others. Nothing sleeps for a fixed time where a condition can be polled:
// svcEventually polls with a deadline that only a broken server reaches.

// svcTimeout bounds every wait for a background service. The services run
// every 100 ms to 1 s here; the bound is generous because the race-enabled
// binary shares two cores with other tests.
const svcTimeout = 30 * time.Second

// svcSeries is one series of a /query answer.
type svcSeries struct {
	Name    string            `json:"name"`
	Tags    map[string]string `json:"tags"`
	Columns []string          `json:"columns"`
	Values  [][]any           `json:"values"`
}

// col returns the index of a column, or -1.
func (ss svcSeries) col(name string) int { return slices.Index(ss.Columns, name) }

// get returns the value of column name in row i, or nil.
func (ss svcSeries) get(i int, name string) any {
	c := ss.col(name)
	if c < 0 || i >= len(ss.Values) || c >= len(ss.Values[i]) {
		return nil
	}
	return ss.Values[i][c]
}

// svcTryQuery runs q with POST /query (kv: more form values, such as "db",
// "db") and returns the series of its single statement. It touches no
// testing.T, so goroutines may call it.
func svcTryQuery(s *harness.Server, q string, kv ...string) ([]svcSeries, error) {
	path, h, body := queryReq(anon(), q, kv...)
	r, err := tryDo(s, http.MethodPost, path, h, body)
	if err != nil {
		return nil, err
	}
	if r.Status != http.StatusOK {
		return nil, fmt.Errorf("%s: status %d: %s", q, r.Status, r.Body)
	}
	var resp struct {
		Results []struct {
			Error  string      `json:"error"`
			Series []svcSeries `json:"series"`
		} `json:"results"`
		Error string `json:"error"`
	}
	dec := json.NewDecoder(strings.NewReader(r.Body))
	dec.UseNumber()
	if err := dec.Decode(&resp); err != nil {
		return nil, fmt.Errorf("%s: %w: %s", q, err, r.Body)
	}
	if resp.Error != "" || len(resp.Results) != 1 || resp.Results[0].Error != "" {
		return nil, fmt.Errorf("%s: %s", q, r.Body)
	}
	return resp.Results[0].Series, nil
}

// svcQuery is svcTryQuery for the test goroutine.
func svcQuery(t testing.TB, s *harness.Server, q string, kv ...string) []svcSeries {
	t.Helper()
	series, err := svcTryQuery(s, q, kv...)
	if err != nil {
		t.Fatal(err)
	}
	return series
}

// svcNum converts a JSON number (or nil) from an answer.
func svcNum(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	}
	return math.NaN(), false
}

// svcInt converts a JSON integer from an answer and fails the test on
// anything else.
func svcInt(t testing.TB, v any) int64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("%v (%T) is not a JSON number", v, v)
	}
	i, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil {
		t.Fatalf("%v is not an integer: %v", v, err)
	}
	return i
}

// svcScalar runs a query expected to answer one row and returns column
// name of it; ok is false when the answer is empty.
func svcScalar(t testing.TB, s *harness.Server, q, name string, kv ...string) (v float64, ok bool) {
	t.Helper()
	series := svcQuery(t, s, q, kv...)
	if len(series) == 0 || len(series[0].Values) == 0 {
		return 0, false
	}
	if len(series) != 1 || len(series[0].Values) != 1 {
		t.Fatalf("%s: want one row, got %v", q, series)
	}
	return svcNum(series[0].get(0, name))
}

// svcEventually calls cond until it returns "" and fails with its last
// answer when that takes longer than timeout.
func svcEventually(t testing.TB, timeout time.Duration, what string, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		why := cond()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %s", what, timeout, why)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// shardRow is one row of SHOW SHARDS.
type shardRow struct {
	id, group  uint64
	db, rp     string
	start, end time.Time
}

func listShards(t testing.TB, s *harness.Server) []shardRow {
	t.Helper()
	var out []shardRow
	for _, ser := range svcQuery(t, s, "SHOW SHARDS") {
		for i := range ser.Values {
			var r shardRow
			r.id = uint64(svcInt(t, ser.get(i, "id")))
			r.group = uint64(svcInt(t, ser.get(i, "shard_group")))
			r.db, _ = ser.get(i, "database").(string)
			r.rp, _ = ser.get(i, "retention_policy").(string)
			for _, c := range []struct {
				name string
				dst  *time.Time
			}{{"start_time", &r.start}, {"end_time", &r.end}} {
				str, _ := ser.get(i, c.name).(string)
				tm, err := time.Parse(time.RFC3339, str)
				if err != nil {
					t.Fatalf("SHOW SHARDS %s %q: %v", c.name, str, err)
				}
				*c.dst = tm
			}
			out = append(out, r)
		}
	}
	return out
}

// shardDirs are the data and WAL directories of a shard.
func shardDirs(s *harness.Server, sh shardRow) []string {
	id := strconv.FormatUint(sh.id, 10)
	return []string{
		filepath.Join(s.Dir, "data", sh.db, sh.rp, id),
		filepath.Join(s.Dir, "wal", sh.db, sh.rp, id),
	}
}

func svcIsDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// svcExec runs statements that answer nothing but success.
func svcExec(t testing.TB, s *harness.Server, q string, kv ...string) {
	t.Helper()
	if series := svcQuery(t, s, q, kv...); len(series) != 0 {
		t.Fatalf("%s answered %v", q, series)
	}
}

// svcCount answers SELECT count(field) FROM from [WHERE where] in db, 0
// when no point matches.
func svcCount(t testing.TB, s *harness.Server, db, field, from, where string) int64 {
	t.Helper()
	q := "SELECT count(" + field + ") FROM " + from
	if where != "" {
		q += " WHERE " + where
	}
	v, ok := svcScalar(t, s, q, "count", "db", db)
	if !ok {
		return 0
	}
	return int64(v)
}

// TestRetentionDropsExpiredShardGroupsUnderLoad: the retention service
// drops the shard groups whose end is older than their policy's duration,
// with their files, while writers and readers keep using other shards of
// the same database and another database; none of their requests fails
// and every acknowledged point is there afterwards. Then points older than
// the policy are refused as 1.x refuses them: a partial write.
func TestRetentionDropsExpiredShardGroupsUnderLoad(t *testing.T) {
	t.Parallel()
	s := harness.Start(t, harness.Options{Config: "[retention]\nenabled = true\ncheck-interval = \"100ms\"\n"})
	createDB(t, s, "db")
	createDB(t, s, "other")
	// Infinite first, so that old points are accepted; 1 h groups, so that
	// the old ones end long before the 1 h the policy is shortened to.
	svcExec(t, s, "CREATE RETENTION POLICY old ON db DURATION INF REPLICATION 1 SHARD DURATION 1h")
	now := time.Now().UTC()
	var old strings.Builder
	for _, ago := range []time.Duration{5 * time.Hour, 3 * time.Hour} {
		// In the middle of an hour: three points, one group.
		mid := now.Truncate(time.Hour).Add(-ago + 30*time.Minute)
		for i := range 3 {
			fmt.Fprintf(&old, "m,k=old v=%d %d\n", i, mid.Add(time.Duration(i)*time.Second).UnixNano())
		}
	}
	fmt.Fprintf(&old, "m,k=cur v=1 %d\n", now.UnixNano())
	if r := s.Write(params("db", "db", "rp", "old"), old.String()); r.Status != http.StatusNoContent {
		t.Fatalf("write old points: %d %s", r.Status, r.Body)
	}
	var expired, kept []shardRow
	for _, sh := range listShards(t, s) {
		switch {
		case sh.db != "db" || sh.rp != "old":
		case sh.end.Before(now.Add(-time.Hour)):
			expired = append(expired, sh)
		default:
			kept = append(kept, sh)
		}
	}
	if len(expired) != 2 || len(kept) != 1 {
		t.Fatalf("want 2 old shards and 1 current one in db.old, got %v and %v", expired, kept)
	}
	for _, sh := range append(slices.Clone(expired), kept...) {
		for _, d := range shardDirs(s, sh) {
			if !svcIsDir(d) {
				t.Fatalf("shard %d: no directory %s before the drop", sh.id, d)
			}
		}
	}

	// The load: one writer per target, each writing batches of current
	// points under a tag of its own, and a reader.
	targets := []struct{ db, rp string }{{"db", "autogen"}, {"db", "old"}, {"other", "autogen"}}
	acked := make([]atomic.Int64, len(targets))
	var reads atomic.Int64
	var errMu sync.Mutex
	var loadErrs []string
	fail := func(format string, args ...any) {
		errMu.Lock()
		defer errMu.Unlock()
		loadErrs = append(loadErrs, fmt.Sprintf(format, args...))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for i, tg := range targets {
		wg.Go(func() {
			for b := 0; ctx.Err() == nil; b++ {
				var body strings.Builder
				ts := time.Now().UnixNano()
				for j := range 10 {
					fmt.Fprintf(&body, "load,w=%d v=%d %d\n", i, b*10+j, ts+int64(j))
				}
				r, err := tryDo(s, http.MethodPost, "/write?"+params("db", tg.db, "rp", tg.rp).Encode(), nil, body.String())
				if err != nil || r.Status != http.StatusNoContent {
					fail("write to %s.%s: %v %d %s", tg.db, tg.rp, err, r.Status, r.Body)
					return
				}
				acked[i].Add(10)
			}
		})
	}
	wg.Go(func() {
		for ctx.Err() == nil {
			for _, q := range []struct{ db, q string }{{"other", "SELECT count(v) FROM load"}, {"db", "SELECT count(v) FROM autogen.load"}} {
				if _, err := svcTryQuery(s, q.q, "db", q.db); err != nil {
					fail("query during the drop: %v", err)
					return
				}
			}
			reads.Add(1)
		}
	})
	progress := func(min int64) func() string {
		return func() string {
			errMu.Lock()
			failed := len(loadErrs) > 0
			errMu.Unlock()
			if failed {
				return "" // a writer stopped; reported once the load ends
			}
			for i := range acked {
				if n := acked[i].Load(); n < min {
					return fmt.Sprintf("writer %d acknowledged %d points", i, n)
				}
			}
			return ""
		}
	}
	svcEventually(t, svcTimeout, "load starts", progress(30))

	svcExec(t, s, "ALTER RETENTION POLICY old ON db DURATION 1h")
	altered := time.Now()
	svcEventually(t, svcTimeout, "retention drops the expired shard groups", func() string {
		listed := listShards(t, s)
		for _, sh := range expired {
			if slices.ContainsFunc(listed, func(r shardRow) bool { return r.id == sh.id }) {
				return fmt.Sprintf("SHOW SHARDS still lists shard %d", sh.id)
			}
			for _, d := range shardDirs(s, sh) {
				if _, err := os.Stat(d); !os.IsNotExist(err) {
					return fmt.Sprintf("%s still exists (%v)", d, err)
				}
			}
		}
		return ""
	})
	t.Logf("expired shards dropped %s after ALTER RETENTION POLICY", time.Since(altered).Round(time.Millisecond))
	// Let the load run on past the drop.
	var after int64 = math.MaxInt64
	for i := range acked {
		after = min(after, acked[i].Load())
	}
	svcEventually(t, svcTimeout, "load goes on after the drop", progress(after+30))
	cancel()
	wg.Wait()
	if len(loadErrs) > 0 {
		t.Fatalf("%d requests of the load failed, the first: %s", len(loadErrs), loadErrs[0])
	}
	if reads.Load() == 0 {
		t.Fatal("the reader never completed a round")
	}
	t.Logf("load: %d, %d and %d points acknowledged, %d rounds of queries",
		acked[0].Load(), acked[1].Load(), acked[2].Load(), reads.Load())

	for i, tg := range targets {
		got := svcCount(t, s, tg.db, "v", `"`+tg.rp+`".load`, fmt.Sprintf("w = '%d'", i))
		if got != acked[i].Load() {
			t.Errorf("%s.%s: %d points stored, %d acknowledged", tg.db, tg.rp, got, acked[i].Load())
		}
	}
	if got := svcCount(t, s, "db", "v", "old.m", ""); got != 1 {
		t.Errorf("db.old.m holds %d points after the drop, want only the current one", got)
	}
	listed := listShards(t, s)
	for _, sh := range kept {
		if !slices.ContainsFunc(listed, func(r shardRow) bool { return r.id == sh.id }) {
			t.Errorf("the current shard %d of db.old was dropped", sh.id)
		}
		if !svcIsDir(shardDirs(s, sh)[0]) {
			t.Errorf("the current shard %d of db.old lost its directory", sh.id)
		}
	}
	groups := svcQuery(t, s, "SHOW SHARD GROUPS")
	for _, sh := range expired {
		for _, g := range groups {
			for i := range g.Values {
				if uint64(svcInt(t, g.get(i, "id"))) == sh.group {
					t.Errorf("SHOW SHARD GROUPS still lists the expired group %d", sh.group)
				}
			}
		}
	}

	// Points beyond the policy's duration: 1.x's partial write, the valid
	// point kept, and no shard group created for the others.
	now = time.Now().UTC()
	body := fmt.Sprintf("pw v=1 %d\npw v=2 %d\npw v=3 %d\n",
		now.Add(-3*time.Hour).UnixNano(), now.Add(-2*time.Hour).UnixNano(), now.UnixNano())
	r := s.Write(params("db", "db", "rp", "old"), body)
	if r.Status != http.StatusBadRequest {
		t.Fatalf("write beyond the retention policy: %d %s", r.Status, r.Body)
	}
	if got, want := errorText(t, r.Body), "partial write: points beyond retention policy dropped=2"; got != want {
		t.Fatalf("write beyond the retention policy:\n got %q\nwant %q", got, want)
	}
	if got := svcCount(t, s, "db", "v", "old.pw", ""); got != 1 {
		t.Fatalf("db.old.pw holds %d points, want the valid one", got)
	}
	for _, sh := range listShards(t, s) {
		if sh.db == "db" && sh.rp == "old" && sh.end.Before(now.Add(-time.Hour)) {
			t.Fatalf("a refused point created shard %d (%s–%s)", sh.id, sh.start, sh.end)
		}
	}
}

// TestPrecreationCreatesNextShardGroup: with an advance period longer
// than the shard-group duration, the group of the next window exists, with
// its shard, before any point for it is written; a point for that window
// then lands in it. A policy that never received data gets no group.
func TestPrecreationCreatesNextShardGroup(t *testing.T) {
	t.Parallel()
	s := harness.Start(t, harness.Options{Config: "[shard-precreation]\nenabled = true\ncheck-interval = \"100ms\"\nadvance-period = \"2h\"\n"})
	createDB(t, s, "db")
	createDB(t, s, "idle")
	svcExec(t, s, "CREATE RETENTION POLICY hourly ON db DURATION 1d REPLICATION 1 SHARD DURATION 1h DEFAULT")
	now := time.Now().UTC()
	if r := s.Write(params("db", "db"), fmt.Sprintf("m v=1 %d", now.UnixNano())); r.Status != http.StatusNoContent {
		t.Fatalf("write: %d %s", r.Status, r.Body)
	}
	var cur shardRow
	for _, sh := range listShards(t, s) {
		if sh.db == "db" && sh.rp == "hourly" && !now.Before(sh.start) && now.Before(sh.end) {
			cur = sh
		}
	}
	if cur.id == 0 {
		t.Fatalf("no shard of db.hourly holds %s: %v", now, listShards(t, s))
	}
	if cur.end.Sub(cur.start) != time.Hour {
		t.Fatalf("db.hourly's group spans %s–%s, want 1h", cur.start, cur.end)
	}

	var next shardRow
	svcEventually(t, svcTimeout, "the next shard group is precreated", func() string {
		for _, sh := range listShards(t, s) {
			if sh.db == "db" && sh.rp == "hourly" && sh.start.Equal(cur.end) {
				next = sh
				return ""
			}
		}
		return fmt.Sprintf("SHOW SHARDS lists no group starting at %s", cur.end)
	})
	if next.end.Sub(next.start) != time.Hour || next.group == cur.group {
		t.Fatalf("precreated group %d spans %s–%s", next.group, next.start, next.end)
	}
	// Strata also creates the shard itself ahead of the write (1.x waits
	// for the first point): its directory exists.
	svcEventually(t, svcTimeout, "the precreated shard's directory", func() string {
		if d := shardDirs(s, next)[0]; !svcIsDir(d) {
			return d + " does not exist"
		}
		return ""
	})
	for _, sh := range listShards(t, s) {
		if sh.db == "idle" || sh.rp == "autogen" {
			t.Errorf("precreation created shard %d in %s.%s, which never received data", sh.id, sh.db, sh.rp)
		}
	}

	// A point of the next window goes into the precreated shard.
	future := next.start.Add(time.Minute)
	if r := s.Write(params("db", "db"), fmt.Sprintf("m v=2 %d", future.UnixNano())); r.Status != http.StatusNoContent {
		t.Fatalf("write into the next window: %d %s", r.Status, r.Body)
	}
	for _, sh := range listShards(t, s) {
		if sh.db == "db" && !future.Before(sh.start) && future.Before(sh.end) && sh.id != next.id {
			t.Fatalf("the point for %s went to shard %d, not to the precreated %d", future, sh.id, next.id)
		}
	}
	where := fmt.Sprintf("time >= %d", next.start.UnixNano())
	if got := svcCount(t, s, "db", "v", "m", where); got != 1 {
		t.Fatalf("%d points in the next window, want 1", got)
	}
}
