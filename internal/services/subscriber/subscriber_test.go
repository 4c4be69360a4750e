package subscriber_test

import (
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/services/subscriber"
)

// TestForwardUDP delivers writes to a real UDP listener: every line
// arrives, packed into datagrams that respect the payload size and never
// split a line; a line too long for the size goes alone.
func TestForwardUDP(t *testing.T) {
	m := newMeta(t)
	sink := newUDPSink(t)
	subscribe(t, m, "s", "ALL", sink.url())
	s := open(t, m, subscriber.Config{UDPPayloadSize: 200})

	long := models.Point{
		Measurement: []byte("big"),
		Fields:      []models.Field{models.StringField([]byte("s"), []byte(strings.Repeat("x", 300)))},
		Time:        99,
	}
	var want []string
	for w := range 3 {
		pts := points(w*10, 10)
		if w == 1 {
			pts = append(pts, long)
		}
		s.ForwardPoints("db", "rp", pts)
		for k := w * 10; k < w*10+10; k++ {
			want = append(want, line(k))
		}
	}
	want = append(want, `big s="`+strings.Repeat("x", 300)+`" 99`)
	eventually(t, "31 lines over udp", func() bool { return len(sink.lines()) >= len(want) })

	got := sink.lines()
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("lines received (-want +got):\n%s", diff)
	}
	for _, d := range sink.datagrams() {
		if !strings.HasSuffix(d, "\n") {
			t.Fatalf("datagram does not end a line: %q", d)
		}
		if len(d) > 200 && strings.Count(d, "\n") != 1 {
			t.Fatalf("datagram of %d bytes holds %d lines", len(d), strings.Count(d, "\n"))
		}
	}
	if n := len(sink.datagrams()); n < 4 {
		t.Fatalf("%d datagrams; 31 lines of ~25 bytes in 200-byte datagrams need more", n)
	}
	eventually(t, "pointsWritten counted", func() bool {
		return stat(s, sink.url(), "pointsWritten") == 31 && stat(s, "", "pointsWritten") == 31
	})
}

// TestForwardHTTP delivers to a real HTTP server: POST path/write with db,
// rp (the default resolved), basic auth from the URL, and the lines.
func TestForwardHTTP(t *testing.T) {
	m := newMeta(t)
	sink := newHTTPSink(t, http.StatusNoContent, nil)
	dest := strings.Replace(sink.url(), "http://", "http://kap:secret@", 1) + "/prefix"
	subscribe(t, m, "s", "ALL", dest)
	s := open(t, m, subscriber.Config{})

	s.ForwardPoints("db", "", points(0, 3))
	eventually(t, "one http request", func() bool { return len(sink.requests()) == 1 })
	got := sink.requests()[0]
	want := request{method: "POST", path: "/prefix/write", db: "db", rp: "rp", user: "kap", pass: "secret",
		body: line(0) + "\n" + line(1) + "\n" + line(2) + "\n"}
	if got != want {
		t.Fatalf("request:\n got %+v\nwant %+v", got, want)
	}
	eventually(t, "pointsWritten", func() bool { return stat(s, dest, "pointsWritten") == 3 })
}

// TestModes: ALL sends every write to every destination, ANY to one,
// round robin.
func TestModes(t *testing.T) {
	for _, tc := range []struct {
		mode         string
		wantA, wantB int
	}{
		{"ALL", 10, 10},
		{"ANY", 5, 5},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			m := newMeta(t)
			a := newHTTPSink(t, http.StatusNoContent, nil)
			b := newHTTPSink(t, http.StatusNoContent, nil)
			subscribe(t, m, "s", tc.mode, a.url(), b.url())
			s := open(t, m, subscriber.Config{WriteConcurrency: 1})
			for i := range 10 {
				s.ForwardPoints("db", "rp", points(i, 1))
			}
			eventually(t, "all writes delivered", func() bool {
				return len(a.requests())+len(b.requests()) == tc.wantA+tc.wantB
			})
			if len(a.requests()) != tc.wantA || len(b.requests()) != tc.wantB {
				t.Fatalf("requests: %d and %d, want %d and %d", len(a.requests()), len(b.requests()), tc.wantA, tc.wantB)
			}
		})
	}
}

// TestAnyFailover: with ANY, a write that a destination refuses goes to
// the next one; the refusals are counted.
func TestAnyFailover(t *testing.T) {
	m := newMeta(t)
	bad := newHTTPSink(t, http.StatusInternalServerError, nil)
	good := newHTTPSink(t, http.StatusNoContent, nil)
	subscribe(t, m, "s", "ANY", bad.url(), good.url())
	s := open(t, m, subscriber.Config{WriteConcurrency: 1})
	for i := range 10 {
		s.ForwardPoints("db", "rp", points(i*2, 2))
	}
	eventually(t, "every write on the good destination", func() bool { return len(good.requests()) == 10 })
	eventually(t, "failures counted", func() bool { return stat(s, bad.url(), "writeFailures") == 5 })
	eventually(t, "points written counted", func() bool { return stat(s, good.url(), "pointsWritten") == 20 })
	eventually(t, "service writeFailures", func() bool { return stat(s, "", "writeFailures") == 5 })
}

