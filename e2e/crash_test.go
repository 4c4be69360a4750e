package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratadb/strata/e2e/harness"
)

// ackModel records the points whose write was acknowledged.
type ackModel struct {
	mu    sync.Mutex
	lines map[string]bool
}

func (m *ackModel) add(lines []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, l := range lines {
		m.lines[l] = true
	}
}

// writeLoad runs writers against s until ctx ends, each writing batches of
// distinct points, and records the acknowledged ones.
func writeLoad(ctx context.Context, s *harness.Server, round, writers int, model *ackModel) (acked, failed int) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	client := &http.Client{Timeout: 30 * time.Second}
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := 0; ctx.Err() == nil; batch++ {
				lines := make([]string, 50)
				for i := range lines {
					ts := (int64(round)*1_000_000+int64(batch)*100+int64(i))*1_000_000_000 + int64(w)
					// Tags in sorted order: the form export writes back.
					lines[i] = fmt.Sprintf("crash,round=r%d,writer=w%d value=%di %d", round, w, batch*100+i, ts)
				}
				resp, err := client.Post(s.URL+"/write?db=db", "text/plain", strings.NewReader(strings.Join(lines, "\n")))
				if err != nil {
					mu.Lock()
					failed++
					mu.Unlock()
					return // the server is gone
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusNoContent {
					model.add(lines)
					mu.Lock()
					acked++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return acked, failed
}

// TestKill9DuringWritesLosesNothingAcknowledged kills stratad repeatedly in
// the middle of a write load and checks, after each restart, that every
// acknowledged point is present and that every file opens.
func TestKill9DuringWritesLosesNothingAcknowledged(t *testing.T) {
	rounds := 6
	if testing.Short() {
		rounds = 2
	}
	// Small caches so that snapshots and compactions run during the load.
	cfg := "[data]\ncache-snapshot-memory-size = \"64k\"\ncompact-full-write-cold-duration = \"1s\"\n"
	model := &ackModel{lines: map[string]bool{}}
	rng := rand.New(rand.NewPCG(7, 9))
	dir := t.TempDir()
	s := harness.Start(t, harness.Options{Dir: dir, Config: cfg})
	createDB(t, s, "db")
	for round := range rounds {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan [2]int)
		go func() {
			a, f := writeLoad(ctx, s, round, 4, model)
			done <- [2]int{a, f}
		}()
		time.Sleep(time.Duration(200+rng.IntN(800)) * time.Millisecond)
		s.Kill()
		cancel()
		res := <-done
		t.Logf("round %d: %d batches acknowledged before kill -9", round, res[0])
		s = harness.Start(t, harness.Options{Dir: dir, Config: cfg})
	}
	s.Stop()

	got := map[string]bool{}
	for _, l := range harness.Export(t, dir) {
		got[l] = true
	}
	missing := 0
	for l := range model.lines {
		if !got[l] {
			if missing < 5 {
				t.Errorf("acknowledged point lost: %s", l)
			}
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged points lost", missing, len(model.lines))
	}
	if len(model.lines) == 0 {
		t.Fatal("no write was acknowledged: the test proved nothing")
	}
	out, errOut, err := harness.RunStrata(t, "inspect", "verify",
		"-dir", filepath.Join(dir, "data"), "-wal-dir", filepath.Join(dir, "wal"))
	if err != nil {
		t.Fatalf("strata inspect verify after the crashes: %v\n%s\n%s", err, out, errOut)
	}
	t.Logf("%d acknowledged points, all present", len(model.lines))
}

// TestDropDatabaseUnderWriteLoad drops a database while writers hammer it
// and another database (1.x #4538): no panic, the other database loses
// nothing, and the dropped one is not recreated by writes in flight.
func TestDropDatabaseUnderWriteLoad(t *testing.T) {
	s := harness.Start(t, harness.Options{})
	createDB(t, s, "victim")
	createDB(t, s, "db")
	model := &ackModel{lines: map[string]bool{}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		writeLoad(ctx, s, 0, 2, model)
	}()
	var statuses sync.Map
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				r, err := http.Post(s.URL+"/write?db=victim", "text/plain",
					strings.NewReader(fmt.Sprintf("v,w=%d value=%d %d", w, i, i+1)))
				if err != nil {
					return
				}
				r.Body.Close()
				statuses.Store(r.StatusCode, true)
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	s.MustQuery("DROP DATABASE victim", nil)
	time.Sleep(300 * time.Millisecond)
	cancel()
	wg.Wait()
	statuses.Range(func(k, _ any) bool {
		if code := k.(int); code != 204 && code != 404 {
			t.Errorf("a write to the dropped database got %d", code)
		}
		return true
	})
	body := s.MustQuery("SHOW DATABASES", nil)
	if strings.Contains(body, "victim") {
		t.Fatalf("dropped database came back: %s", body)
	}
	if r := s.Do(http.MethodGet, "/ping", nil, nil); r.Status != 204 {
		t.Fatalf("server unhealthy after drop: %d", r.Status)
	}
	s.Stop()
	if strings.Contains(s.Log(), "panic") {
		t.Fatalf("panic in the log:\n%s", s.Log())
	}
	for _, l := range harness.Export(t, s.Dir) {
		if strings.HasPrefix(l, "v,") {
			t.Fatalf("data of the dropped database survived: %s", l)
		}
		delete(model.lines, l)
	}
	if len(model.lines) > 0 {
		t.Fatalf("%d acknowledged points of the other database lost", len(model.lines))
	}
}
