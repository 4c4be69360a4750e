package tsm_test

import (
	"errors"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/block"
	"github.com/stratadb/strata/internal/storage/tsm"
	"github.com/stratadb/strata/internal/vfs"
)

func newWriter(t *testing.T, fsys vfs.FS) (*tsm.Writer, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "w.tsm")
	f, err := vfs.Create(fsys, path)
	if err != nil {
		t.Fatal(err)
	}
	return tsm.NewWriter(f), path
}

func floats(times ...int64) block.Array[float64] {
	a := block.Array[float64]{}
	for _, ts := range times {
		a.Append(ts, float64(ts))
	}
	return a
}

func TestWriterRejects(t *testing.T) {
	intBlock, err := block.Encode(nil, block.Array[int64]{Times: []int64{10}, Values: []int64{1}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		op   func(w *tsm.Writer) error
		want error
	}{
		{"key order", func(w *tsm.Writer) error { return w.WriteArray([]byte("a"), floats(1)) }, tsm.ErrKeyOrder},
		{"same key overlapping", func(w *tsm.Writer) error { return w.WriteArray([]byte("b"), floats(5, 6)) }, tsm.ErrTimeOrder},
		{"same key earlier", func(w *tsm.Writer) error { return w.WriteArray([]byte("b"), floats(1)) }, tsm.ErrTimeOrder},
		{"type conflict", func(w *tsm.Writer) error {
			return w.WriteArray([]byte("b"), block.Array[int64]{Times: []int64{100}, Values: []int64{1}})
		}, tsm.ErrTypeConflict},
		{"unsorted array", func(w *tsm.Writer) error { return w.WriteArray([]byte("c"), floats(3, 2)) }, tsm.ErrTimeOrder},
		{"duplicate times", func(w *tsm.Writer) error { return w.WriteArray([]byte("c"), floats(3, 3)) }, tsm.ErrTimeOrder},
		{"unequal lengths", func(w *tsm.Writer) error {
			return w.WriteArray([]byte("c"), block.Array[float64]{Times: []int64{1}})
		}, tsm.ErrTimeOrder},
		{"empty key", func(w *tsm.Writer) error { return w.WriteArray(nil, floats(1)) }, tsm.ErrEmptyKey},
		{"unsupported", func(w *tsm.Writer) error { return w.WriteArray([]byte("c"), []float64{1}) }, tsm.ErrUnsupportedArray},
		{"block type lies", func(w *tsm.Writer) error {
			return w.WriteBlock([]byte("c"), 10, 10, models.Float, block.Stats{Count: 1}, intBlock)
		}, tsm.ErrInvalidBlock},
		{"block unknown type", func(w *tsm.Writer) error {
			return w.WriteBlock([]byte("c"), 10, 10, models.Unknown, block.Stats{Count: 1}, intBlock)
		}, tsm.ErrInvalidBlock},
		{"block empty", func(w *tsm.Writer) error {
			return w.WriteBlock([]byte("c"), 10, 10, models.Integer, block.Stats{Count: 1}, nil)
		}, tsm.ErrInvalidBlock},
		{"block min after max", func(w *tsm.Writer) error {
			return w.WriteBlock([]byte("c"), 11, 10, models.Integer, block.Stats{Count: 1}, intBlock)
		}, tsm.ErrInvalidBlock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, path := newWriter(t, vfs.OS{})
			if err := w.WriteArray([]byte("b"), floats(5, 10)); err != nil {
				t.Fatal(err)
			}
			size := w.Size()
			if err := tt.op(w); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if w.Size() != size {
				t.Fatalf("rejected call wrote %d bytes", w.Size()-size)
			}
			// The writer is still usable and the file sound.
			if err := w.WriteArray([]byte("d"), floats(1)); err != nil {
				t.Fatalf("write after a rejected call: %v", err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if err := tsm.Verify(vfs.OS{}, path); err != nil {
				t.Fatal(err)
			}
			r := mustOpen(t, vfs.OS{}, path)
			if r.KeyCount() != 2 {
				t.Fatalf("KeyCount = %d, want 2", r.KeyCount())
			}
		})
	}
}

func TestWriterAppendsToKey(t *testing.T) {
	w, path := newWriter(t, vfs.OS{})
	key := []byte("k")
	// Several calls for one key, and a copied block in between.
	if err := w.WriteArray(key, floats(1, 2)); err != nil {
		t.Fatal(err)
	}
	blk, err := block.Encode(nil, floats(5, 6, 7))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteBlock(key, 5, 7, models.Float, block.ComputeStats(floats(5, 6, 7)), blk); err != nil {
		t.Fatal(err)
	}
	if err := tsm.WriteTyped(w, key, floats(9)); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteArray(key, &block.Array[float64]{}); err != nil {
		t.Fatalf("empty array: %v", err)
	}
	before := w.Size()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); !errors.Is(err, tsm.ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	if err := w.WriteArray([]byte("z"), floats(1)); !errors.Is(err, tsm.ErrClosed) {
		t.Fatalf("write after Close: %v", err)
	}
	r := mustOpen(t, vfs.OS{}, path)
	if w.Size() != r.Size() || before >= r.Size() {
		t.Fatalf("Size = %d before Close, %d after, file %d", before, w.Size(), r.Size())
	}
	es := r.Entries(key, nil)
	if len(es) != 3 {
		t.Fatalf("%d entries, want 3", len(es))
	}
	got := readColumn(t, r, key)
	if want := []int64{1, 2, 5, 6, 7, 9}; !slices.Equal(got.times, want) {
		t.Fatalf("times %v, want %v", got.times, want)
	}
	if err := tsm.Verify(vfs.OS{}, path); err != nil {
		t.Fatal(err)
	}
}

// TestWriterIOErrors shows that a failed write or fsync reaches the caller
// and sticks.
func TestWriterIOErrors(t *testing.T) {
	for _, op := range []vfs.Op{vfs.OpWrite, vfs.OpSync} {
		t.Run(string(op), func(t *testing.T) {
			efs := vfs.NewErrorFS(vfs.OS{}, nil)
			w, _ := newWriter(t, efs)
			efs.SetInjector(func(o vfs.Op, _ string) error {
				if o == op {
					return vfs.ErrInjected
				}
				return nil
			})
			// Enough data to force a write before Close.
			err := w.WriteArray([]byte("k"), incompressible(200_000))
			if op == vfs.OpWrite && !errors.Is(err, vfs.ErrInjected) {
				t.Fatalf("WriteArray err = %v, want the injected error", err)
			}
			if err := w.Close(); !errors.Is(err, vfs.ErrInjected) {
				t.Fatalf("Close err = %v, want the injected error", err)
			}
		})
	}
	t.Run("sticky", func(t *testing.T) {
		efs := vfs.NewErrorFS(vfs.OS{}, nil)
		w, _ := newWriter(t, efs)
		efs.SetInjector(func(o vfs.Op, _ string) error {
			if o == vfs.OpWrite {
				return vfs.ErrInjected
			}
			return nil
		})
		_ = w.WriteArray([]byte("a"), incompressible(200_000))
		efs.SetInjector(nil)
		if err := w.WriteArray([]byte("b"), floats(1)); !errors.Is(err, vfs.ErrInjected) {
			t.Fatalf("write after a failed write: %v, want the first error", err)
		}
		if err := w.Close(); !errors.Is(err, vfs.ErrInjected) {
			t.Fatalf("Close after a failed write: %v", err)
		}
	})
}

// incompressible returns n points that no codec shrinks much below 16
// bytes each, so that writing them overflows the writer's buffer.
func incompressible(n int) block.Array[int64] {
	rng := rand.New(rand.NewPCG(1, 2))
	a := block.Array[int64]{}
	t := int64(0)
	for range n {
		t += 1 + rng.Int64N(1<<40)
		a.Append(t, rng.Int64())
	}
	return a
}
