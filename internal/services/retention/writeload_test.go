package retention_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/coordinator"
	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/services/retention"
	"github.com/stratadb/strata/internal/storage/engine"
)

// metaClient gives the points writer the meta reads it declares (what the
// server's adapter does).
type metaClient struct{ s *meta.Store }

func (m metaClient) Database(name string) *meta.DatabaseInfo { return m.s.Database(name) }

func (m metaClient) CreateShardGroupIfNotExists(db, rp string, t time.Time) (*meta.ShardGroupInfo, error) {
	return m.s.CreateShardGroupIfNotExists(db, rp, t)
}

func (m metaClient) ShardExists(id uint64) bool {
	_, _, sg := m.s.Data().ShardOwner(id)
	return sg != nil && !sg.Deleted()
}

func (e *env) writer(now func() time.Time) *coordinator.PointsWriter {
	return coordinator.NewPointsWriter(metaClient{e.meta}, e.store, coordinator.PointsWriterOptions{Now: now})
}

// countValues counts the stored values of field "value" of a series in a
// shard over all time.
func countValues(t *testing.T, sh *engine.Shard, seriesKey string) int {
	t.Helper()
	id := sh.Index().SeriesID([]byte(seriesKey))
	if id == 0 {
		return 0
	}
	c := engine.NewCursor[float64](sh, []byte(seriesKey), id, "value", math.MinInt64, math.MaxInt64, true)
	defer c.Close()
	n := 0
	for {
		b, err := c.Next(false)
		if err != nil {
			t.Fatalf("cursor over %s: %v", seriesKey, err)
		}
		if b.Len() == 0 {
			return n
		}
		n += b.Len()
	}
}

// TestPointsBeyondRetention writes through the real points writer and
// storage: points older than the policy's duration are refused with 1.x's
// partial-write text, and the others are stored.
func TestPointsBeyondRetention(t *testing.T) {
	e := newEnv(t)
	e.createDB(t, "db", "rp", time.Hour)
	w := e.writer(newClock(t0).Now)

	pts := []models.Point{
		point("cpu", []byte("a"), 1, t0.Add(-2*time.Hour)),               // beyond
		point("cpu", []byte("a"), 2, t0.Add(-30*time.Minute)),            // kept
		point("cpu", []byte("a"), 3, t0.Add(-61*time.Minute)),            // beyond
		point("cpu", []byte("a"), 4, t0),                                 // kept
		point("cpu", []byte("b"), 5, t0.Add(-59*time.Minute)),            // kept
		point("cpu", []byte("b"), 6, t0.Add(-365*24*time.Hour)),          // beyond
		point("cpu", []byte("b"), 7, t0.Add(-time.Hour)),                 // kept: exactly the edge
		point("cpu", []byte("b"), 8, t0.Add(-time.Hour-time.Nanosecond)), // beyond
	}
	err := w.WritePoints(context.Background(), "db", "", pts)
	var pe *models.PartialWriteError
	if !errors.As(err, &pe) {
		t.Fatalf("write: err = %v, want a partial write", err)
	}
	if got, want := err.Error(), "partial write: points beyond retention policy dropped=4"; got != want {
		t.Fatalf("error text:\n got %q\nwant %q", got, want)
	}

	// The kept points are readable from storage.
	got := map[string]int{}
	for _, id := range e.store.ShardIDs() {
		sh := e.store.Shard(id)
		for _, key := range []string{"cpu,host=a", "cpu,host=b"} {
			got[key] += countValues(t, sh, key)
		}
	}
	if got["cpu,host=a"] != 2 || got["cpu,host=b"] != 2 {
		t.Fatalf("stored values per series: %v, want 2 each", got)
	}

	// A write with every point beyond the policy stores nothing and says so.
	err = w.WritePoints(context.Background(), "db", "rp", pts[:1])
	if err == nil || err.Error() != "partial write: points beyond retention policy dropped=1" {
		t.Fatalf("all-old write: err = %v", err)
	}
}

