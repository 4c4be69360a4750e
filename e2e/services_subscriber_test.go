package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadb/strata/e2e/harness"
)

// lineSink collects the line protocol a subscription destination
// receives.
type lineSink struct {
	url string

	mu       sync.Mutex
	lines    []string // guarded by mu
	requests []string // guarded by mu: "METHOD path?query" of HTTP requests
}

func (k *lineSink) add(request string, data []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if request != "" {
		k.requests = append(k.requests, request)
	}
	for l := range strings.SplitSeq(string(data), "\n") {
		if l != "" {
			k.lines = append(k.lines, l)
		}
	}
}

// received returns the lines received so far of the measurements given
// (all without), sorted.
func (k *lineSink) received(measurements ...string) []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for _, l := range k.lines {
		if len(measurements) == 0 || slices.ContainsFunc(measurements, func(m string) bool { return strings.HasPrefix(l, m+",") || strings.HasPrefix(l, m+" ") }) {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

func (k *lineSink) requestLines() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.requests)
}

// newUDPSink listens on a loopback UDP port until the test ends.
func newUDPSink(t *testing.T) *lineSink {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	k := &lineSink{url: "udp://" + pc.LocalAddr().String()}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1<<16)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			k.add("", buf[:n])
		}
	}()
	t.Cleanup(func() {
		pc.Close()
		<-done
	})
	return k
}

