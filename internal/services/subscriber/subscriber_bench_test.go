package subscriber_test

import (
	"testing"

	"github.com/stratadb/strata/internal/lineprotocol"
	"github.com/stratadb/strata/internal/services/subscriber"
)

// BenchmarkForwardPoints is the cost the write path pays per request of
// 1000 points: nothing without a subscription; encoding and queueing with
// one (the UDP writer drains the queue meanwhile; writes that find it full
// are dropped, which costs the same).
func BenchmarkForwardPoints(b *testing.B) {
	pts := points(0, 1000)
	var size int
	for i := range pts {
		size = len(lineprotocol.AppendPoint(nil, &pts[i])) + size
	}
	b.Run("none", func(b *testing.B) {
		m := newMeta(b)
		s := open(b, m, subscriber.Config{})
		b.SetBytes(int64(size))
		b.ReportAllocs()
		for b.Loop() {
			s.ForwardPoints("db", "rp", pts)
		}
	})
	b.Run("udp", func(b *testing.B) {
		m := newMeta(b)
		sink := newUDPSink(b)
		subscribe(b, m, "s", "ALL", sink.url())
		s := open(b, m, subscriber.Config{WriteConcurrency: 1})
		b.SetBytes(int64(size))
		b.ReportAllocs()
		for b.Loop() {
			s.ForwardPoints("db", "rp", pts)
		}
	})
}