// TestSlowDestination: a destination that does not answer fills its
// queue; further writes are dropped and counted without ever blocking the
// caller, and the other destination of the subscription gets everything.
func TestSlowDestination(t *testing.T) {
	m := newMeta(t)
	hold := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(hold) }) }
	slow := newHTTPSink(t, http.StatusNoContent, hold)
	t.Cleanup(release) // before the server's own cleanup, even on failure
	fast := newUDPSink(t)
	subscribe(t, m, "s", "ALL", slow.url(), fast.url())
	s := open(t, m, subscriber.Config{WriteConcurrency: 1, WriteBufferSize: 2})

	const n = 4 // points per write
	s.ForwardPoints("db", "rp", points(0, n))
	<-slow.arrived // the only writer is now stuck on the first write

	var worst time.Duration
	for i := 1; i < 10; i++ {
		start := time.Now()
		s.ForwardPoints("db", "rp", points(i*n, n))
		worst = max(worst, time.Since(start))
		// Pace on the fast destination, whose queue is as small.
		eventually(t, "the fast destination", func() bool { return len(fast.lines()) == (i+1)*n })
	}
	t.Logf("slowest ForwardPoints while the destination hangs: %v", worst)
	if worst > 500*time.Millisecond {
		t.Fatalf("ForwardPoints blocked for %v on a slow destination", worst)
	}

	st := findStat(s.Statistics(nil), slow.url())
	want := map[string]any{"writesDropped": int64(7), "pointsDropped": int64(7 * n), "queueLength": int64(2),
		"pointsWritten": int64(0), "writeFailures": int64(0)}
	for k, v := range want {
		if st.Values[k] != v {
			t.Fatalf("slow destination %s = %v, want %v (all: %v)", k, st.Values[k], v, st.Values)
		}
	}
	if got := stat(s, "", "writesDropped"); got != 7 {
		t.Fatalf("service writesDropped = %d, want 7", got)
	}
	if got := stat(s, fast.url(), "writesDropped"); got != 0 {
		t.Fatalf("fast destination dropped %d writes", got)
	}

	release()
	eventually(t, "the queued writes delivered", func() bool { return stat(s, slow.url(), "pointsWritten") == 3*n })
	if got := len(slow.requests()); got != 3 {
		t.Fatalf("slow destination got %d writes, want 3", got)
	}
}

// TestFollowsMeta: subscriptions start and stop with meta changes.
func TestFollowsMeta(t *testing.T) {
	m := newMeta(t)
	a, b := newUDPSink(t), newUDPSink(t)
	s := open(t, m, subscriber.Config{})

	s.ForwardPoints("db", "rp", points(0, 1)) // nobody listens yet

	subscribe(t, m, "a", "ALL", a.url())
	subscribe(t, m, "b", "ANY", b.url())
	eventually(t, "both subscriptions running", func() bool {
		return stat(s, a.url(), "queueLength") == 0 && stat(s, b.url(), "queueLength") == 0
	})
	s.ForwardPoints("db", "rp", points(1, 1))
	eventually(t, "delivery to both", func() bool { return len(a.lines()) == 1 && len(b.lines()) == 1 })
	if a.lines()[0] != line(1) {
		t.Fatalf("a got %q: the write before the subscription leaked", a.lines())
	}

	unsubscribe(t, m, "a")
	eventually(t, "a stopped", func() bool { return stat(s, a.url(), "queueLength") == -1 })
	s.ForwardPoints("db", "rp", points(2, 1))
	eventually(t, "delivery to b", func() bool { return len(b.lines()) == 2 })
	if n := len(a.lines()); n != 1 {
		t.Fatalf("a got %d lines after its subscription was dropped", n)
	}

	// Re-creating b with another destination restarts it there.
	unsubscribe(t, m, "b")
	subscribe(t, m, "b", "ANY", a.url())
	eventually(t, "b moved to a's sink", func() bool {
		return stat(s, b.url(), "queueLength") == -1 && stat(s, a.url(), "queueLength") == 0
	})
	s.ForwardPoints("db", "rp", points(3, 1))
	eventually(t, "delivery to the new destination", func() bool { return len(a.lines()) == 2 })
}

