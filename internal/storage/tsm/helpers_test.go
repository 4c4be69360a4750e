package tsm_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/block"
	"github.com/stratadb/strata/internal/storage/tsm"
	"github.com/stratadb/strata/internal/vfs"
)

// fieldKey builds an engine-style key.
func fieldKey(series, field string) []byte {
	return models.AppendFieldKey(nil, []byte(series), []byte(field))
}

// column is one key's data in a type-erased form that tests can compare.
type column struct {
	typ   models.FieldType
	times []int64
	vals  []any
}

func toColumn[T block.Value](a block.Array[T]) column {
	c := column{typ: block.TypeOf[T](), times: append([]int64(nil), a.Times...)}
	for _, v := range a.Values {
		c.vals = append(c.vals, v)
	}
	return c
}

// writeArrayAny writes a column through WriteArray.
func (c column) array() any {
	switch c.typ {
	case models.Float:
		return fill[float64](c)
	case models.Integer:
		return fill[int64](c)
	case models.Unsigned:
		return fill[uint64](c)
	case models.Boolean:
		return fill[bool](c)
	case models.String:
		return fill[string](c)
	}
	panic("BUG: column without a type")
}

func fill[T block.Value](c column) block.Array[T] {
	a := block.Array[T]{Times: append([]int64(nil), c.times...)}
	for _, v := range c.vals {
		a.Values = append(a.Values, v.(T))
	}
	return a
}

// readColumn decodes every block of key.
func readColumn(t testing.TB, r *tsm.Reader, key []byte) column {
	t.Helper()
	typ, ok := r.Type(key)
	if !ok {
		return column{}
	}
	var c column
	var err error
	switch typ {
	case models.Float:
		c, err = readTyped[float64](r, key)
	case models.Integer:
		c, err = readTyped[int64](r, key)
	case models.Unsigned:
		c, err = readTyped[uint64](r, key)
	case models.Boolean:
		c, err = readTyped[bool](r, key)
	case models.String:
		c, err = readTyped[string](r, key)
	}
	if err != nil {
		t.Fatalf("read key %q: %v", key, err)
	}
	return c
}

func readTyped[T block.Value](r *tsm.Reader, key []byte) (column, error) {
	var a block.Array[T]
	if err := tsm.ReadAll(r, key, &a); err != nil {
		return column{}, err
	}
	return toColumn(a), nil
}

type keyData struct {
	key []byte
	col column
}

// writeFile writes keys (ascending) to a new file under dir and returns its
// path. Every file a test writes is verified when the test ends.
func writeFile(t testing.TB, fsys vfs.FS, dir, name string, keys []keyData) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := vfs.Create(fsys, path+".tmp")
	if err != nil {
		t.Fatal(err)
	}
	w := tsm.NewWriter(f)
	for _, kd := range keys {
		if err := w.WriteArray(kd.key, kd.col.array()); err != nil {
			t.Fatalf("WriteArray(%q): %v", kd.key, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := vfs.Install(fsys, path+".tmp", path); err != nil {
		t.Fatal(err)
	}
	verifyOnCleanup(t, fsys, path)
	return path
}

// verifyOnCleanup runs Verify on path when the test ends, unless the test
// removed or deliberately damaged the file.
func verifyOnCleanup(t testing.TB, fsys vfs.FS, path string) {
	t.Cleanup(func() {
		if _, err := fsys.Stat(path); err != nil {
			return
		}
		if err := tsm.Verify(fsys, path); err != nil {
			t.Errorf("Verify(%s) after test: %v", path, err)
		}
	})
}

func mustOpen(t testing.TB, fsys vfs.FS, path string) *tsm.Reader {
	t.Helper()
	r, err := tsm.Open(fsys, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// series makes n points of type typ starting at start, step apart.
func series(typ models.FieldType, n int, start, step int64, seed int) column {
	c := column{typ: typ}
	for i := range n {
		c.times = append(c.times, start+int64(i)*step)
		x := i + seed
		var v any
		switch typ {
		case models.Float:
			v = float64(x) * 0.25
		case models.Integer:
			v = int64(x*x) - 100
		case models.Unsigned:
			v = uint64(x) * 1000
		case models.Boolean:
			v = x%3 == 0
		case models.String:
			v = fmt.Sprintf("v%d", x)
		}
		c.vals = append(c.vals, v)
	}
	return c
}

// asCorruption checks err is a CorruptionError naming path with an offset
// inside a file of size bytes.
func asCorruption(t testing.TB, err error, path string, size int64) *tsm.CorruptionError {
	t.Helper()
	var ce *tsm.CorruptionError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *CorruptionError", err, err)
	}
	if !errors.Is(err, tsm.ErrCorrupt) {
		t.Fatalf("error %v does not match ErrCorrupt", err)
	}
	if ce.Path != path {
		t.Fatalf("CorruptionError.Path = %q, want %q", ce.Path, path)
	}
	if ce.Offset < 0 || ce.Offset > size {
		t.Fatalf("CorruptionError.Offset = %d outside a file of %d bytes", ce.Offset, size)
	}
	return ce
}

// diffColumn returns "" when the columns are equal and a diff otherwise.
// The fast comparison comes first: cmp.Diff on every key of every property
// run costs more than the compactions under test.
func diffColumn(want, got column) string {
	if want.typ == got.typ && slices.Equal(want.times, got.times) && slices.Equal(want.vals, got.vals) {
		return ""
	}
	return cmp.Diff(want, got, cmp.AllowUnexported(column{}))
}