// newHTTPSink is an HTTP destination that answers every write with 204.
func newHTTPSink(t *testing.T) *lineSink {
	t.Helper()
	k := &lineSink{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		k.add(r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery, b)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	k.url = srv.URL
	return k
}

// subStats are the subscriber statistics of SHOW STATS FOR 'subscriber':
// the service's (key "") and each destination's (key: its URL).
func subStats(t testing.TB, s *harness.Server) map[string]map[string]float64 {
	t.Helper()
	out := map[string]map[string]float64{}
	for _, ser := range svcQuery(t, s, "SHOW STATS FOR 'subscriber'") {
		if ser.Name != "subscriber" || len(ser.Values) != 1 {
			t.Fatalf("SHOW STATS FOR 'subscriber': %v", ser)
		}
		vals := map[string]float64{}
		for i, c := range ser.Columns {
			vals[c], _ = svcNum(ser.Values[0][i])
		}
		out[ser.Tags["destination"]] = vals
	}
	return out
}

// subLines is n requests of three points of measurement m each, as
// canonical line protocol (tags and fields sorted, nanosecond times), so
// that what a destination receives compares as text.
func subLines(m string, n int) [][]string {
	out := make([][]string, n)
	for i := range out {
		for j := range 3 {
			ts := int64(1_700_000_000_000_000_000) + int64(i*10+j)*1_000_000
			out[i] = append(out[i], fmt.Sprintf(`%s,host=h%d,region=r%d b=true,i=%di,s="x %d",v=%d.5 %d`, m, j, i%2, i, j, i*3+j, ts))
		}
	}
	return out
}

func sortedLines(batches ...[]string) []string {
	var out []string
	for _, b := range batches {
		out = append(out, b...)
	}
	slices.Sort(out)
	return out
}

// waitForwarding writes probe points to db.rp until every sink has
// received one: the subscriber follows meta asynchronously, so a
// subscription starts forwarding shortly after CREATE SUBSCRIPTION.
func waitForwarding(t *testing.T, s *harness.Server, db, rp string, any bool, sinks ...*lineSink) {
	t.Helper()
	i := 0
	svcEventually(t, svcTimeout, "forwarding starts", func() string {
		i++
		if r := s.Write(params("db", db, "rp", rp), fmt.Sprintf("probe v=%d %d", i, i)); r.Status != http.StatusNoContent {
			t.Fatalf("probe write: %d %s", r.Status, r.Body)
		}
		got := 0
		for _, k := range sinks {
			if len(k.received("probe")) > 0 {
				got++
			}
		}
		if got == len(sinks) || (any && got > 0) {
			return ""
		}
		return fmt.Sprintf("%d of %d destinations received a probe", got, len(sinks))
	})
}

// TestSubscriptionsForwardWrites: every accepted write to a subscribed
// db.rp reaches a real UDP listener and a real HTTP server as the same
// line protocol, point by point: ALL sends each write to every
// destination, ANY to exactly one; other databases and policies are not
// forwarded; DROP SUBSCRIPTION stops the forwarding.
func TestSubscriptionsForwardWrites(t *testing.T) {
	t.Parallel()
	s := harness.Start(t, harness.Options{})
	createDB(t, s, "db")
	createDB(t, s, "other")
	svcExec(t, s, "CREATE RETENTION POLICY rp2 ON db DURATION INF REPLICATION 1")
	udp, web := newUDPSink(t), newHTTPSink(t)
	anyA, anyB := newHTTPSink(t), newHTTPSink(t)
	witness := newHTTPSink(t)
	svcExec(t, s, fmt.Sprintf(`CREATE SUBSCRIPTION "all" ON db.autogen DESTINATIONS ALL '%s', '%s'`, udp.url, web.url))
	svcExec(t, s, fmt.Sprintf(`CREATE SUBSCRIPTION "any" ON "db"."rp2" DESTINATIONS ANY '%s', '%s'`, anyA.url, anyB.url))
	svcExec(t, s, fmt.Sprintf(`CREATE SUBSCRIPTION witness ON db.autogen DESTINATIONS ALL '%s'`, witness.url))

	subs := svcQuery(t, s, "SHOW SUBSCRIPTIONS")
	if len(subs) != 1 || subs[0].Name != "db" || !slices.Equal(subs[0].Columns, []string{"retention_policy", "name", "mode", "destinations"}) {
		t.Fatalf("SHOW SUBSCRIPTIONS: %v", subs)
	}
	wantSubs := [][]any{
		{"autogen", "all", "ALL", []any{udp.url, web.url}},
		{"autogen", "witness", "ALL", []any{witness.url}},
		{"rp2", "any", "ANY", []any{anyA.url, anyB.url}},
	}
	gotSubs := slices.Clone(subs[0].Values)
	slices.SortFunc(gotSubs, func(a, b []any) int { return strings.Compare(fmt.Sprint(a[:2]), fmt.Sprint(b[:2])) })
	if d := cmp.Diff(wantSubs, gotSubs); d != "" {
		t.Fatalf("SHOW SUBSCRIPTIONS (-want +got):\n%s", d)
	}

	waitForwarding(t, s, "db", "autogen", false, udp, web, witness)
	waitForwarding(t, s, "db", "rp2", true, anyA, anyB)

	// ALL: ten writes, one of them partial (its valid lines are
	// forwarded), one in milliseconds (forwarded in nanoseconds).
	batches := subLines("m", 10)
	for i, b := range batches {
		body := strings.Join(b, "\n")
		p := params("db", "db")
		want := http.StatusNoContent
		switch i {
		case 3:
			body = b[0] + "\nm,host=bad v= 1\n" + strings.Join(b[1:], "\n")
			want = http.StatusBadRequest
		case 5:
			var ms []string
			for _, l := range b {
				ms = append(ms, strings.TrimSuffix(l, "000000"))
			}
			body = strings.Join(ms, "\n")
			p.Set("precision", "ms")
		}
		if r := s.Write(p, body); r.Status != want {
			t.Fatalf("write %d: %d %s", i, r.Status, r.Body)
		}
	}
	// Not subscribed: another database, and the default policy's writes
	// must not reach ANY's destinations (rp2) nor rp2's reach ALL's.
	for _, w := range []struct{ db, rp string }{{"other", ""}, {"db", "rp2"}} {
		body := strings.Join(subLines("elsewhere", 1)[0], "\n")
		if w.db == "db" {
			body = strings.Join(subLines("m2", 2)[1], "\n")
		}
		if r := s.Write(params("db", w.db, "rp", w.rp), body); r.Status != http.StatusNoContent {
			t.Fatalf("write to %s.%s: %d %s", w.db, w.rp, r.Status, r.Body)
		}
	}
	want := sortedLines(batches...)
	for _, k := range []*lineSink{udp, web, witness} {
		svcEventually(t, svcTimeout, "ALL forwards to "+k.url, func() string {
			if d := cmp.Diff(want, k.received("m")); d != "" {
				return "(-written +received):\n" + d
			}
			return ""
		})
		if got := k.received("elsewhere", "m2"); len(got) > 0 {
			t.Errorf("%s received writes of other databases or policies: %v", k.url, got)
		}
	}
	for _, r := range web.requestLines() {
		if r != "POST /write?db=db&rp=autogen" {
			t.Errorf("the HTTP destination got %q, want POST /write?db=db&rp=autogen", r)
		}
	}

	// ANY: eight writes to rp2, each to one destination only.
	anyBatches := subLines("m", 8)
	for i, b := range anyBatches {
		if r := s.Write(params("db", "db", "rp", "rp2"), strings.Join(b, "\n")); r.Status != http.StatusNoContent {
			t.Fatalf("write %d to rp2: %d %s", i, r.Status, r.Body)
		}
	}
	wantAny := sortedLines(append(slices.Clone(anyBatches), subLines("m2", 2)[1])...)
	svcEventually(t, svcTimeout, "ANY forwards every write once", func() string {
		got := sortedLines(anyA.received("m", "m2"), anyB.received("m", "m2"))
		if d := cmp.Diff(wantAny, got); d != "" {
			return "(-written +received by the two):\n" + d
		}
		return ""
	})
	if a, b := len(anyA.received("m")), len(anyB.received("m")); a == 0 || b == 0 {
		t.Errorf("ANY sent %d lines to one destination and %d to the other: want both used", a, b)
	}
	for _, r := range anyA.requestLines() {
		if r != "POST /write?db=db&rp=rp2" {
			t.Errorf("ANY's destination got %q", r)
		}
	}

	// The statistics count what each destination was sent.
	svcEventually(t, svcTimeout, "per-destination statistics", func() string {
		st := subStats(t, s)
		for _, k := range []*lineSink{udp, web, anyA, anyB} {
			if got, want := st[k.url]["pointsWritten"], float64(len(k.received())); got != want {
				return fmt.Sprintf("%s: pointsWritten %v, %v points received", k.url, got, want)
			}
			if st[k.url]["writeFailures"] != 0 || st[k.url]["writesDropped"] != 0 {
				return fmt.Sprintf("%s: failures %v", k.url, st[k.url])
			}
		}
		return ""
	})

	// DROP SUBSCRIPTION: once the subscriber has stopped it (its
	// statistics go), writes reach the witness only.
	svcExec(t, s, `DROP SUBSCRIPTION "all" ON db.autogen`)
	subs = svcQuery(t, s, "SHOW SUBSCRIPTIONS")
	if len(subs) != 1 || len(subs[0].Values) != 2 {
		t.Fatalf("SHOW SUBSCRIPTIONS after DROP: %v", subs)
	}
	svcEventually(t, svcTimeout, "the dropped subscription stops", func() string {
		st := subStats(t, s)
		for _, k := range []*lineSink{udp, web} {
			if _, ok := st[k.url]; ok {
				return k.url + " still has statistics"
			}
		}
		return ""
	})
	udpBefore, webBefore := udp.received(), web.received()
	late := subLines("late", 3)
	for _, b := range late {
		if r := s.Write(params("db", "db"), strings.Join(b, "\n")); r.Status != http.StatusNoContent {
			t.Fatalf("write after DROP: %d %s", r.Status, r.Body)
		}
	}
	wantLate := sortedLines(late...)
	svcEventually(t, svcTimeout, "the witness gets the writes after the drop", func() string {
		if d := cmp.Diff(wantLate, witness.received("late")); d != "" {
			return "(-written +received):\n" + d
		}
		return ""
	})
	if d := cmp.Diff(udpBefore, udp.received()); d != "" {
		t.Errorf("the UDP destination received after DROP SUBSCRIPTION:\n%s", d)
	}
	if d := cmp.Diff(webBefore, web.received()); d != "" {
		t.Errorf("the HTTP destination received after DROP SUBSCRIPTION:\n%s", d)
	}
}

// TestSubscriptionDeadDestinations: destinations that refuse connections
// or never answer neither slow nor fail writes; the subscriber counts the
// failed writes, and the writes it could not send are counted as dropped
// when the subscription is dropped.
func TestSubscriptionDeadDestinations(t *testing.T) {
	t.Parallel()
	s := harness.Start(t, harness.Options{})
	createDB(t, s, "db")

	// A port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String()
	l.Close()
	// A server that takes every request and never answers.
	var hung atomic.Int64
	release := make(chan struct{})
	blackhole := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hung.Add(1)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(blackhole.Close)
	t.Cleanup(func() { close(release) }) // first: lets Close return

	svcExec(t, s, fmt.Sprintf(`CREATE SUBSCRIPTION dead ON db.autogen DESTINATIONS ALL '%s', '%s'`, refused, blackhole.URL))
	svcEventually(t, svcTimeout, "the subscription starts", func() string {
		st := subStats(t, s)
		if _, ok := st[refused]; !ok {
			return "no statistics for " + refused
		}
		return ""
	})

	// More writes than the black hole's writers can hold (40: the
	// subscriber's write-concurrency, 1.x's default, which stratad does not
	// let the config change), so that its queue fills too.
	const writes, perWrite = 60, 3
	var slowest time.Duration
	for i, b := range subLines("m", writes) {
		start := time.Now()
		if r := s.Write(params("db", "db"), strings.Join(b, "\n")); r.Status != http.StatusNoContent {
			t.Fatalf("write %d: %d %s", i, r.Status, r.Body)
		}
		slowest = max(slowest, time.Since(start))
	}
	// The subscriber's HTTP timeout is 30 s: a write that waited for a
	// destination would take that long.
	if slowest > 5*time.Second {
		t.Errorf("the slowest write took %s with dead destinations", slowest)
	}
	if got := svcCount(t, s, "db", "v", "m", ""); got != writes*perWrite {
		t.Fatalf("%d points stored, want %d", got, writes*perWrite)
	}

	svcEventually(t, svcTimeout, "the failures are counted", func() string {
		st := subStats(t, s)
		r, b := st[refused], st[blackhole.URL]
		switch {
		case r["writeFailures"] != writes || r["pointsWritten"] != 0:
			return fmt.Sprintf("%s: %v", refused, r)
		case hung.Load() != 40 || b["queueLength"] != writes-40:
			return fmt.Sprintf("black hole: %d requests hanging, statistics %v", hung.Load(), b)
		}
		return ""
	})

	// Dropping the subscription cancels the hung writes and empties the
	// queue: all of the black hole's writes are dropped.
	svcExec(t, s, "DROP SUBSCRIPTION dead ON db.autogen")
	svcEventually(t, svcTimeout, "the dropped writes are counted", func() string {
		svc := subStats(t, s)[""]
		if svc["writesDropped"] != writes || svc["pointsDropped"] != writes*perWrite ||
			svc["writeFailures"] != 2*writes || svc["pointsWritten"] != 0 {
			return fmt.Sprintf("subscriber statistics %v; want %d writes (%d points) dropped, %d failures",
				svc, writes, writes*perWrite, 2*writes)
		}
		return ""
	})
	if r := s.Do(http.MethodGet, "/ping", nil, nil); r.Status != http.StatusNoContent {
		t.Fatalf("/ping after the drop: %d", r.Status)
	}
}

// [subscriber] enabled = false: subscriptions can be created and listed,
// but nothing is forwarded; with write-buffer-size = 1 and a destination
// that never answers, writes beyond the one queued (and the one per
// writer in flight) are dropped and counted.
func TestSubscriberConfig(t *testing.T) {
	t.Parallel()
	t.Run("disabled", func(t *testing.T) {
		t.Parallel()
		s := harness.Start(t, harness.Options{Config: "[subscriber]\nenabled = false\n"})
		createDB(t, s, "db")
		sink := newHTTPSink(t)
		svcExec(t, s, fmt.Sprintf(`CREATE SUBSCRIPTION "s" ON db.autogen DESTINATIONS ALL '%s'`, sink.url))
		if subs := svcQuery(t, s, "SHOW SUBSCRIPTIONS"); len(subs) != 1 {
			t.Fatalf("SHOW SUBSCRIPTIONS: %v", subs)
		}
		for i, b := range subLines("m", 5) {
			if r := s.Write(params("db", "db"), strings.Join(b, "\n")); r.Status != http.StatusNoContent {
				t.Fatalf("write %d: %d %s", i, r.Status, r.Body)
			}
		}
		// Nothing can be awaited when nothing is sent: give a forwarder
		// that should not exist ample time (enabled, forwarding takes
		// milliseconds here).
		time.Sleep(500 * time.Millisecond)
		if got := sink.received(); len(got) != 0 {
			t.Fatalf("forwarded %d lines with [subscriber] enabled = false", len(got))
		}
	})
	t.Run("buffer", func(t *testing.T) {
		t.Parallel()
		s := harness.Start(t, harness.Options{Config: "[subscriber]\nwrite-concurrency = 1\nwrite-buffer-size = 1\nhttp-timeout = \"30s\"\n"})
		createDB(t, s, "db")
		hang := make(chan struct{})
		dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
		t.Cleanup(dead.Close)             // runs last: it waits for the handlers,
		t.Cleanup(func() { close(hang) }) // which this releases first
		svcExec(t, s, fmt.Sprintf(`CREATE SUBSCRIPTION "s" ON db.autogen DESTINATIONS ALL '%s'`, dead.URL))
		const writes = 10
		deadline := time.Now().Add(30 * time.Second)
		for {
			for i, b := range subLines("m", writes) {
				if r := s.Write(params("db", "db"), strings.Join(b, "\n")); r.Status != http.StatusNoContent {
					t.Fatalf("write %d: %d %s", i, r.Status, r.Body)
				}
			}
			// One write in flight, one queued: the others are dropped,
			// once the subscription is known to the forwarder.
			var dropped float64
			for _, st := range subStats(t, s) {
				dropped += st["writesDropped"]
			}
			if dropped >= writes-2 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("writesDropped = %v after rounds of %d writes; want at least %d a round with a 1-write buffer", dropped, writes, writes-2)
			}
		}
	})
}
