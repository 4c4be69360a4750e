// Package periodic runs a check on a ticker in one goroutine, with the
// Start/Stop lifecycle the retention and shard-precreation services share:
// the first check one interval after Start (as 1.x), Stop waiting for a
// running check, both safe to call in any order and more than once.
package periodic

import (
	"sync"
	"time"
)

// Loop is one periodic check; its zero value is stopped.
type Loop struct {
	mu   sync.Mutex
	done chan struct{} // non-nil while running; closed by Stop
	wg   sync.WaitGroup
}

// Start runs check every interval, the first time one interval from now,
// until Stop. It reports false, and starts nothing, when the loop runs
// already. interval must be positive.
func (l *Loop) Start(interval time.Duration, check func()) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done != nil {
		return false
	}
	done := make(chan struct{})
	l.done = done
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				check()
			}
		}
	}()
	return true
}

// Stop ends the loop and waits for a running check to return.
func (l *Loop) Stop() {
	l.mu.Lock()
	done := l.done
	l.done = nil
	l.mu.Unlock()
	if done != nil {
		close(done)
	}
	l.wg.Wait()
}
