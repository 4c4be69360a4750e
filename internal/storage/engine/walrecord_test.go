package engine

import (
	"bytes"
	"math"
	"testing"

	"github.com/stratadb/strata/internal/models"
)

func encodeTestRecord(points []models.Point, ids []uint64) []byte {
	var e recordEncoder
	e.reset()
	for i := range points {
		e.add(ids[i], points[i].Time, points[i].Fields)
	}
	return e.encode(nil)
}

func TestWriteRecordRoundTrip(t *testing.T) {
	points := []models.Point{
		{Time: -5, Fields: []models.Field{
			models.FloatField([]byte("f"), math.Copysign(0, -1)),
			models.IntegerField([]byte("i"), math.MinInt64),
			models.UnsignedField([]byte("u"), math.MaxUint64),
			models.BooleanField([]byte("b"), true),
			models.StringField([]byte("s"), []byte("hello\x00world")),
		}},
		{Time: math.MaxInt64 - 1, Fields: []models.Field{
			models.IntegerField([]byte("f"), 7), // same name, other type: its own dictionary entry
			models.StringField([]byte("s"), nil),
		}},
	}
	payload := encodeTestRecord(points, []uint64{1, 1 << 40})
	var got []models.Point
	var gotIDs []uint64
	err := decodeWriteRecord(payload, func(id uint64, tm int64, fields []models.Field) {
		p := models.Point{Time: tm}
		for _, f := range fields {
			f.Key = bytes.Clone(f.Key)
			f.Str = bytes.Clone(f.Str)
			p.Fields = append(p.Fields, f)
		}
		got = append(got, p)
		gotIDs = append(gotIDs, id)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || gotIDs[0] != 1 || gotIDs[1] != 1<<40 {
		t.Fatalf("got %d points, ids %v", len(got), gotIDs)
	}
	for i := range points {
		if got[i].Time != points[i].Time || len(got[i].Fields) != len(points[i].Fields) {
			t.Fatalf("point %d: %+v", i, got[i])
		}
		for k, f := range points[i].Fields {
			g := got[i].Fields[k]
			if string(g.Key) != string(f.Key) || g.Type != f.Type || g.Bits != f.Bits || string(g.Str) != string(f.Str) {
				t.Fatalf("point %d field %d: got %+v, want %+v", i, k, g, f)
			}
		}
	}
	// Every truncation is an error, never a panic or a silent success.
	for n := range len(payload) {
		if err := decodeWriteRecord(payload[:n], func(uint64, int64, []models.Field) {}); err == nil {
			t.Fatalf("truncated at %d of %d: no error", n, len(payload))
		}
	}
}

func TestDeleteRecordRoundTrip(t *testing.T) {
	payload := encodeDeleteRecord(nil, []uint64{3, 1 << 33}, math.MinInt64+2, 99)
	ids, min, max, err := decodeDeleteRecord(payload)
	if err != nil || len(ids) != 2 || ids[1] != 1<<33 || min != math.MinInt64+2 || max != 99 {
		t.Fatalf("got %v %d %d %v", ids, min, max, err)
	}
	for n := range len(payload) {
		if _, _, _, err := decodeDeleteRecord(payload[:n]); err == nil {
			t.Fatalf("truncated at %d: no error", n)
		}
	}
}

// FuzzDecodeRecord: arbitrary payloads never panic; a payload that decodes
// re-encodes to one that decodes to the same points.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(encodeTestRecord([]models.Point{{Time: 1, Fields: []models.Field{models.FloatField([]byte("v"), 1.5)}}}, []uint64{9}))
	f.Add(encodeDeleteRecord(nil, []uint64{1, 2}, 0, 10))
	f.Add([]byte{1, 200, 200, 200, 200, 1})
	f.Fuzz(func(t *testing.T, payload []byte) {
		var e recordEncoder
		e.reset()
		n := 0
		err := decodeWriteRecord(payload, func(id uint64, tm int64, fields []models.Field) {
			for _, fl := range fields {
				if !fl.Type.Valid() {
					t.Fatalf("decoded invalid type %d", fl.Type)
				}
			}
			e.add(id, tm, fields)
			n++
		})
		if err == nil {
			again := e.encode(nil)
			m := 0
			if err := decodeWriteRecord(again, func(uint64, int64, []models.Field) { m++ }); err != nil || m != n {
				t.Fatalf("re-encoded record: %v, %d points, want %d", err, m, n)
			}
		}
		decodeDeleteRecord(payload)
	})
}
