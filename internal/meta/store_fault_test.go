package meta_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/vfs"
)

// TestStoreFailedWrite fails each step of the atomic write in turn and
// checks that Apply reports it, that memory and disk keep the old state,
// that the store works once the fault is gone, and that a reopen sees
// exactly what memory says.
func TestStoreFailedWrite(t *testing.T) {
	for _, op := range []vfs.Op{vfs.OpOpen, vfs.OpWrite, vfs.OpSync, vfs.OpRename, vfs.OpSyncDir} {
		t.Run(string(op), func(t *testing.T) {
			dir := t.TempDir()
			efs := vfs.NewErrorFS(vfs.OS{}, nil)
			s := openStore(t, efs, dir)
			if _, err := s.CreateDatabase("db0"); err != nil {
				t.Fatal(err)
			}
			old := s.Data()
			ch := s.Changed()

			fails := 0
			efs.SetInjector(func(o vfs.Op, path string) error {
				if o == op && (o == vfs.OpSyncDir || strings.HasPrefix(filepath.Base(path), meta.FileName)) {
					fails++
					return vfs.ErrInjected
				}
				return nil
			})
			_, err := s.CreateShardGroupIfNotExists("db0", "autogen", mustDate(t, "2024-01-01T00:00:00Z"))
			if !errors.Is(err, vfs.ErrInjected) || fails == 0 {
				t.Fatalf("err = %v after %d injected failures, want the injected error", err, fails)
			}
			if !strings.Contains(err.Error(), filepath.Join(dir, meta.FileName)) {
				t.Fatalf("error %q does not name the file", err)
			}
			if s.Data() != old {
				t.Fatal("memory changed after a failed write")
			}
			select {
			case <-ch:
				t.Fatal("Changed fired after a failed write")
			default:
			}
			efs.SetInjector(nil)
			if diff := cmp.Diff(old, reopen(t, dir), cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("disk changed after a failed write (-old +disk):\n%s", diff)
			}

			// The fault is gone: the same change now goes through.
			if _, err := s.CreateShardGroupIfNotExists("db0", "autogen", mustDate(t, "2024-01-01T00:00:00Z")); err != nil {
				t.Fatal(err)
			}
			if s.Data().Version != old.Version+1 {
				t.Fatalf("Version = %d, want %d", s.Data().Version, old.Version+1)
			}
			if diff := cmp.Diff(s.Data(), reopen(t, dir), cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("disk and memory differ (-memory +disk):\n%s", diff)
			}
		})
	}
}

func TestStoreOpenFailures(t *testing.T) {
	for _, op := range []vfs.Op{vfs.OpMkdir, vfs.OpWrite, vfs.OpSyncDir} {
		t.Run(string(op), func(t *testing.T) {
			efs := vfs.NewErrorFS(vfs.OS{}, func(o vfs.Op, _ string) error {
				if o == op {
					return vfs.ErrInjected
				}
				return nil
			})
			if _, err := meta.Open(efs, filepath.Join(t.TempDir(), "m"), testOptions()); !errors.Is(err, vfs.ErrInjected) {
				t.Fatalf("Open = %v, want the injected error", err)
			}
		})
	}
}
