package lineprotocol_test

import (
	"bytes"
	"testing"
	"time"

	lp2 "github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/stratadb/strata/internal/lineprotocol"
)

// BenchmarkParse compares this parser with line-protocol/v2's Decoder on the
// same bodies. Both decode every part of every line, values included (v2's
// NextField parses the value); this parser also sorts tags, de-duplicates
// fields and builds the points. The bodies have no escapes, so parsing in
// place leaves them unchanged and each iteration can reuse them.
func BenchmarkParse(b *testing.B) {
	bodies := []struct {
		name string
		body []byte
	}{
		{"cpu", cpuBatch(1000)},
		{"short", shortBatch(5000)},
	}
	for _, bb := range bodies {
		b.Run(bb.name+"/strata", func(b *testing.B) {
			body := bytes.Clone(bb.body)
			var p lineprotocol.Parser
			p.Parse(body, lineprotocol.Nanosecond, now) // warm the arenas
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				pts, errs := p.Parse(body, lineprotocol.Nanosecond, now)
				if len(errs) != 0 || len(pts) == 0 {
					b.Fatalf("%d points, errors %v", len(pts), errs)
				}
			}
			if !bytes.Equal(body, bb.body) {
				b.Fatal("the body changed")
			}
		})
		b.Run(bb.name+"/v2", func(b *testing.B) {
			def := time.Unix(0, now)
			b.SetBytes(int64(len(bb.body)))
			b.ReportAllocs()
			for b.Loop() {
				dec := lp2.NewDecoderWithBytes(bb.body)
				n := 0
				for dec.Next() {
					if _, err := dec.Measurement(); err != nil {
						b.Fatal(err)
					}
					for {
						k, _, err := dec.NextTag()
						if err != nil {
							b.Fatal(err)
						}
						if k == nil {
							break
						}
					}
					for {
						k, _, err := dec.NextField()
						if err != nil {
							b.Fatal(err)
						}
						if k == nil {
							break
						}
					}
					if _, err := dec.Time(lp2.Nanosecond, def); err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n == 0 {
					b.Fatal("no entries")
				}
			}
		})
	}
}

// BenchmarkParseEscaped measures lines that need unescaping in place; each
// iteration restores the body first.
func BenchmarkParseEscaped(b *testing.B) {
	orig := bytes.Repeat([]byte(`disk\ io,host=web\ 01,path=/var/lib\,x free=1.5,msg="a \"quoted\" word" 1600000000000000000`+"\n"), 1000)
	body := bytes.Clone(orig)
	var p lineprotocol.Parser
	p.Parse(body, lineprotocol.Nanosecond, now) // warm the arenas
	b.SetBytes(int64(len(orig)))
	b.ReportAllocs()
	for b.Loop() {
		copy(body, orig)
		if pts, errs := p.Parse(body, lineprotocol.Nanosecond, now); len(errs) != 0 || len(pts) != 1000 {
			b.Fatalf("%d points, errors %v", len(pts), errs)
		}
	}
}

func BenchmarkAppendPoint(b *testing.B) {
	body := cpuBatch(1000)
	var p lineprotocol.Parser
	pts, _ := p.Parse(body, lineprotocol.Nanosecond, now)
	dst := make([]byte, 0, 2*len(body))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		dst = dst[:0]
		for i := range pts {
			dst = lineprotocol.AppendPoint(dst, &pts[i])
		}
	}
}
