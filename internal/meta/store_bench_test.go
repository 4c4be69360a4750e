package meta_test

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/vfs"
)

// BenchmarkAuthenticate compares a repeat caller (cache hit) with the
// bcrypt check every first request pays, at the default cost.
func BenchmarkAuthenticate(b *testing.B) {
	s, err := meta.Open(vfs.OS{}, b.TempDir(), meta.Options{BcryptCost: bcrypt.DefaultCost})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateUser("alice", "correct horse battery staple", false); err != nil {
		b.Fatal(err)
	}
	b.Run("cached", func(b *testing.B) {
		if _, err := s.Authenticate("alice", "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.SetBytes(int64(len("correct horse battery staple")))
		for b.Loop() {
			if _, err := s.Authenticate("alice", "correct horse battery staple"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached-wrong", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len("wrong")))
		for b.Loop() {
			if _, err := s.Authenticate("alice", "wrong"); err == nil {
				b.Fatal("accepted")
			}
		}
	})
	b.Run("uncached", func(b *testing.B) {
		// Every iteration meets a new hash (which invalidates the cache
		// entry), alternating between two precomputed default-cost hashes
		// of the same password, so only the bcrypt check is timed.
		var hashes [2]string
		for i := range hashes {
			h, err := bcrypt.GenerateFromPassword([]byte("correct horse battery staple"), bcrypt.DefaultCost)
			if err != nil {
				b.Fatal(err)
			}
			hashes[i] = string(h)
		}
		b.ReportAllocs()
		b.SetBytes(int64(len("correct horse battery staple")))
		i := 0
		for b.Loop() {
			b.StopTimer()
			h := hashes[i%2]
			i++
			if err := s.Apply(func(d *meta.Data) error { return d.UpdateUser("alice", h) }); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if _, err := s.Authenticate("alice", "correct horse battery staple"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCreateShardGroupIfNotExists is the write path's call for a
// window that exists: no lock, no allocation.
func BenchmarkCreateShardGroupIfNotExists(b *testing.B) {
	s, err := meta.Open(vfs.OS{}, b.TempDir(), meta.Options{RetentionAutoCreate: true, BcryptCost: bcrypt.MinCost})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateDatabaseWithRetentionPolicy("db0", &meta.RetentionPolicySpec{Name: "rp", ShardGroupDuration: time.Hour}); err != nil {
		b.Fatal(err)
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 24 * 30 { // a month of hourly groups
		if _, err := s.CreateShardGroupIfNotExists("db0", "rp", base.Add(time.Duration(i)*time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
	ts := base.Add(29 * 24 * time.Hour)
	b.ReportAllocs()
	b.SetBytes(1)
	for b.Loop() {
		if _, err := s.CreateShardGroupIfNotExists("db0", "rp", ts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCodec encodes and decodes a meta file with 10 databases of a
// year of daily groups each.
func BenchmarkCodec(b *testing.B) {
	d := &meta.Data{}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10 {
		db := fmt.Sprintf("db%d", i)
		if err := d.CreateDatabaseWithRetentionPolicy(db, &meta.RetentionPolicySpec{Duration: ptr(400 * day), ShardGroupDuration: day}); err != nil {
			b.Fatal(err)
		}
		for j := range 365 {
			if err := d.CreateShardGroup(db, "", base.Add(time.Duration(j)*day)); err != nil {
				b.Fatal(err)
			}
		}
	}
	buf, _ := d.MarshalBinary()
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			if _, err := d.MarshalBinary(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			var got meta.Data
			if err := got.UnmarshalBinary(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}
