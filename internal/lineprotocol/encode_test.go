package lineprotocol_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stratadb/strata/internal/lineprotocol"
	"github.com/stratadb/strata/internal/models"
)

func TestAppendPoint(t *testing.T) {
	tests := []struct {
		name string
		p    models.Point
		want string
	}{
		{"plain", models.Point{Measurement: []byte("cpu"), Fields: []models.Field{models.FloatField([]byte("v"), 1.5)}, Time: 1},
			"cpu v=1.5 1\n"},
		{"all types and tags", models.Point{
			Measurement: []byte("m"),
			Tags:        []models.Tag{{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("b"), Value: []byte("2")}},
			Fields: []models.Field{
				models.FloatField([]byte("f"), -0.25), models.IntegerField([]byte("i"), math.MinInt64),
				models.UnsignedField([]byte("u"), math.MaxUint64), models.StringField([]byte("s"), []byte("x")),
				models.BooleanField([]byte("b"), false),
			},
			Time: -5,
		}, `m,a=1,b=2 f=-0.25,i=-9223372036854775808i,u=18446744073709551615u,s="x",b=false -5` + "\n"},
		{"escapes", models.Point{
			Measurement: []byte("m x,y=z"),
			Tags:        []models.Tag{{Key: []byte("k ,="), Value: []byte(`v\ "`)}},
			Fields:      []models.Field{models.StringField([]byte("f ,="), []byte("a\"b\\c\nd"))},
			Time:        0,
		}, `m\ x\,y=z,k\ \,\==v\\ " f\ \,\=="a\"b\\c` + "\nd\" 0\n"},
		{"empty tag value left out", models.Point{
			Measurement: []byte("m"),
			Tags:        []models.Tag{{Key: []byte("a"), Value: nil}, {Key: []byte("b"), Value: []byte("1")}},
			Fields:      []models.Field{models.IntegerField([]byte("v"), 1)}, Time: 7,
		}, "m,b=1 v=1i 7\n"},
		{"large and small floats", models.Point{Measurement: []byte("m"),
			Fields: []models.Field{models.FloatField([]byte("a"), 1e21), models.FloatField([]byte("b"), 5e-324), models.FloatField([]byte("c"), math.Copysign(0, -1))}},
			"m a=1e+21,b=5e-324,c=-0 0\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := lineprotocol.AppendPoint([]byte("prefix|"), &tt.p)
			if string(got) != "prefix|"+tt.want {
				t.Fatalf("got  %q\nwant %q", got, "prefix|"+tt.want)
			}
			var p lineprotocol.Parser
			pts, errs := p.Parse(bytes.Clone(got[len("prefix|"):]), lineprotocol.Nanosecond, 0)
			if len(errs) != 0 || len(pts) != 1 {
				t.Fatalf("does not parse back: %v", errs)
			}
		})
	}
}

// TestAppendPointRoundTrip encodes random points whose names use every
// byte line protocol treats specially and checks that they parse back.
func TestAppendPointRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	alphabet := []byte(` ,="\x01\tab#é` + `\`)
	name := func() []byte {
		for {
			b := make([]byte, 1+r.IntN(8))
			for i := range b {
				b[i] = alphabet[r.IntN(len(alphabet))]
			}
			// What line protocol cannot express (see AppendPoint).
			if b[len(b)-1] == '\\' {
				continue
			}
			return b
		}
	}
	var enc []byte
	var want []models.Point
	for range 2000 {
		m := name()
		if m[0] == '#' || m[0] == '\t' {
			m[0] = 'm'
		}
		pt := models.Point{Measurement: m, Time: r.Int64N(1 << 62)}
		keys := map[string]bool{}
		for range r.IntN(4) {
			k := name()
			if keys[string(k)] || string(k) == "time" {
				continue
			}
			keys[string(k)] = true
			pt.Tags = append(pt.Tags, models.Tag{Key: k, Value: name()})
		}
		sortTagsForTest(pt.Tags)
		fkeys := map[string]bool{}
		for range 1 + r.IntN(4) {
			k := name()
			if fkeys[string(k)] || string(k) == "time" {
				continue
			}
			fkeys[string(k)] = true
			var f models.Field
			switch r.IntN(5) {
			case 0:
				f = models.FloatField(k, r.NormFloat64()*math.Pow(10, float64(r.IntN(40)-20)))
			case 1:
				f = models.IntegerField(k, int64(r.Uint64()))
			case 2:
				f = models.UnsignedField(k, r.Uint64())
			case 3:
				f = models.StringField(k, append(name(), '\\', '\n', '"'))
			default:
				f = models.BooleanField(k, r.IntN(2) == 0)
			}
			pt.Fields = append(pt.Fields, f)
		}
		want = append(want, pt)
		enc = lineprotocol.AppendPoint(enc, &pt)
	}
	var p lineprotocol.Parser
	pts, errs := p.Parse(enc, lineprotocol.Nanosecond, 0)
	if len(errs) != 0 {
		t.Fatalf("%v", errs[0])
	}
	if len(pts) != len(want) {
		t.Fatalf("%d points, want %d", len(pts), len(want))
	}
	for i := range want {
		if !samePoint(&pts[i], &want[i]) {
			t.Fatalf("point %d:\n got  %q\n want %q", i, lineprotocol.AppendPoint(nil, &pts[i]), lineprotocol.AppendPoint(nil, &want[i]))
		}
	}
}

func sortTagsForTest(tags []models.Tag) {
	for i := 1; i < len(tags); i++ {
		for j := i; j > 0 && bytes.Compare(tags[j-1].Key, tags[j].Key) > 0; j-- {
			tags[j-1], tags[j] = tags[j], tags[j-1]
		}
	}
}
