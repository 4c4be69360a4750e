package lineprotocol_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/stratadb/strata/internal/lineprotocol"
	"github.com/stratadb/strata/internal/models"
)

// fuzzSeeds are bodies every fuzz target and the differential test start
// from: the inputs of the table tests plus a few realistic batches. The
// nastier seeds live in testdata/fuzz/FuzzParse.
func fuzzSeeds() [][]byte {
	var seeds [][]byte
	for _, tc := range errorCases {
		seeds = append(seeds, []byte(tc.in))
	}
	for _, tc := range validCases {
		seeds = append(seeds, []byte(tc.in))
	}
	for _, tc := range valueCases {
		seeds = append(seeds, []byte("m v="+tc.in+" 1"))
	}
	return append(seeds, cpuBatch(3), shortBatch(3))
}

var fuzzPrecisions = []lineprotocol.Precision{1, 1e3, 1e6, 1e9, 60e9, 3600e9}

// FuzzParse checks that Parse never panics, that what it returns keeps the
// documented invariants, and that parse → encode → parse is stable: every
// point AppendPoint writes parses back to the same point.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, precIdx uint8) {
		prec := fuzzPrecisions[int(precIdx)%len(fuzzPrecisions)]
		var p lineprotocol.Parser
		pts, errs := p.Parse(bytes.Clone(data), prec, now)
		checkInvariants(t, data, pts, errs)
		checkRoundTrip(t, pts)
	})
}

// checkRoundTrip: every point AppendPoint writes parses back to the same
// point.
func checkRoundTrip(t *testing.T, pts []models.Point) {
	t.Helper()
	var enc []byte
	for i := range pts {
		enc = lineprotocol.AppendPoint(enc, &pts[i])
	}
	var p2 lineprotocol.Parser
	pts2, errs2 := p2.Parse(bytes.Clone(enc), lineprotocol.Nanosecond, 0)
	if len(errs2) != 0 {
		t.Fatalf("re-parse of %q: %v", enc, errs2[0])
	}
	if len(pts2) != len(pts) {
		t.Fatalf("re-parse of %q gave %d points, want %d", enc, len(pts2), len(pts))
	}
	for i := range pts {
		if !samePoint(&pts[i], &pts2[i]) {
			t.Fatalf("point %d changed by a round trip:\n  %q\n  %q", i, lineprotocol.AppendPoint(nil, &pts[i]), lineprotocol.AppendPoint(nil, &pts2[i]))
		}
	}
}

func checkInvariants(t *testing.T, data []byte, pts []models.Point, errs []*lineprotocol.LineError) {
	t.Helper()
	lines := 1 + bytes.Count(data, []byte{'\n'})
	last := 0
	for i := range pts {
		pt := &pts[i]
		if pt.Line <= last || pt.Line > lines {
			t.Fatalf("point %d on line %d after line %d (body has %d)", i, pt.Line, last, lines)
		}
		last = pt.Line
		if len(pt.Measurement) == 0 || len(pt.Fields) == 0 {
			t.Fatalf("point %d has no measurement or no fields", i)
		}
		if pt.Time < models.MinNanoTime || pt.Time > models.MaxNanoTime {
			t.Fatalf("point %d time %d out of range", i, pt.Time)
		}
		for j := 1; j < len(pt.Tags); j++ {
			if bytes.Compare(pt.Tags[j-1].Key, pt.Tags[j].Key) >= 0 {
				t.Fatalf("point %d tags not sorted and unique: %q", i, pt.Tags)
			}
		}
		for j := range pt.Tags {
			if len(pt.Tags[j].Key) == 0 || len(pt.Tags[j].Value) == 0 || string(pt.Tags[j].Key) == "time" {
				t.Fatalf("point %d has tag %q=%q", i, pt.Tags[j].Key, pt.Tags[j].Value)
			}
		}
		seen := map[string]bool{}
		for _, f := range pt.Fields {
			if len(f.Key) == 0 || seen[string(f.Key)] || string(f.Key) == "time" || !f.Type.Valid() {
				t.Fatalf("point %d has field %q (type %v) twice, empty or reserved", i, f.Key, f.Type)
			}
			seen[string(f.Key)] = true
		}
	}
	last = 0
	for _, e := range errs {
		if e.Line <= last || e.Line > lines || e.Err == nil || e.Error() == "" {
			t.Fatalf("bad error %+v after line %d", e, last)
		}
		last = e.Line
	}
}

func samePoint(a, b *models.Point) bool {
	if string(a.Measurement) != string(b.Measurement) || a.Time != b.Time || len(a.Tags) != len(b.Tags) || len(a.Fields) != len(b.Fields) {
		return false
	}
	for i := range a.Tags {
		if string(a.Tags[i].Key) != string(b.Tags[i].Key) || string(a.Tags[i].Value) != string(b.Tags[i].Value) {
			return false
		}
	}
	return slices.EqualFunc(a.Fields, b.Fields, func(x, y models.Field) bool {
		return string(x.Key) == string(y.Key) && x.Type == y.Type && x.Bits == y.Bits && string(x.Str) == string(y.Str)
	})
}

// FuzzParseJSONBatch checks that the legacy JSON decoder never panics and
// that the points it returns keep the parser's invariants.
func FuzzParseJSONBatch(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, pts, err := lineprotocol.ParseJSONBatch(data, now)
		if err != nil {
			if len(pts) != 0 {
				t.Fatalf("points returned with error %v", err)
			}
			return
		}
		for i := range pts {
			pt := &pts[i]
			if len(pt.Measurement) == 0 || len(pt.Fields) == 0 || pt.Time < models.MinNanoTime || pt.Time > models.MaxNanoTime {
				t.Fatalf("bad point %+v", pt)
			}
			for j := 1; j < len(pt.Tags); j++ {
				if bytes.Compare(pt.Tags[j-1].Key, pt.Tags[j].Key) >= 0 {
					t.Fatalf("tags not sorted and unique: %q", pt.Tags)
				}
			}
		}
		// What the JSON body accepts must be expressible as line
		// protocol: the subscriber forwards it so.
		checkRoundTrip(t, pts)
	})
}
