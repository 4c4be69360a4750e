package meta_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/crypto/bcrypt"

	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/vfs"
)

func testOptions() meta.Options {
	return meta.Options{RetentionAutoCreate: true, BcryptCost: bcrypt.MinCost}
}

func openStore(t *testing.T, fsys vfs.FS, dir string) *meta.Store {
	t.Helper()
	s, err := meta.Open(fsys, dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// reopen opens dir again with the real file system and returns its Data.
func reopen(t *testing.T, dir string) *meta.Data {
	t.Helper()
	s, err := meta.Open(vfs.OS{}, dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	return s.Data()
}

func TestStoreOpenCreatesFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "meta")
	s := openStore(t, vfs.OS{}, dir)
	if _, err := os.Stat(filepath.Join(dir, meta.FileName)); err != nil {
		t.Fatalf("meta.db not created: %v", err)
	}
	if s.Path() != filepath.Join(dir, meta.FileName) {
		t.Fatalf("Path = %q", s.Path())
	}
	if d := s.Data(); d.Version != 0 || len(d.Databases) != 0 {
		t.Fatalf("new store data = %+v", d)
	}
	if _, err := meta.Open(vfs.OS{}, dir, meta.Options{BcryptCost: 99}); err == nil {
		t.Fatal("Open accepted bcrypt cost 99")
	}
}

func TestStorePersistenceRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, vfs.OS{}, dir)
	if _, err := s.CreateDatabase("db0"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateDatabaseWithRetentionPolicy("db1", &meta.RetentionPolicySpec{Name: "rp1", Duration: ptr(2 * day)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateShardGroupIfNotExists("db0", "", mustDate(t, "2024-05-01T10:00:00Z")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser("root", "secret", true); err != nil {
		t.Fatal(err)
	}
	err := s.Apply(func(d *meta.Data) error {
		if err := d.CreateContinuousQuery("db0", "cq", "SELECT 1"); err != nil {
			return err
		}
		if err := d.CreateSubscription("db1", "rp1", "s", "ALL", []string{"udp://h:1"}); err != nil {
			return err
		}
		return d.DeleteShardGroupAt("db0", "autogen", 1, mustDate(t, "2024-06-01T00:00:00Z"))
	})
	if err != nil {
		t.Fatal(err)
	}
	want := s.Data()
	if want.Version != 5 {
		t.Fatalf("Version = %d, want 5", want.Version)
	}
	s.Close()
	got := reopen(t, dir)
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("reopened data (-want +got):\n%s", diff)
	}
}

func TestStoreCreateDatabase(t *testing.T) {
	s := openStore(t, vfs.OS{}, t.TempDir())
	di, err := s.CreateDatabase("db0")
	if err != nil {
		t.Fatal(err)
	}
	want := &meta.DatabaseInfo{Name: "db0", DefaultRetentionPolicy: "autogen",
		RetentionPolicies: []meta.RetentionPolicyInfo{*meta.DefaultRetentionPolicyInfo()}}
	if diff := cmp.Diff(want, di); diff != "" {
		t.Fatalf("database (-want +got):\n%s", diff)
	}
	if want.RetentionPolicies[0].Duration != 0 || want.RetentionPolicies[0].ReplicaN != 1 || want.RetentionPolicies[0].ShardGroupDuration != week {
		t.Fatalf("autogen = %+v", want.RetentionPolicies[0])
	}
	v := s.Data().Version
	if _, err := s.CreateDatabase("db0"); err != nil || s.Data().Version != v {
		t.Fatalf("repeat create: err %v, version %d → %d", err, v, s.Data().Version)
	}
	if _, err := s.CreateDatabase("a/b"); !errors.Is(err, meta.ErrInvalidName) {
		t.Fatalf("invalid name: err = %v", err)
	}

	noAuto, err := meta.Open(vfs.OS{}, t.TempDir(), meta.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	defer noAuto.Close()
	di, err = noAuto.CreateDatabase("db0")
	if err != nil || len(di.RetentionPolicies) != 0 || di.DefaultRetentionPolicy != "" {
		t.Fatalf("without retention-autocreate: %+v, %v", di, err)
	}
	if _, err := noAuto.CreateDatabaseWithRetentionPolicy("db0", &meta.RetentionPolicySpec{Duration: ptr(time.Minute)}); !errors.Is(err, meta.ErrRetentionPolicyDurationTooLow) {
		t.Fatalf("err = %v", err)
	}
}

func TestStoreApplyNoChange(t *testing.T) {
	s := openStore(t, vfs.OS{}, t.TempDir())
	if _, err := s.CreateDatabase("db0"); err != nil {
		t.Fatal(err)
	}
	before := s.Data()
	ch := s.Changed()
	// Idempotent mutations change nothing: no write, no version, no wake.
	for _, fn := range []func(*meta.Data) error{
		func(d *meta.Data) error { return d.CreateDatabase("db0") },
		func(d *meta.Data) error { return d.DropDatabase("nope") },
		func(d *meta.Data) error { d.Version = 99; return nil },
	} {
		if err := s.Apply(fn); err != nil {
			t.Fatal(err)
		}
	}
	if s.Data() != before {
		t.Fatal("no-op Apply published a new snapshot")
	}
	select {
	case <-ch:
		t.Fatal("no-op Apply fired Changed")
	default:
	}
	// A failing mutation changes nothing either, even what it did before
	// failing.
	err := s.Apply(func(d *meta.Data) error {
		d.Databases = nil
		return meta.ErrUserNotFound
	})
	if !errors.Is(err, meta.ErrUserNotFound) || s.Data() != before || len(before.Databases) != 1 {
		t.Fatalf("failed Apply: err %v, data %+v", err, s.Data())
	}
}

func TestStoreChanged(t *testing.T) {
	s := openStore(t, vfs.OS{}, t.TempDir())
	ch := s.Changed()
	if s.Changed() != ch {
		t.Fatal("Changed returned a new channel without a change")
	}
	done := make(chan *meta.Data)
	go func() {
		<-ch
		done <- s.Data()
	}()
	if _, err := s.CreateDatabase("db0"); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-done:
		if d.Database("db0") == nil {
			t.Fatal("woken before the change was visible")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Changed did not fire")
	}
	next := s.Changed()
	if next == ch {
		t.Fatal("Changed returned the closed channel after the change")
	}
	select {
	case <-next:
		t.Fatal("new channel already closed")
	default:
	}
}

func TestStoreClosed(t *testing.T) {
	s := openStore(t, vfs.OS{}, t.TempDir())
	if _, err := s.CreateDatabase("db0"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Apply(func(d *meta.Data) error { return d.CreateDatabase("db1") }); !errors.Is(err, meta.ErrStoreClosed) {
		t.Fatalf("Apply after Close: %v", err)
	}
	if _, err := s.CreateShardGroupIfNotExists("db0", "autogen", time.Unix(0, 0)); !errors.Is(err, meta.ErrStoreClosed) {
		t.Fatalf("CreateShardGroupIfNotExists after Close: %v", err)
	}
	if s.Database("db0") == nil {
		t.Fatal("reads stopped working after Close")
	}
}

func TestStoreOpenCorrupt(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, vfs.OS{}, dir)
	if _, err := s.CreateDatabase("db0"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	path := filepath.Join(dir, meta.FileName)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"empty":     {},
		"truncated": good[:len(good)-3],
		"flipped":   append(append([]byte(nil), good[:30]...), append([]byte{good[30] ^ 4}, good[31:]...)...),
	} {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := meta.Open(vfs.OS{}, dir, testOptions())
			if !errors.Is(err, meta.ErrCorrupt) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Open = %v, want a corrupt-file error naming %s", err, path)
			}
		})
	}
	// Unreadable is an error too, not an empty store.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := meta.Open(vfs.OS{}, dir, testOptions()); err == nil {
		t.Fatal("Open succeeded with meta.db a directory")
	}
}

