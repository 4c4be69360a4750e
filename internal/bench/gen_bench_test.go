package bench

import (
	"testing"
	"time"
)

// BenchmarkGenerator measures the generator the writer runs inside the
// benchmark: it shares the machine with the server, so it must be cheap.
// One op is one batch of 5,000 lines; lines/s is reported.
func BenchmarkGenerator(b *testing.B) {
	for _, float := range []bool{false, true} {
		b.Run(fieldKind(float), func(b *testing.B) {
			ds := testDataset(4000, 24*time.Hour)
			ds.Float = float
			g, err := NewGenerator(ds)
			if err != nil {
				b.Fatal(err)
			}
			buf, _ := g.Next(nil, DefaultBatch)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if g.Done() {
					g, _ = NewGenerator(ds)
				}
				buf, _ = g.Next(buf[:0], DefaultBatch)
			}
			b.ReportMetric(float64(b.N)*DefaultBatch/b.Elapsed().Seconds(), "lines/s")
		})
	}
}

// BenchmarkDigestResponse measures reducing a double-groupby-1 sized
// answer (4,000 series × 12 rows) to its row count and hash.
func BenchmarkDigestResponse(b *testing.B) {
	var body []byte
	body = append(body, `{"results":[{"statement_id":0,"series":[`...)
	for h := range 4000 {
		if h > 0 {
			body = append(body, ',')
		}
		body = append(body, `{"name":"cpu","tags":{"hostname":"`+HostName(h)+`"},"columns":["time","mean"],"values":[`...)
		for r := range 12 {
			if r > 0 {
				body = append(body, ',')
			}
			body = append(body, `[1451606400000000000,50.123456789]`...)
		}
		body = append(body, "]}"...)
	}
	body = append(body, "]}]}"...)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if rows, _, _, err := DigestResponse(body); err != nil || rows != 48000 {
			b.Fatal(rows, err)
		}
	}
}
