package tsm_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/block"
	"github.com/stratadb/strata/internal/storage/tsm"
	"github.com/stratadb/strata/internal/vfs"
)

// compactInput is one input file of a compaction test and its tombstones.
type compactInput struct {
	keys  map[string]column
	tombs []tsm.Tombstone
}

// compactModel computes what a compaction of inputs (oldest first) must
// produce, by the rules of tsm.Compact, with maps.
func compactModel(inputs []compactInput) map[string]column {
	all := map[string]bool{}
	for _, in := range inputs {
		for k := range in.keys {
			all[k] = true
		}
	}
	deleted := func(i int, key string, ts int64) bool {
		for _, in := range inputs[i:] { // tombstones of input j apply to inputs 0..j
			for _, tb := range in.tombs {
				match := string(tb.Key) == key || (tb.Prefix && bytes.HasPrefix([]byte(key), tb.Key))
				if match && ts >= tb.Min && ts <= tb.Max {
					return true
				}
			}
		}
		return false
	}
	out := map[string]column{}
	for key := range all {
		// What survives of each input.
		surv := make([]column, len(inputs))
		typ := models.Unknown
		for i := len(inputs) - 1; i >= 0; i-- {
			c, ok := inputs[i].keys[key]
			if !ok {
				continue
			}
			s := column{typ: c.typ}
			for j, ts := range c.times {
				if !deleted(i, key, ts) {
					s.times = append(s.times, ts)
					s.vals = append(s.vals, c.vals[j])
				}
			}
			surv[i] = s
			if typ == models.Unknown && len(s.times) > 0 {
				typ = c.typ
			}
		}
		if typ == models.Unknown {
			continue
		}
		merged := map[int64]any{}
		for i := range inputs {
			if surv[i].typ != typ {
				continue
			}
			for j, ts := range surv[i].times {
				merged[ts] = surv[i].vals[j]
			}
		}
		c := column{typ: typ}
		for _, ts := range slices.Sorted(maps.Keys(merged)) {
			c.times = append(c.times, ts)
			c.vals = append(c.vals, merged[ts])
		}
		out[key] = c
	}
	return out
}

// randomInputs builds inputs whose keys overlap in time, sometimes in
// long full-block runs (to exercise the copy path), sometimes in scattered
// points, with exact and prefix tombstones and the odd type change.
func randomInputs(rng *rand.Rand) []compactInput {
	keyPool := []string{}
	for s := range 3 {
		for _, f := range []string{"a", "b"} {
			keyPool = append(keyPool, string(fieldKey(fmt.Sprintf("m,t=%d", s), f)))
		}
	}
	baseType := map[string]models.FieldType{}
	for _, k := range keyPool {
		baseType[k] = allTypes[rng.IntN(len(allTypes))]
	}
	n := 1 + rng.IntN(4)
	inputs := make([]compactInput, n)
	for i := range inputs {
		in := compactInput{keys: map[string]column{}}
		for _, k := range keyPool {
			if rng.IntN(3) == 0 {
				continue
			}
			typ := baseType[k]
			if rng.IntN(12) == 0 {
				typ = allTypes[rng.IntN(len(allTypes))] // a type change
			}
			var c column
			switch rng.IntN(3) {
			case 0: // a long regular run: full blocks
				start := int64(rng.IntN(4)) * 3000
				c = series(typ, 1000*(1+rng.IntN(2))+rng.IntN(5), start, 1, i*7)
			case 1: // a few scattered points
				times := map[int64]bool{}
				for range 1 + rng.IntN(40) {
					times[int64(rng.IntN(12000))] = true
				}
				c = column{typ: typ}
				for j, ts := range slices.Sorted(maps.Keys(times)) {
					c.times = append(c.times, ts)
					c.vals = append(c.vals, series(typ, 1, 0, 1, i*100+j).vals[0])
				}
			case 2: // a medium run, not block aligned
				c = series(typ, 1+rng.IntN(1500), int64(rng.IntN(12000)), int64(1+rng.IntN(3)), i*13)
			}
			in.keys[k] = c
		}
		for range rng.IntN(3) {
			lo := int64(rng.IntN(12000))
			tb := tsm.Tombstone{Key: []byte(keyPool[rng.IntN(len(keyPool))]), Min: lo, Max: lo + int64(rng.IntN(2000))}
			if rng.IntN(3) == 0 { // every field of a series
				sk, _, _ := models.SplitFieldKey(tb.Key)
				tb.Key, tb.Prefix = models.AppendFieldKey(nil, sk, nil), true
			}
			in.tombs = append(in.tombs, tb)
		}
		inputs[i] = in
	}
	return inputs
}

