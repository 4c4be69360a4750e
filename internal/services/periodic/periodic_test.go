package periodic_test

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stratadb/strata/internal/services/periodic"
)

func TestLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l periodic.Loop
		l.Stop() // before Start: nothing to stop
		var n atomic.Int64
		if !l.Start(time.Second, func() { n.Add(1) }) {
			t.Fatal("Start of a stopped loop refused")
		}
		if l.Start(time.Second, func() { t.Error("second loop ran") }) {
			t.Fatal("Start of a running loop accepted")
		}
		synctest.Wait()
		if got := n.Load(); got != 0 {
			t.Fatalf("%d checks before the first interval", got)
		}
		time.Sleep(3*time.Second + time.Millisecond)
		synctest.Wait()
		if got := n.Load(); got != 3 {
			t.Fatalf("%d checks after 3 intervals, want 3", got)
		}
		l.Stop()
		l.Stop()
		time.Sleep(5 * time.Second)
		if got := n.Load(); got != 3 {
			t.Fatalf("%d checks after Stop, want still 3", got)
		}
		// A stopped loop starts again.
		if !l.Start(time.Second, func() { n.Add(10) }) {
			t.Fatal("restart refused")
		}
		time.Sleep(time.Second + time.Millisecond)
		synctest.Wait()
		l.Stop()
		if got := n.Load(); got != 13 {
			t.Fatalf("%d after a restart and one interval, want 13", got)
		}
	})
}

// Stop waits for a check that is running.
func TestStopWaitsForCheck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l periodic.Loop
		release := make(chan struct{})
		var finished atomic.Bool
		l.Start(time.Second, func() {
			<-release
			finished.Store(true)
		})
		time.Sleep(time.Second + time.Millisecond)
		synctest.Wait() // the check is blocked in <-release
		stopped := make(chan struct{})
		go func() {
			l.Stop()
			close(stopped)
		}()
		synctest.Wait()
		select {
		case <-stopped:
			t.Fatal("Stop returned while a check was running")
		default:
		}
		close(release)
		<-stopped
		if !finished.Load() {
			t.Fatal("Stop returned before the check finished")
		}
	})
}
