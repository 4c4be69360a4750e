package storage_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage"
	"github.com/stratadb/strata/internal/storage/engine"
	"github.com/stratadb/strata/internal/vfs"
)

func openStore(t *testing.T, dir string) *storage.Store {
	t.Helper()
	s, err := storage.Open(vfs.Default, dir+"/data", dir+"/wal", storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func pt(m, host string, v float64, tm int64) models.Point {
	return models.Point{
		Measurement: []byte(m),
		Tags:        []models.Tag{{Key: []byte("host"), Value: []byte(host)}},
		Fields:      []models.Field{models.FloatField([]byte("v"), v)},
		Time:        tm,
	}
}

func count(t *testing.T, s *storage.Store, db, m, host string) int {
	t.Helper()
	idx := s.Index(db)
	key := models.AppendSeriesKey(nil, []byte(m), []models.Tag{{Key: []byte("host"), Value: []byte(host)}})
	id := idx.SeriesID(key)
	if id == 0 {
		return -1 // not in the index
	}
	n := 0
	for _, shid := range s.ShardIDs() {
		sh := s.Shard(shid)
		if sh.Database() != db {
			continue
		}
		c := engine.NewCursor[float64](sh, key, id, "v", models.MinNanoTime, models.MaxNanoTime, true)
		for {
			b, err := c.Next(false)
			if err != nil {
				t.Fatal(err)
			}
			if b.Len() == 0 {
				break
			}
			n += b.Len()
		}
		c.Close()
	}
	return n
}

func TestDeletesAcrossShardsAndRestart(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	ctx := context.Background()
	for id := uint64(1); id <= 2; id++ {
		if err := s.CreateShardIfNotExists("db", "rp", id, nil); err != nil {
			t.Fatal(err)
		}
		var pts []models.Point
		for i := range 10 {
			tm := int64(id)*100 + int64(i)
			pts = append(pts, pt("cpu", "a", 1, tm), pt("cpu", "b", 2, tm), pt("mem", "a", 3, tm))
		}
		if err := s.WriteToShard(ctx, id, pts); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Shard(1).Flush(); err != nil { // shard 1 in a file, shard 2 in the cache
		t.Fatal(err)
	}
	idx := s.Index("db")
	seriesOf := func(m, host string) *roaring.Bitmap {
		key := models.AppendSeriesKey(nil, []byte(m), []models.Tag{{Key: []byte("host"), Value: []byte(host)}})
		return roaring.BitmapOf(uint32(idx.SeriesID(key)))
	}

	// DELETE: a time range across both shards, series kept.
	if err := s.DeleteSeriesRange(ctx, "db", nil, seriesOf("cpu", "a"), 105, 204); err != nil {
		t.Fatal(err)
	}
	// DROP SERIES and DROP MEASUREMENT.
	if err := s.DropSeries(ctx, "db", seriesOf("cpu", "b")); err != nil {
		t.Fatal(err)
	}
	if err := s.DropMeasurement(ctx, "db", "mem"); err != nil {
		t.Fatal(err)
	}
	check := func(s *storage.Store) {
		t.Helper()
		if got := count(t, s, "db", "cpu", "a"); got != 10 {
			t.Fatalf("cpu,host=a: %d values, want 10 (5 + 5 kept of 20)", got)
		}
		if got := count(t, s, "db", "cpu", "b"); got != -1 {
			t.Fatalf("dropped series cpu,host=b: %d", got)
		}
		if got := count(t, s, "db", "mem", "a"); got != -1 {
			t.Fatalf("dropped measurement mem: %d", got)
		}
		for _, id := range s.ShardIDs() {
			if typ := s.Shard(id).Fields().Type("mem", "v"); typ != models.Unknown {
				t.Fatalf("shard %d still knows mem's field type %v", id, typ)
			}
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	defer s.Close()
	check(s)

	// The measurement name is free for another type after the drop.
	err := s.WriteToShard(ctx, 2, []models.Point{{
		Measurement: []byte("mem"), Fields: []models.Field{models.StringField([]byte("v"), []byte("x"))}, Time: 250,
	}})
	if err != nil {
		t.Fatalf("write a string to the dropped measurement's float field: %v", err)
	}
}

func TestDropDatabaseRemovesEverything(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	defer s.Close()
	ctx := context.Background()
	for i, db := range []string{"a", "b"} {
		id := uint64(i + 1)
		if err := s.CreateShardIfNotExists(db, "rp", id, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteToShard(ctx, id, []models.Point{pt("cpu", "x", 1, 1)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteDatabase("a"); err != nil {
		t.Fatal(err)
	}
	if s.Index("a") != nil || s.Shard(1) != nil {
		t.Fatal("database a is still open")
	}
	if err := s.WriteToShard(ctx, 1, []models.Point{pt("cpu", "x", 1, 2)}); err == nil {
		t.Fatal("write to a dropped shard succeeded")
	}
	// A shard the caller no longer wants is not recreated.
	if err := s.CreateShardIfNotExists("a", "rp", 1, func() bool { return false }); err == nil {
		t.Fatal("CreateShard recreated a dropped shard")
	}
	if got := count(t, s, "b", "cpu", "x"); got != 1 {
		t.Fatalf("other database: %d values", got)
	}
	if _, err := vfs.Default.Stat(fmt.Sprintf("%s/data/a", dir)); err == nil {
		t.Fatal("the dropped database's directory is still there")
	}
}