// runCompaction writes the inputs as files, compacts them into a new file
// and returns its reader.
func runCompaction(t *testing.T, fsys vfs.FS, dir string, inputs []compactInput, limit func(int)) (*tsm.Reader, tsm.CompactResult) {
	t.Helper()
	var readers []*tsm.Reader
	for i, in := range inputs {
		var kds []keyData
		for _, k := range slices.Sorted(maps.Keys(in.keys)) {
			kds = append(kds, keyData{[]byte(k), in.keys[k]})
		}
		path := writeFile(t, fsys, dir, fmt.Sprintf("in%d.tsm", i), kds)
		r := mustOpen(t, fsys, path)
		if len(in.tombs) > 0 {
			if err := r.AddTombstones(in.tombs); err != nil {
				t.Fatal(err)
			}
		}
		readers = append(readers, r)
	}
	out := filepath.Join(dir, "out.tsm")
	f, err := vfs.Create(fsys, out+".tmp")
	if err != nil {
		t.Fatal(err)
	}
	w := tsm.NewWriter(f)
	res, err := tsm.CompactWithResult(context.Background(), w, readers, limit)
	if err != nil {
		t.Fatalf("Compact: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := vfs.Install(fsys, out+".tmp", out); err != nil {
		t.Fatal(err)
	}
	verifyOnCleanup(t, fsys, out)
	return mustOpen(t, fsys, out), res
}

func TestCompactProperty(t *testing.T) {
	runs := 80
	if testing.Short() {
		runs = 20
	}
	var copied, decoded, dropped int
	for seed := range runs {
		rng := rand.New(rand.NewPCG(uint64(seed), 99))
		inputs := randomInputs(rng)
		fsys := newMemFS()
		r, res := runCompaction(t, fsys, "/", inputs, nil)
		copied, decoded, dropped = copied+res.BlocksCopied, decoded+res.BlocksDecoded, dropped+res.BlocksDropped
		want := compactModel(inputs)
		if r.KeyCount() != len(want) || res.Keys != len(want) {
			t.Fatalf("seed %d: %d keys (result says %d), want %d", seed, r.KeyCount(), res.Keys, len(want))
		}
		var points int64
		for k, wc := range want {
			got := readColumn(t, r, []byte(k))
			if d := diffColumn(wc, got); d != "" {
				t.Fatalf("seed %d key %q mismatch (-want +got):\n%s", seed, k, d)
			}
			for _, e := range r.Entries([]byte(k), nil) {
				if e.Stats.Count > tsm.MaxPointsPerBlock {
					t.Fatalf("seed %d: block of %d points", seed, e.Stats.Count)
				}
			}
			points += int64(len(wc.times))
		}
		if res.PointsWritten != points {
			t.Fatalf("seed %d: result says %d points, want %d", seed, res.PointsWritten, points)
		}
		if r.HasTombstones() {
			t.Fatalf("seed %d: the output has tombstones", seed)
		}
	}
	// Over all runs every path was taken.
	if copied == 0 || decoded == 0 || dropped == 0 {
		t.Fatalf("paths not exercised: copied %d, decoded %d, dropped %d", copied, decoded, dropped)
	}
	t.Logf("blocks copied %d, decoded %d, dropped %d", copied, decoded, dropped)
}

// nonCanonical pads the varint of a block's timestamp-column length with a
// redundant zero group: the block decodes the same, but Encode never writes
// these bytes, so finding them in the output proves the block was copied,
// not decoded and re-encoded.
func nonCanonical(t *testing.T, blk []byte) []byte {
	t.Helper()
	_, n := binary.Uvarint(blk[1:])
	if n <= 0 {
		t.Fatalf("bad block")
	}
	out := append([]byte(nil), blk[:1+n]...)
	out[n] |= 0x80
	out = append(out, 0x00)
	return append(out, blk[1+n:]...)
}

func TestCompactCopiesWithoutDecoding(t *testing.T) {
	fsys := newMemFS()
	key := fieldKey("m", "v")
	mk := func(name string, start int64) *tsm.Reader {
		// A regular run keeps the timestamp column short.
		a := fill[int64](series(models.Integer, tsm.MaxPointsPerBlock, start, 1, 0))
		blk, err := block.Encode(nil, a)
		if err != nil {
			t.Fatal(err)
		}
		nc := nonCanonical(t, blk)
		var back block.Array[int64]
		if err := block.Decode(nc, &back); err != nil || back.Len() != a.Len() {
			t.Fatalf("non-canonical block does not decode: %v", err)
		}
		f, err := vfs.Create(fsys, "/"+name)
		if err != nil {
			t.Fatal(err)
		}
		w := tsm.NewWriter(f)
		if err := w.WriteBlock(key, a.MinTime(), a.MaxTime(), models.Integer, block.ComputeStats(a), nc); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return mustOpen(t, fsys, "/"+name)
	}
	if ts := series(models.Integer, tsm.MaxPointsPerBlock, 0, 1, 0); len(ts.times) == 0 {
		t.Fatal("no points")
	}
	a, b := mk("a.tsm", 0), mk("b.tsm", 5000)
	blockBytes := func(r *tsm.Reader) []byte {
		blk, err := r.ReadBlock(r.Entries(key, nil)[0])
		if err != nil {
			t.Fatal(err)
		}
		return blk
	}
	f, err := vfs.Create(fsys, "/out.tsm")
	if err != nil {
		t.Fatal(err)
	}
	w := tsm.NewWriter(f)
	var limited int
	res, err := tsm.CompactWithResult(context.Background(), w, []*tsm.Reader{a, b}, func(n int) { limited += n })
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out := mustOpen(t, fsys, "/out.tsm")
	es := out.Entries(key, nil)
	if res.BlocksCopied != 2 || res.BlocksDecoded != 0 || len(es) != 2 {
		t.Fatalf("result %+v, %d blocks out; want 2 copied, none decoded", res, len(es))
	}
	for i, src := range []*tsm.Reader{a, b} {
		got, err := out.ReadBlock(es[i])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, blockBytes(src)) {
			t.Fatalf("block %d was re-encoded, not copied", i)
		}
	}
	if want := int(es[0].Size + es[1].Size); limited != want {
		t.Fatalf("limit saw %d bytes, want %d", limited, want)
	}

	// A tombstone touching b's block forces a decode of that block only.
	if err := b.AddTombstones([]tsm.Tombstone{{Key: key, Min: 5000, Max: 5000}}); err != nil {
		t.Fatal(err)
	}
	f, err = vfs.Create(fsys, "/out2.tsm")
	if err != nil {
		t.Fatal(err)
	}
	w = tsm.NewWriter(f)
	res, err = tsm.CompactWithResult(context.Background(), w, []*tsm.Reader{a, b}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if res.BlocksCopied != 1 || res.BlocksDecoded != 1 {
		t.Fatalf("with a tombstone: %+v; want 1 copied, 1 decoded", res)
	}
	out2 := mustOpen(t, fsys, "/out2.tsm")
	if c := readColumn(t, out2, key); len(c.times) != 2*tsm.MaxPointsPerBlock-1 || c.times[tsm.MaxPointsPerBlock] != 5001 {
		t.Fatalf("with a tombstone: %d points", len(c.times))
	}
}

func TestCompactRechunksSmallBlocks(t *testing.T) {
	fsys := newMemFS()
	key := fieldKey("m", "v")
	// Ten flushes of 250 points each: 2500 points in ten small blocks.
	var inputs []compactInput
	for i := range 10 {
		inputs = append(inputs, compactInput{keys: map[string]column{string(key): series(models.Float, 250, int64(i)*250, 1, i)}})
	}
	r, res := runCompaction(t, fsys, "/", inputs, nil)
	es := r.Entries(key, nil)
	if len(es) != 3 || es[0].Stats.Count != 1000 || es[1].Stats.Count != 1000 || es[2].Stats.Count != 500 {
		t.Fatalf("blocks %+v", es)
	}
	if res.BlocksDecoded != 10 || res.BlocksCopied != 0 || res.BlocksWritten != 3 {
		t.Fatalf("result %+v", res)
	}
}

func TestCompactNewestWinsAndTombstoneScope(t *testing.T) {
	fsys := newMemFS()
	key := []byte("k")
	col := func(vals ...int64) column {
		c := column{typ: models.Integer}
		for i, v := range vals {
			c.times, c.vals = append(c.times, int64(i)), append(c.vals, v)
		}
		return c
	}
	inputs := []compactInput{
		{keys: map[string]column{"k": col(1, 1, 1, 1)}},
		// Deletes time 0 from itself and the older input.
		{keys: map[string]column{"k": col(2, 2)}, tombs: []tsm.Tombstone{{Key: key, Min: 0, Max: 0}}},
		// Its tombstone at 3 must not touch... the newest input's own point 3.
		{keys: map[string]column{"k": {typ: models.Integer, times: []int64{1, 3}, vals: []any{int64(3), int64(3)}}}},
	}
	r, _ := runCompaction(t, fsys, "/", inputs, nil)
	got := readColumn(t, r, key)
	want := column{typ: models.Integer, times: []int64{1, 2, 3}, vals: []any{int64(3), int64(1), int64(3)}}
	if d := diffColumn(want, got); d != "" {
		t.Fatalf("mismatch (-want +got):\n%s", d)
	}
	if d := diffColumn(compactModel(inputs)["k"], got); d != "" {
		t.Fatalf("model disagrees (-want +got):\n%s", d)
	}
}

func TestCompactTypeChange(t *testing.T) {
	fsys := newMemFS()
	key := "k"
	inputs := []compactInput{
		{keys: map[string]column{key: series(models.Integer, 10, 0, 1, 0)}},
		{keys: map[string]column{key: series(models.String, 5, 100, 1, 0)}},
		// The newest input holds floats, all deleted by scattered
		// tombstones that do not cover its block's whole span.
		{keys: map[string]column{key: {typ: models.Float, times: []int64{200, 300}, vals: []any{1.0, 2.0}}},
			tombs: []tsm.Tombstone{{Key: []byte(key), Min: 200, Max: 200}, {Key: []byte(key), Min: 300, Max: 300}}},
	}
	r, _ := runCompaction(t, fsys, "/", inputs, nil)
	got := readColumn(t, r, []byte(key))
	if d := diffColumn(series(models.String, 5, 100, 1, 0), got); d != "" {
		t.Fatalf("mismatch (-want +got):\n%s", d)
	}
}

func TestCompactCancel(t *testing.T) {
	fsys := newMemFS()
	path := writeFile(t, fsys, "/", "a.tsm", []keyData{{[]byte("a"), series(models.Float, 3, 0, 1, 0)}, {[]byte("b"), series(models.Float, 3, 0, 1, 0)}})
	r := mustOpen(t, fsys, path)
	f, err := vfs.Create(fsys, "/out.tsm")
	if err != nil {
		t.Fatal(err)
	}
	w := tsm.NewWriter(f)
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err = tsm.Compact(ctx, w, []*tsm.Reader{r}, func(int) {
		if n++; n == 1 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n != 1 {
		t.Fatalf("wrote %d blocks after cancelling", n)
	}
}

// TestCompactCorruptInput shows a damaged input block stops the compaction
// with an error naming the input file.
func TestCompactCorruptInput(t *testing.T) {
	fsys := newMemFS()
	key := []byte("k")
	pa := writeFile(t, fsys, "/", "a.tsm", []keyData{{key, series(models.Float, 10, 0, 1, 0)}})
	pb := writeFile(t, fsys, "/", "b.tsm", []keyData{{key, series(models.Float, 10, 5, 1, 0)}})
	ra := mustOpen(t, fsys, pa)
	e := ra.Entries(key, nil)[0]
	data, err := vfs.ReadFile(fsys, pa)
	if err != nil {
		t.Fatal(err)
	}
	data[e.Offset+6] ^= 1
	fsys.put(pa, data)
	ra = mustOpen(t, fsys, pa)
	rb := mustOpen(t, fsys, pb)
	f, err := vfs.Create(fsys, "/out.tsm")
	if err != nil {
		t.Fatal(err)
	}
	w := tsm.NewWriter(f)
	defer w.Close()
	err = tsm.Compact(context.Background(), w, []*tsm.Reader{ra, rb}, nil)
	asCorruption(t, err, pa, int64(len(data)))
	fsys.put(pa, nil) // damaged on purpose: no Verify at cleanup
	_ = fsys.Remove(pa)
}