// TestDropUnderWriteLoad drops an expired shard group, with a few hundred
// thousand values on disk, while writers hammer the current shard through
// the real points writer. Every write must succeed; the latencies seen
// during the drop are logged.
func TestDropUnderWriteLoad(t *testing.T) {
	e := newEnv(t)
	e.createDB(t, "db", "rp", time.Hour)
	clk := newClock(t0)
	w := e.writer(clk.Now)

	// The old group: 3 h ago, flushed to a data file.
	series, perSeries := 100, 2000
	if testing.Short() {
		series, perSeries = 20, 500
	}
	oldGID, oldSID := e.group(t, "db", "rp", t0.Add(-3*time.Hour))
	e.writeShard(t, oldSID, t0.Add(-3*time.Hour), series, perSeries)
	if err := e.store.Shard(oldSID).Flush(); err != nil {
		t.Fatalf("flush old shard: %v", err)
	}

	const writers = 4
	var (
		stop      atomic.Bool
		wg        sync.WaitGroup
		mu        sync.Mutex
		lat       []time.Duration
		spans     [][2]time.Time
		writeErrs []error
		written   atomic.Int64
	)
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			host := []byte("w" + strconv.Itoa(g))
			pts := make([]models.Point, 100)
			for n := 0; !stop.Load(); n++ {
				for i := range pts {
					// Within the last hour: the current, live group.
					at := t0.Add(-10*time.Minute + time.Duration(n*len(pts)+i)*time.Millisecond)
					pts[i] = point("load", host, float64(i), at)
				}
				start := time.Now()
				err := w.WritePoints(context.Background(), "db", "rp", pts)
				end := time.Now()
				mu.Lock()
				lat = append(lat, end.Sub(start))
				spans = append(spans, [2]time.Time{start, end})
				if err != nil {
					writeErrs = append(writeErrs, err)
				}
				mu.Unlock()
				if err == nil {
					written.Add(int64(len(pts)))
				}
			}
		}()
	}
	// Let the load settle, drop, then keep writing a little.
	for written.Load() < 20_000 {
		time.Sleep(time.Millisecond)
	}
	svc := retention.New(retention.Config{Enabled: true, CheckInterval: time.Minute}, e.meta, e.store,
		retention.Options{Now: clk.Now})
	dropStart := time.Now()
	res, err := svc.DeletionCheck()
	dropEnd := time.Now()
	time.Sleep(50 * time.Millisecond)
	stop.Store(true)
	wg.Wait()

	if err != nil {
		t.Fatalf("check under load: %v", err)
	}
	if want := (retention.Result{GroupsDeleted: 1, ShardsDeleted: 1}); res != want {
		t.Fatalf("check under load: %+v, want %+v", res, want)
	}
	if g := e.groupInfo(t, "db", "rp", oldGID); !g.Deleted() || e.store.Shard(oldSID) != nil {
		t.Fatalf("old group not dropped: %+v", g)
	}
	if len(writeErrs) > 0 {
		t.Fatalf("%d of %d writes failed during the drop; first: %v", len(writeErrs), len(lat), writeErrs[0])
	}

	var during []time.Duration
	for i, s := range spans {
		if s[1].After(dropStart) && s[0].Before(dropEnd) {
			during = append(during, lat[i])
		}
	}
	slices.Sort(lat)
	slices.Sort(during)
	maxDuring := time.Duration(0)
	if len(during) > 0 {
		maxDuring = during[len(during)-1]
	}
	t.Logf("dropped a group of %d values in %v; %d writes of 100 points, all ok; "+
		"latency p50 %v, max %v overall; %d writes overlapped the drop, max latency during it %v",
		series*perSeries, dropEnd.Sub(dropStart), len(lat), lat[len(lat)/2], lat[len(lat)-1], len(during), maxDuring)
}
