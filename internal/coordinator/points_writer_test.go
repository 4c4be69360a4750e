package coordinator

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage"
	"github.com/stratadb/strata/internal/storage/engine"
	"github.com/stratadb/strata/internal/vfs"
	"golang.org/x/crypto/bcrypt"
)

type pwMeta struct{ *meta.Store }

func (m pwMeta) ShardExists(id uint64) bool {
	_, _, sg := m.Data().ShardOwner(id)
	return sg != nil && !sg.Deleted()
}

// TestPointsWriterSpansShardGroups: one request across three hourly shard
// groups, with points beyond the retention window among them, reaches
// each shard with exactly its points in request order.
func TestPointsWriterSpansShardGroups(t *testing.T) {
	dir := t.TempDir()
	ms, err := meta.Open(vfs.Default, filepath.Join(dir, "meta"), meta.Options{RetentionAutoCreate: true, BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	day := 24 * time.Hour
	if _, err := ms.CreateDatabaseWithRetentionPolicy("db", &meta.RetentionPolicySpec{Name: "day", Duration: &day}); err != nil {
		t.Fatal(err)
	}
	st, err := storage.Open(vfs.Default, filepath.Join(dir, "data"), filepath.Join(dir, "wal"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 25, 12, 30, 0, 0, time.UTC)
	var forwarded int
	w := NewPointsWriter(pwMeta{ms}, st, PointsWriterOptions{
		Now:        func() time.Time { return now },
		AfterWrite: func(_, _ string, pts []models.Point) { forwarded += len(pts) },
	})

	var pts []models.Point
	want := map[int64]bool{}
	for i := range 30 {
		// Interleaved hours: 10:xx, 11:xx, 12:xx, and every fifth point two
		// days old (beyond the 24 h policy).
		tm := now.Add(-time.Duration(i%3)*time.Hour - time.Duration(i)*time.Second)
		if i%5 == 4 {
			tm = now.Add(-48 * time.Hour)
		} else {
			want[tm.UnixNano()] = true
		}
		pts = append(pts, models.Point{
			Measurement: []byte("m"),
			Fields:      []models.Field{models.IntegerField([]byte("i"), int64(i))},
			Time:        tm.UnixNano(),
		})
	}
	err = w.WritePoints(context.Background(), "db", "", pts)
	var pe *models.PartialWriteError
	if !errors.As(err, &pe) || pe.Dropped != 6 || pe.Reason != "points beyond retention policy" {
		t.Fatalf("got %v, want 6 points beyond retention policy", err)
	}
	if forwarded != 24 {
		t.Fatalf("forwarded %d points to subscribers, want 24", forwarded)
	}
	ids := st.ShardIDs()
	if len(ids) != 3 {
		t.Fatalf("%d shards, want one per hour (3)", len(ids))
	}
	key := models.AppendSeriesKey(nil, []byte("m"), nil)
	got := map[int64]bool{}
	for _, id := range ids {
		sh := st.Shard(id)
		sid := sh.Index().SeriesID(key)
		c := engine.NewCursor[int64](sh, key, sid, "i", models.MinNanoTime, models.MaxNanoTime, true)
		var times []int64
		for {
			b, err := c.Next(false)
			if err != nil {
				t.Fatal(err)
			}
			if b.Len() == 0 {
				break
			}
			times = append(times, b.Times...)
		}
		c.Close()
		if len(times) == 0 || !slices.IsSorted(times) {
			t.Fatalf("shard %d: %v", id, times)
		}
		hour := time.Unix(0, times[0]).Truncate(time.Hour)
		for _, tm := range times {
			if time.Unix(0, tm).Truncate(time.Hour) != hour {
				t.Fatalf("shard %d holds points of two hours: %v", id, times)
			}
			got[tm] = true
		}
	}
	if fmt.Sprint(len(got)) != fmt.Sprint(len(want)) {
		t.Fatalf("stored %d points, want %d", len(got), len(want))
	}
	for tm := range want {
		if !got[tm] {
			t.Fatalf("point at %v missing", time.Unix(0, tm))
		}
	}
}
