package subscriber_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/services/subscriber"
	"github.com/stratadb/strata/internal/stats"
	"github.com/stratadb/strata/internal/vfs"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newMeta opens a meta store with database db whose default policy is rp.
func newMeta(t testing.TB) *meta.Store {
	t.Helper()
	m, err := meta.Open(vfs.Default, filepath.Join(t.TempDir(), "meta"), meta.Options{})
	if err != nil {
		t.Fatalf("open meta: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if _, err := m.CreateDatabaseWithRetentionPolicy("db", &meta.RetentionPolicySpec{Name: "rp"}); err != nil {
		t.Fatalf("create database: %v", err)
	}
	return m
}

func subscribe(t testing.TB, m *meta.Store, name, mode string, dests ...string) {
	t.Helper()
	if err := m.Apply(func(d *meta.Data) error { return d.CreateSubscription("db", "rp", name, mode, dests) }); err != nil {
		t.Fatalf("create subscription %s: %v", name, err)
	}
}

func unsubscribe(t testing.TB, m *meta.Store, name string) {
	t.Helper()
	if err := m.Apply(func(d *meta.Data) error { return d.DropSubscription("db", "rp", name) }); err != nil {
		t.Fatalf("drop subscription %s: %v", name, err)
	}
}

// open starts a service and closes it at the end of the test.
func open(t testing.TB, m *meta.Store, cfg subscriber.Config) *subscriber.Service {
	t.Helper()
	cfg.Enabled = true
	s := subscriber.New(cfg, m, subscriber.Options{})
	if err := s.Open(); err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// points returns n points whose line protocol is predictable:
// "cpu,host=h<i> value=<i> <base+i>".
func points(base, n int) []models.Point {
	out := make([]models.Point, n)
	for i := range out {
		k := base + i
		out[i] = models.Point{
			Measurement: []byte("cpu"),
			Tags:        []models.Tag{{Key: []byte("host"), Value: []byte("h" + strconv.Itoa(k))}},
			Fields:      []models.Field{models.FloatField([]byte("value"), float64(k))},
			Time:        int64(k),
		}
	}
	return out
}

func line(k int) string {
	return "cpu,host=h" + strconv.Itoa(k) + " value=" + strconv.Itoa(k) + " " + strconv.Itoa(k)
}

// eventually polls cond until it holds or 10 s pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// stat returns a value of the service's statistic (no destination tag) or,
// with dest, of that destination's.
func stat(s *subscriber.Service, dest, value string) int64 {
	for _, st := range s.Statistics(nil) {
		if st.Tags["destination"] == dest {
			v, _ := st.Values[value].(int64)
			return v
		}
	}
	return -1
}

func findStat(sts []stats.Statistic, dest string) *stats.Statistic {
	for i := range sts {
		if sts[i].Tags["destination"] == dest {
			return &sts[i]
		}
	}
	return nil
}

// udpSink collects the datagrams sent to it.
type udpSink struct {
	conn net.PacketConn
	mu   sync.Mutex
	dgs  []string
	done chan struct{}
}

func newUDPSink(t testing.TB) *udpSink {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen udp: %v", err)
	}
	u := &udpSink{conn: c, done: make(chan struct{})}
	go func() {
		defer close(u.done)
		buf := make([]byte, 65536)
		for {
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			u.mu.Lock()
			u.dgs = append(u.dgs, string(buf[:n]))
			u.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		c.Close()
		<-u.done
	})
	return u
}

func (u *udpSink) url() string { return "udp://" + u.conn.LocalAddr().String() }

func (u *udpSink) datagrams() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.dgs...)
}

func (u *udpSink) lines() []string {
	var out []string
	for _, d := range u.datagrams() {
		out = append(out, strings.Split(strings.TrimSuffix(d, "\n"), "\n")...)
	}
	return out
}

// httpSink records /write requests; hold, when set, blocks each request
// until it is closed (a slow destination).
type httpSink struct {
	srv     *httptest.Server
	status  int
	hold    chan struct{}
	arrived chan struct{} // a request arrived (buffered, non-blocking)

	mu   sync.Mutex
	reqs []request
}

type request struct {
	method, path, db, rp, user, pass, body string
}

func newHTTPSink(t testing.TB, status int, hold chan struct{}) *httpSink {
	t.Helper()
	h := &httpSink{status: status, hold: hold, arrived: make(chan struct{}, 1000)}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the body first: only then does the server notice a client
		// that gives up (and cancel r.Context()).
		body, _ := io.ReadAll(r.Body)
		select {
		case h.arrived <- struct{}{}:
		default:
		}
		if h.hold != nil {
			select {
			case <-h.hold:
			case <-r.Context().Done():
				return
			}
		}
		user, pass, _ := r.BasicAuth()
		h.mu.Lock()
		h.reqs = append(h.reqs, request{r.Method, r.URL.Path, r.URL.Query().Get("db"), r.URL.Query().Get("rp"), user, pass, string(body)})
		h.mu.Unlock()
		w.WriteHeader(h.status)
		if h.status >= 300 {
			io.WriteString(w, `{"error":"nope"}`)
		}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *httpSink) url() string { return h.srv.URL }

func (h *httpSink) requests() []request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]request(nil), h.reqs...)
}
