package codec_test

import (
	"testing"

	"github.com/stratadb/strata/internal/storage/codec"
)

// TestTSBSBytesPerPoint measures the codecs on the TSBS cpu data set: per
// host one point every 10 s with 10 integer fields, each a random walk in
// 0..100. Data files store, per series and field, blocks of up to 1000
// points, each with its own timestamp column, so a point costs 10 timestamp
// and 10 value entries. The engine's target is 5.2 bytes per point on disk
// with its index and block framing; the codecs must leave room for those.
func TestTSBSBytesPerPoint(t *testing.T) {
	hosts, points := 20, 8640 // a day
	if testing.Short() {
		hosts = 4
	}
	const fields = 10
	const perBlock = 1000
	r := newRand(30)
	times := regularTimes(points)
	tsBytes, valBytes, blocks := 0, 0, 0
	for range hosts {
		for range fields {
			vals := walkInts(r, points)
			for lo := 0; lo < points; lo += perBlock {
				hi := min(lo+perBlock, points)
				tsBytes += len(codec.AppendTimestamps(nil, times[lo:hi]))
				valBytes += len(codec.AppendIntegers(nil, vals[lo:hi]))
				blocks++
			}
		}
	}
	total := float64(hosts * points)
	perPoint := float64(tsBytes+valBytes) / total
	t.Logf("%d hosts × %d points × %d fields in %d blocks: timestamps %.3f B/point, values %.3f B/point (%.3f B/value), codecs total %.3f B/point",
		hosts, points, fields, blocks, float64(tsBytes)/total, float64(valBytes)/total, float64(valBytes)/total/fields, perPoint)
	// The codecs' share of the 5.2 B/point budget; a regression above it
	// leaves too little for the data file's index and framing.
	if perPoint > 3.3 {
		t.Fatalf("codecs use %.3f bytes per point, budget 3.3", perPoint)
	}
}
