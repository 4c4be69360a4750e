package continuousquery_test

import (
	"testing"
	"testing/synctest"
	"time"

	cqs "github.com/stratadb/strata/internal/services/continuousquery"
)

// TestServiceLoop runs the service's own loop on synctest's fake clock:
// two simulated hours of one-second ticks take no real time, and the
// hourly query runs right after each hour ends.
func TestServiceLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMeta(t, "hourly", cqText("hourly", "", "time(1h)"))
		exec := &fakeExec{}
		s := cqs.New(cqs.Config{Enabled: true, RunInterval: time.Second}, m, exec, cqs.Options{})
		if err := s.Open(); err != nil {
			t.Fatal(err)
		}
		start := time.Now() // the bubble's clock: 2000-01-01 00:00 UTC
		time.Sleep(2*time.Hour + 1500*time.Millisecond)
		synctest.Wait()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		runs := exec.take()
		if got := windows(runs); got != "00:00-01:00 01:00-02:00" {
			t.Fatalf("windows %q", got)
		}
		if !runs[0].end.Equal(start.Add(time.Hour)) {
			t.Fatalf("first window ends %s, want %s", runs[0].end, start.Add(time.Hour))
		}
		if ok, fail := statValues(t, s); ok != 2 || fail != 0 {
			t.Fatalf("queryOk %d queryFail %d", ok, fail)
		}
	})
}
