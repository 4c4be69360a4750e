package httpd

import (
	"context"
	"time"
)

// throttler bounds the writes processed at once (max-concurrent-write-limit)
// and the writes waiting for a turn (max-enqueued-write-limit), and how long
// one waits (enqueued-write-timeout), with 1.x's semantics: a write that
// finds the queue full is refused at once; one that waits too long is
// refused after the timeout. Both are 503s.
type throttler struct {
	// running holds one token per write being processed.
	running chan struct{}
	// admitted holds one token per write running or waiting; nil when the
	// queue is unbounded.
	admitted chan struct{}
	timeout  time.Duration
}

// newThrottler returns nil when concurrent is 0: no throttling at all.
func newThrottler(concurrent, enqueued int, timeout time.Duration) *throttler {
	if concurrent <= 0 {
		return nil
	}
	t := &throttler{running: make(chan struct{}, concurrent), timeout: timeout}
	if enqueued > 0 {
		t.admitted = make(chan struct{}, concurrent+enqueued)
	}
	return t
}

// acquire waits for a turn and returns the function that gives it back.
// Unlike 1.x it also stops waiting when the client goes away.
func (t *throttler) acquire(ctx context.Context) (release func(), err error) {
	if t.admitted != nil {
		select {
		case t.admitted <- struct{}{}:
		default:
			return nil, ErrQueueFull
		}
	}
	leave := func() {
		if t.admitted != nil {
			<-t.admitted
		}
	}
	select {
	case t.running <- struct{}{}:
	default:
		var expired <-chan time.Time
		if t.timeout > 0 {
			timer := time.NewTimer(t.timeout)
			defer timer.Stop()
			expired = timer.C
		}
		select {
		case t.running <- struct{}{}:
		case <-expired:
			leave()
			return nil, ErrEnqueueTimeout
		case <-ctx.Done():
			leave()
			return nil, ctx.Err()
		}
	}
	return func() {
		<-t.running
		leave()
	}, nil
}
