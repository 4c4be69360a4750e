package tsm_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/block"
	"github.com/stratadb/strata/internal/storage/tsm"
	"github.com/stratadb/strata/internal/vfs"
)

// TestVerifyCatchesLies writes blocks through WriteBlock with index data
// that does not match the block (WriteBlock trusts its caller): Open is
// happy, Verify is not.
func TestVerifyCatchesLies(t *testing.T) {
	a := fill[int64](series(models.Integer, 10, 100, 1, 0))
	blk, err := block.Encode(nil, a)
	if err != nil {
		t.Fatal(err)
	}
	good := block.ComputeStats(a)
	tests := []struct {
		name     string
		min, max int64
		st       block.Stats
		want     string
	}{
		{"count", 100, 109, block.Stats{Count: 9, Min: good.Min, Max: good.Max, Sum: good.Sum}, "stats"},
		{"sum", 100, 109, block.Stats{Count: 10, Min: good.Min, Max: good.Max, Sum: good.Sum + 1}, "stats"},
		{"min time", 99, 109, good, "spans"},
		{"max time", 100, 110, good, "spans"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := newMemFS()
			f, err := vfs.Create(fsys, "/v.tsm")
			if err != nil {
				t.Fatal(err)
			}
			w := tsm.NewWriter(f)
			if err := w.WriteBlock([]byte("k"), tt.min, tt.max, models.Integer, tt.st, blk); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			mustOpen(t, fsys, "/v.tsm")
			err = tsm.Verify(fsys, "/v.tsm")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify = %v, want an error about %s", err, tt.want)
			}
			asCorruption(t, err, "/v.tsm", 1<<20)
		})
	}
	t.Run("wrong type in block", func(t *testing.T) {
		fsys := newMemFS()
		f, err := vfs.Create(fsys, "/v.tsm")
		if err != nil {
			t.Fatal(err)
		}
		w := tsm.NewWriter(f)
		// A block whose type byte says integer but whose value column is
		// floats cannot be caught by WriteBlock (given a last value, it
		// does not decode the block).
		fb, err := block.Encode(nil, block.Array[float64]{Times: []int64{1, 2}, Values: []float64{0.5, 1.5}})
		if err != nil {
			t.Fatal(err)
		}
		fb[0] = byte(models.Integer)
		if err := w.WriteBlock([]byte("k"), 1, 2, models.Integer, block.Stats{Count: 2, HasLast: true}, fb); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := tsm.Verify(fsys, "/v.tsm"); err == nil {
			t.Fatal("Verify accepted a block whose values are not its type's")
		}
	})
}

func TestDump(t *testing.T) {
	fsys := newMemFS()
	keys := []keyData{
		{fieldKey("cpu,host=a", "up"), series(models.Boolean, 2, 0, 1, 0)},
		{fieldKey("cpu,host=a", "usage"), series(models.Float, 1500, 0, 1_000_000_000, 0)},
		{[]byte("raw\x00key"), series(models.Integer, 3, -5, 1, 2)},
	}
	path := writeFile(t, fsys, "/", "d.tsm", keys)
	r := mustOpen(t, fsys, path)
	if err := r.AddTombstones([]tsm.Tombstone{{Key: models.AppendFieldKey(nil, []byte("cpu,host=a"), nil), Min: 0, Max: 10, Prefix: true}}); err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if err := tsm.Dump(&sb, r); err != nil {
		t.Fatal(err)
	}
	out := sb.String()
	for _, want := range []string{
		"File: /d.tsm\n",
		"Keys: 3\n",
		"Tombstones: 1\n  prefix cpu,host=a: 0 (1970-01-01T00:00:00Z) .. 10 (1970-01-01T00:00:00.00000001Z)\n",
		"Key cpu,host=a field usage: float, 2 blocks\n",
		"Key cpu,host=a field up: boolean, 1 blocks\n",
		`Key "raw\x00key": integer, 1 blocks`,
		"1970-01-01T00:00:00Z",
		fmt.Sprintf("Total: 3 keys, 4 blocks, %d points", 1500+2+3),
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("Dump output lacks %q:\n%s", want, out)
		}
	}
	// Per-block stats of the integer key: values x*x-100 for x = 2, 3, 4.
	if !strings.Contains(out, "-96  -84  -271") {
		t.Fatalf("Dump output lacks the integer stats:\n%s", out)
	}
	if err := tsm.Dump(failWriter{}, r); err == nil {
		t.Fatal("Dump ignored a write error")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
