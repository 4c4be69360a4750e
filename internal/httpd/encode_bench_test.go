package httpd

import (
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/query"
)

func benchResults() []*query.Result {
	row := &query.Row{Name: "cpu", Tags: map[string]string{"host": "server01", "region": "us-west"},
		Columns: []string{"time", "usage_user", "count", "state", "ok"}}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10000 {
		row.Values = append(row.Values, []any{base.Add(time.Duration(i) * time.Second), float64(i) / 7, int64(i), "running", i%2 == 0})
	}
	return []*query.Result{{StatementID: 0, Series: []*query.Row{row}}}
}

// BenchmarkEncodeJSON compares the byte-appending encoder with
// encoding/json on 1.x's structs, for a 10 000-row result.
func BenchmarkEncodeJSON(b *testing.B) {
	results := benchResults()
	size := len(reference(results, false))
	b.Run("append", func(b *testing.B) {
		enc := &jsonEncoder{}
		b.SetBytes(int64(size))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := enc.encode(io.Discard, results); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("append_epoch", func(b *testing.B) {
		enc := &jsonEncoder{epoch: int64(time.Second)}
		b.SetBytes(int64(size))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := enc.encode(io.Discard, results); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		resp := refResponse{Results: []*refResult{{StatementID: 0, Series: results[0].Series}}}
		b.SetBytes(int64(size))
		b.ReportAllocs()
		for b.Loop() {
			out, err := json.Marshal(resp)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Discard.Write(append(out, '\n'))
		}
	})
}

// BenchmarkEncodeCSV and BenchmarkEncodeMsgpack measure the other formats
// on the same result.
func BenchmarkEncodeCSV(b *testing.B) {
	results := benchResults()
	b.ReportAllocs()
	for b.Loop() {
		enc := &csvEncoder{statementID: -1}
		n, err := enc.encode(io.Discard, results)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(n)
	}
}

func BenchmarkEncodeMsgpack(b *testing.B) {
	results := benchResults()
	b.ReportAllocs()
	for b.Loop() {
		enc := &msgpackEncoder{}
		n, err := enc.encode(io.Discard, results)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(n)
	}
}