// TestStoreLeftoverTemp simulates a crash between writing the temporary
// file and renaming it: the old state loads and the debris goes.
func TestStoreLeftoverTemp(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, vfs.OS{}, dir)
	if _, err := s.CreateDatabase("db0"); err != nil {
		t.Fatal(err)
	}
	want := s.Data()
	s.Close()
	tmp := filepath.Join(dir, meta.FileName+".tmp")
	if err := os.WriteFile(tmp, []byte("STRATAMD half a file"), 0o644); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, reopen(t, dir), cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("data after crash (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Fatalf("temporary file left: %v", err)
	}
}

// TestStoreConcurrentShardGroups runs many writers that ask for groups of
// the same and of different windows at once: each window gets exactly one
// group, every caller gets the group that holds its time.
func TestStoreConcurrentShardGroups(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, vfs.OS{}, dir)
	if _, err := s.CreateDatabaseWithRetentionPolicy("db0", &meta.RetentionPolicySpec{Name: "rp", ShardGroupDuration: hour}); err != nil {
		t.Fatal(err)
	}
	base := mustDate(t, "2024-01-01T00:00:00Z")
	const (
		writers = 16
		windows = 12
		calls   = 40
	)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range calls {
				// Same windows from every writer, at different offsets.
				ts := base.Add(time.Duration((w+i)%windows)*hour + time.Duration(w*i)*time.Second)
				sg, err := s.CreateShardGroupIfNotExists("db0", "rp", ts)
				if err != nil {
					errs <- err
					return
				}
				if !sg.Contains(ts) {
					errs <- errors.New("group does not hold the time")
					return
				}
				if _, err := s.ShardGroupsByTimeRange("db0", "rp", base, ts); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rp, err := s.RetentionPolicy("db0", "rp")
	if err != nil {
		t.Fatal(err)
	}
	if len(rp.ShardGroups) != windows || s.Data().MaxShardGroupID != windows {
		t.Fatalf("%d groups (max id %d), want %d", len(rp.ShardGroups), s.Data().MaxShardGroupID, windows)
	}
	checkNoOverlap(t, rp)
	if v := s.Data().Version; v != 1+windows {
		t.Fatalf("Version = %d, want %d", v, 1+windows)
	}
	s.Close()
	if got := len(reopen(t, dir).Databases[0].RetentionPolicies[0].ShardGroups); got != windows {
		t.Fatalf("reopened: %d groups", got)
	}
}

func TestStoreCreateShardGroupErrors(t *testing.T) {
	s := openStore(t, vfs.OS{}, t.TempDir())
	if _, err := s.CreateShardGroupIfNotExists("nodb", "rp", time.Unix(0, 0)); !errors.Is(err, meta.ErrDatabaseNotFound) {
		t.Fatalf("err = %v", err)
	}
	if _, err := s.CreateDatabase("db0"); err != nil {
		t.Fatal(err)
	}
	_, err := s.CreateShardGroupIfNotExists("db0", "nope", time.Unix(0, 0))
	checkErr(t, err, &meta.RetentionPolicyNotFoundError{Name: "nope"})
	_, err = s.ShardGroupsByTimeRange("db0", "nope", time.Unix(0, 0), time.Unix(1, 0))
	checkErr(t, err, &meta.RetentionPolicyNotFoundError{Name: "nope"})
}