// TestNoSubscriptionAllocs: the write path pays nothing when no
// subscription matches.
func TestNoSubscriptionAllocs(t *testing.T) {
	m := newMeta(t)
	s := open(t, m, subscriber.Config{})
	pts := points(0, 100)
	if n := testing.AllocsPerRun(100, func() { s.ForwardPoints("db", "rp", pts) }); n != 0 {
		t.Fatalf("no subscriptions: %v allocations per call", n)
	}
	sink := newUDPSink(t)
	subscribe(t, m, "s", "ALL", sink.url())
	eventually(t, "subscription running", func() bool { return stat(s, sink.url(), "queueLength") == 0 })
	if n := testing.AllocsPerRun(100, func() { s.ForwardPoints("db", "other", pts) }); n != 0 {
		t.Fatalf("subscription on another policy: %v allocations per call", n)
	}
}

// TestCreateFailure: a subscription whose destination cannot be set up is
// skipped and counted; the others run.
func TestCreateFailure(t *testing.T) {
	m := newMeta(t)
	sink := newUDPSink(t)
	subscribe(t, m, "tls", "ALL", "https://127.0.0.1:1")
	subscribe(t, m, "ok", "ALL", sink.url())
	s := open(t, m, subscriber.Config{CACerts: filepath.Join(t.TempDir(), "missing.pem")})
	if got := stat(s, "", "createFailures"); got != 1 {
		t.Fatalf("createFailures = %d, want 1", got)
	}
	s.ForwardPoints("db", "rp", points(0, 1))
	eventually(t, "delivery", func() bool { return len(sink.lines()) == 1 })
}

// TestCloseAbortsStuckWrite: Close does not wait for the HTTP timeout of a
// destination that hangs; the aborted and queued writes count as dropped.
func TestCloseAbortsStuckWrite(t *testing.T) {
	m := newMeta(t)
	hold := make(chan struct{})
	defer close(hold)
	sink := newHTTPSink(t, http.StatusNoContent, hold)
	subscribe(t, m, "s", "ALL", sink.url())
	s := subscriber.New(subscriber.Config{Enabled: true, WriteConcurrency: 1, HTTPTimeout: time.Minute}, m, subscriber.Options{})
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	s.ForwardPoints("db", "rp", points(0, 1))
	<-sink.arrived
	s.ForwardPoints("db", "rp", points(1, 1))
	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %v", d)
	}
	if got := stat(s, "", "writesDropped"); got != 2 {
		t.Fatalf("writesDropped after Close = %d, want 2", got)
	}
	s.ForwardPoints("db", "rp", points(2, 1)) // a no-op after Close
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

func TestDisabledAndConfig(t *testing.T) {
	m := newMeta(t)
	sink := newUDPSink(t)
	subscribe(t, m, "s", "ALL", sink.url())
	off := subscriber.New(subscriber.Config{Enabled: false}, m, subscriber.Options{})
	if err := off.Open(); err != nil {
		t.Fatalf("disabled: open: %v", err)
	}
	off.ForwardPoints("db", "rp", points(0, 1))
	if err := off.Close(); err != nil {
		t.Fatalf("disabled: close: %v", err)
	}
	if len(off.Statistics(nil)) != 1 {
		t.Fatalf("disabled service lists destinations")
	}

	bad := subscriber.New(subscriber.Config{Enabled: true, WriteBufferSize: -1}, m, subscriber.Options{})
	if err := bad.Open(); !errors.Is(err, subscriber.ErrInvalidConfig) {
		t.Fatalf("negative buffer: open: %v, want %v", err, subscriber.ErrInvalidConfig)
	}
	s := open(t, m, subscriber.Config{})
	if err := s.Open(); !errors.Is(err, subscriber.ErrAlreadyOpen) {
		t.Fatalf("second open: %v", err)
	}
	if d := subscriber.NewConfig().Diagnostics(); d["write-buffer-size"] != int64(1000) || d["http-timeout"] != "30s" {
		t.Fatalf("diagnostics: %v", d)
	}
}

// TestStatisticsShape pins the tags and values of the per-destination
// statistic.
func TestStatisticsShape(t *testing.T) {
	m := newMeta(t)
	sink := newUDPSink(t)
	subscribe(t, m, "s", "any", sink.url())
	s := open(t, m, subscriber.Config{})
	st := findStat(s.Statistics(map[string]string{"hostname": "h"}), sink.url())
	if st == nil {
		t.Fatalf("no statistic for the destination")
	}
	wantTags := map[string]string{"hostname": "h", "database": "db", "retention_policy": "rp", "name": "s",
		"mode": "ANY", "destination": sink.url()}
	if diff := cmp.Diff(wantTags, st.Tags); diff != "" {
		t.Fatalf("tags (-want +got):\n%s", diff)
	}
	var keys []string
	for k := range st.Values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"pointsDropped", "pointsWritten", "queueBytes", "queueLength", "writeFailures", "writesDropped"}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Fatalf("values (-want +got):\n%s", diff)
	}
}
