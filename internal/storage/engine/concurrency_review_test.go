package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/models"
)

// rvGoT lets model checks run in goroutines other than the test's: Fatalf
// reports the failure and ends only the calling goroutine.
type rvGoT struct {
	testing.TB
	failed *atomic.Bool
}

func (g rvGoT) Helper() {}
func (g rvGoT) Fatalf(format string, args ...any) {
	g.failed.Store(true)
	g.TB.Errorf(format, args...)
	runtime.Goexit()
}

// TestReviewConcurrentModel runs, all at once and under -race when asked:
// writers (each owning its series, with duplicate and out-of-order times),
// deletes by the same writers, background snapshots (small cache) and
// compactions (short check interval, an idle clock that jumps to trigger
// full compactions), explicit Flush and Compact calls, and readers of every
// series. Each writer checks its own series against its own model after
// every operation, in both directions, so a delete or write lost or undone
// by a concurrent snapshot or compaction shows at once. At the end all
// models are checked again, after a clean restart and after a crash.
func TestReviewConcurrentModel(t *testing.T) {
	for _, seed := range rvSeeds(t, 2, 10) {
		t.Run(rvRunName(seed), func(t *testing.T) {
			rvConcurrent(t, seed)
		})
	}
}

func rvConcurrent(t *testing.T, seed uint64) {
	const writers, perWriter = 3, 2
	ops := 30
	if testing.Short() {
		ops = 15
	} else if rvLong() {
		ops = 400
	}
	h := newRVHarness(t, Options{
		CacheSnapshotMemorySize:      24 << 10,
		CheckInterval:                3 * time.Millisecond,
		CompactFullWriteColdDuration: time.Hour,
	}, rvUseMem(seed), seed)
	mods := make([]*rvModel, writers)
	for w := range mods {
		mods[w] = newRVModel()
	}
	// Fix the field types before the race starts.
	if err := h.rvWrite([]models.Point{rvPoint(0, -10, 1, 1)}); err != nil {
		t.Fatal(err)
	}
	mods[0].write(0, -10, 0, 1, true)
	mods[0].write(0, -10, 1, 1, true)

	var failed atomic.Bool
	var counter atomic.Int64
	stop := make(chan struct{})
	var bg, wg sync.WaitGroup

	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gt := rvGoT{TB: t, failed: &failed}
			rng := rand.New(rand.NewPCG(seed, uint64(w)+100))
			m := mods[w]
			own := []int{w * perWriter, w*perWriter + 1}
			for i := range ops {
				if failed.Load() {
					return
				}
				if rng.IntN(5) == 0 {
					series := own[:1+rng.IntN(2)]
					lo, hi := int64(models.MinNanoTime), int64(models.MaxNanoTime)
					if rng.IntN(4) != 0 {
						a, b := rng.Int64N(2200)-100, rng.Int64N(2200)-100
						lo, hi = min(a, b), max(a, b)
					}
					if err := h.sh.DeleteRange(context.Background(), h.rvIDs(series), lo, hi); err != nil {
						gt.Fatalf("writer %d: delete: %v", w, err)
					}
					m.del(series, lo, hi, true)
				} else {
					var pts []models.Point
					n := 1 + rng.IntN(40)
					if rng.IntN(6) == 0 {
						n = 300 + rng.IntN(900)
					}
					start := rng.Int64N(2000)
					for k := range n {
						s := own[rng.IntN(len(own))]
						tm := start + int64(k)
						if n < 100 {
							tm = rng.Int64N(2000)
						}
						v, nv := counter.Add(1), counter.Add(1)
						pts = append(pts, rvPoint(s, tm, v, nv))
						m.write(s, tm, 0, v, true)
						m.write(s, tm, 1, nv, true)
					}
					if err := h.rvWrite(pts); err != nil {
						gt.Fatalf("writer %d: write: %v", w, err)
					}
				}
				m.check(gt, h, rng, own, fmt.Sprintf("writer %d op %d", w, i))
			}
		}()
	}
	// Explicit snapshots and compactions, racing the writers and the
	// background goroutine.
	bg.Add(1)
	go func() {
		defer bg.Done()
		rng := rand.New(rand.NewPCG(seed, 7))
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(rng.IntN(15)) * time.Millisecond):
			}
			var err error
			switch rng.IntN(4) {
			case 0, 1:
				err = h.sh.Flush()
			case 2:
				err = h.sh.Compact(context.Background())
			case 3:
				h.clock.Advance(2 * time.Hour) // the background may compact fully
			}
			if err != nil {
				t.Errorf("flush/compact: %v", err)
				failed.Store(true)
				return
			}
		}
	}()
	// Readers of every series: order and errors only (the values race).
	for r := range 2 {
		bg.Add(1)
		go func() {
			defer bg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(r)+50))
			for {
				select {
				case <-stop:
					return
				default:
				}
				s, f := rng.IntN(writers*perWriter), rng.IntN(2)
				if _, err := rvReadField(h.sh, h.idx, s, f, models.MinNanoTime, models.MaxNanoTime, rng.IntN(2) == 0); err != nil {
					t.Errorf("reader: %v", err)
					failed.Store(true)
					return
				}
				if _, _, _, err := rvStatsRead(h.sh, h.idx, s, f, rng.Int64N(1000), 1000+rng.Int64N(1000), rng.IntN(2) == 0); err != nil {
					t.Errorf("stats reader: %v", err)
					failed.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	bg.Wait()
	if failed.Load() {
		return
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	checkAll := func(step string) {
		for w, m := range mods {
			m.check(t, h, rng, []int{w * perWriter, w*perWriter + 1}, step)
		}
	}
	checkAll("after the race")
	st := &h.sh.stats
	t.Logf("during the race: %d snapshots, %d level-2, %d level-3, %d full compactions",
		st.snapshots.Load(), st.compactions[0].Load(), st.compactions[1].Load(), st.compactions[2].Load()+st.compactions[3].Load())
	if st.snapshots.Load() == 0 {
		t.Fatal("no snapshot ran during the race: the test exercised nothing")
	}
	h.reopen()
	checkAll("after a clean restart")
	rvWriteRun(t, h, 0, 5000, 5001, func(int64) int64 { return 1 })
	mods[0].write(0, 5000, 0, 1, true)
	h.crashReopen()
	checkAll("after a crash")
}
