package continuousquery

import (
	"errors"
	"maps"
	"path/filepath"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/vfs"
)

func TestStateRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	runs := map[runKey]lastRun{
		{"db0", "a"}: {query: "CREATE CONTINUOUS QUERY a ...", at: time.Unix(0, 1_700_000_000_123_456_789)},
		{"db1", "b"}: {query: "CREATE CONTINUOUS QUERY b ...", at: time.Unix(0, -5)},
	}
	if err := saveState(vfs.Default, path, runs); err != nil {
		t.Fatal(err)
	}
	got, err := loadState(vfs.Default, path)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.EqualFunc(got, runs, func(a, b lastRun) bool { return a.query == b.query && a.at.Equal(b.at) }) {
		t.Fatalf("got %v, want %v", got, runs)
	}
	if empty, err := loadState(vfs.Default, filepath.Join(t.TempDir(), "none")); err != nil || len(empty) != 0 {
		t.Fatalf("missing file: %v %v", empty, err)
	}
}

func TestStateWriteFailure(t *testing.T) {
	fsys := vfs.NewErrorFS(vfs.Default, func(op vfs.Op, _ string) error {
		if op == vfs.OpSync {
			return vfs.ErrInjected
		}
		return nil
	})
	path := filepath.Join(t.TempDir(), "state.json")
	err := saveState(fsys, path, map[runKey]lastRun{{"db0", "a"}: {}})
	if !errors.Is(err, vfs.ErrInjected) {
		t.Fatalf("save with a failing fsync: %v", err)
	}
	if _, err := loadState(vfs.Default, path); err != nil {
		t.Fatalf("a failed save left a damaged file: %v", err)
	}
}

// FuzzDecodeState feeds garbage to the state decoder: an error, never a
// panic, and what decodes encodes back to something equal.
func FuzzDecodeState(f *testing.F) {
	f.Add([]byte(`{"version":1,"queries":[{"database":"db0","name":"q","query":"x","lastRun":12}]}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{"version":1,"queries":[{"database":"","name":"q"}]}`))
	f.Add([]byte(`null`))
	f.Add([]byte{0xff, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		runs, err := decodeState(data)
		if err != nil {
			if !errors.Is(err, ErrCorruptState) {
				t.Fatalf("error %v is not ErrCorruptState", err)
			}
			return
		}
		again, err := decodeState(encodeState(runs))
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !maps.EqualFunc(again, runs, func(a, b lastRun) bool { return a.query == b.query && a.at.Equal(b.at) }) {
			t.Fatalf("round trip changed %v into %v", runs, again)
		}
	})
}
