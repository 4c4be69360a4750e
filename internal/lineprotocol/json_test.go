package lineprotocol_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadb/strata/internal/lineprotocol"
)

// jsonValid pins the legacy JSON decoding: body → points in canonical line
// protocol.
var jsonValid = []struct {
	name   string
	body   string
	db, rp string
	want   []string
}{
	{"documented example",
		`{"database":"mydb","retentionPolicy":"autogen","points":[{"measurement":"cpu_load_short","tags":{"host":"server01","region":"us-west"},"time":"2009-11-10T23:00:00Z","fields":{"value":0.64}}]}`,
		"mydb", "autogen", []string{"cpu_load_short,host=server01,region=us-west value=0.64 1257894000000000000\n"}},
	{"field types sorted by key",
		`{"points":[{"measurement":"m","time":"2009-11-10T23:00:00.123456789Z","fields":{"s":"x","b":true,"n":42,"f":-1.5e3}}]}`,
		"", "", []string{`m b=true,f=-1500,n=42,s="x" 1257894000123456789` + "\n"}},
	{"integer time defaults to seconds",
		`{"points":[{"measurement":"m","time":1257894000,"fields":{"v":1}}]}`,
		"", "", []string{"m v=1 1257894000000000000\n"}},
	{"point precision",
		`{"points":[{"measurement":"m","time":1257894000123,"precision":"ms","fields":{"v":1}}]}`,
		"", "", []string{"m v=1 1257894000123000000\n"}},
	{"batch precision",
		`{"precision":"u","points":[{"measurement":"m","time":1257894000123456,"fields":{"v":1}}]}`,
		"", "", []string{"m v=1 1257894000123456000\n"}},
	{"nanoseconds",
		`{"precision":"n","points":[{"measurement":"m","time":1257894000123456789,"fields":{"v":1}}]}`,
		"", "", []string{"m v=1 1257894000123456789\n"}},
	{"string time rounded to precision",
		`{"precision":"s","points":[{"measurement":"m","time":"2009-11-10T23:00:00.6Z","fields":{"v":1}}]}`,
		"", "", []string{"m v=1 1257894001000000000\n"}},
	{"batch time and tags",
		`{"time":"2009-11-10T23:00:00Z","tags":{"dc":"eu","host":"batch"},"points":[{"measurement":"m","tags":{"host":"a"},"fields":{"v":1}},{"measurement":"m","tags":{"host":""},"time":0,"fields":{"v":2}}]}`,
		"", "", []string{"m,dc=eu,host=a v=1 1257894000000000000\n", "m,dc=eu,host=batch v=2 0\n"}},
	{"now when no time",
		`{"points":[{"measurement":"m","fields":{"v":1}}]}`,
		"", "", []string{"m v=1 1600000000123456789\n"}},
	{"now rounded to the precision",
		`{"precision":"ms","points":[{"measurement":"m","fields":{"v":1}}]}`,
		"", "", []string{"m v=1 1600000000123000000\n"}},
	{"empty tag values left out",
		`{"points":[{"measurement":"m","tags":{"a":"","b":"x"},"fields":{"v":1},"time":1}]}`,
		"", "", []string{"m,b=x v=1 1000000000\n"}},
	{"names needing escapes",
		`{"points":[{"measurement":"m x,y","tags":{"t k":"v=1,2"},"fields":{"f=1":"a\"b\\c"},"time":1}]}`,
		"", "", []string{`m\ x\,y,t\ k=v\=1\,2 f\=1="a\"b\\c" 1000000000` + "\n"}},
	{"time field dropped",
		`{"points":[{"measurement":"m","fields":{"time":1,"v":2},"time":1}]}`,
		"", "", []string{"m v=2 1000000000\n"}},
	{"unknown members ignored",
		`{"database":"d","consistency":"all","points":[{"measurement":"m","fields":{"v":1},"time":1,"raw":"x"}]}`,
		"d", "", []string{"m v=1 1000000000\n"}},
	{"no points", `{"database":"d","points":[]}`, "d", "", nil},
	{"empty body", "  \n", "", "", nil},
}

func TestParseJSONBatch(t *testing.T) {
	for _, tt := range jsonValid {
		t.Run(tt.name, func(t *testing.T) {
			db, rp, pts, err := lineprotocol.ParseJSONBatch([]byte(tt.body), now)
			if err != nil {
				t.Fatal(err)
			}
			if db != tt.db || rp != tt.rp {
				t.Fatalf("db, rp = %q, %q; want %q, %q", db, rp, tt.db, tt.rp)
			}
			var got []string
			for i := range pts {
				got = append(got, string(lineprotocol.AppendPoint(nil, &pts[i])))
				if pts[i].Line != i+1 {
					t.Fatalf("point %d has Line %d", i, pts[i].Line)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("points (-want +got):\n%s", diff)
			}
			// What the JSON path produces, line protocol reads back.
			var enc []byte
			for i := range pts {
				enc = lineprotocol.AppendPoint(enc, &pts[i])
			}
			var p lineprotocol.Parser
			back, errs := p.Parse(enc, lineprotocol.Nanosecond, 0)
			if len(errs) != 0 || len(back) != len(pts) {
				t.Fatalf("re-parse: %d points, errors %v", len(back), errs)
			}
		})
	}
}

var jsonInvalid = []struct {
	name string
	body string
	err  error  // matched with errors.Is when set
	text string // a part of the error text
}{
	{"not JSON", `{"points":[`, lineprotocol.ErrInvalidJSON, "unexpected EOF"},
	{"wrong type", `{"points":{}}`, lineprotocol.ErrInvalidJSON, "cannot unmarshal"},
	{"tag not a string", `{"points":[{"measurement":"m","tags":{"t":1},"fields":{"v":1}}]}`, lineprotocol.ErrInvalidJSON, "cannot unmarshal"},
	{"trailing data", `{"points":[]} x`, lineprotocol.ErrInvalidJSON, "after the top-level object"},
	{"missing measurement", `{"points":[{"fields":{"v":1}}]}`, lineprotocol.ErrMissingMeasurement, "points[0]: missing measurement"},
	{"missing fields", `{"points":[{"measurement":"m","fields":{"v":1}},{"measurement":"m"}]}`, lineprotocol.ErrMissingFields, "points[1]: missing fields"},
	{"null field", `{"points":[{"measurement":"m","fields":{"v":null}}]}`, nil, `field "v": unsupported value type null`},
	{"object field", `{"points":[{"measurement":"m","fields":{"v":{}}}]}`, nil, "unsupported value type object"},
	{"array field", `{"points":[{"measurement":"m","fields":{"v":[1]}}]}`, nil, "unsupported value type array"},
	{"float out of range", `{"points":[{"measurement":"m","fields":{"v":1e400}}]}`, lineprotocol.ErrInvalidFloat, `field "v"`},
	{"empty field key", `{"points":[{"measurement":"m","fields":{"":1}}]}`, nil, "all fields must have non-empty names"},
	{"empty tag key", `{"points":[{"measurement":"m","tags":{"":"x"},"fields":{"v":1}}]}`, nil, "empty tag key"},
	{"time tag", `{"points":[{"measurement":"m","tags":{"time":"x"},"fields":{"v":1}}]}`, lineprotocol.ErrTimeTagKey, `input tag "time" on measurement "m"`},
	{"time field only", `{"points":[{"measurement":"m","fields":{"time":1}}]}`, lineprotocol.ErrTimeFieldKey, `input field "time"`},
	{"reserved field", `{"points":[{"measurement":"m","fields":{"_field":1}}]}`, lineprotocol.ErrReservedKey, `"_field"`},
	{"batch tag time", `{"tags":{"time":"x"},"points":[{"measurement":"m","fields":{"v":1}}]}`, lineprotocol.ErrTimeTagKey, "time"},
	{"bad precision", `{"precision":"x","points":[{"measurement":"m","time":1,"fields":{"v":1}}]}`, lineprotocol.ErrInvalidPrecision, `invalid precision "x"`},
	{"bad time string", `{"points":[{"measurement":"m","time":"yesterday","fields":{"v":1}}]}`, lineprotocol.ErrInvalidJSON, "points[0]: time:"},
	{"fractional time", `{"points":[{"measurement":"m","time":1.5,"fields":{"v":1}}]}`, lineprotocol.ErrInvalidJSON, "not an integer"},
	{"time out of range", `{"points":[{"measurement":"m","time":9300000000,"fields":{"v":1}}]}`, lineprotocol.ErrTimeOutOfRange, "time outside range"},
	{"time string out of range", `{"points":[{"measurement":"m","time":"2300-01-01T00:00:00Z","fields":{"v":1}}]}`, lineprotocol.ErrTimeOutOfRange, "time outside range"},
	{"bad batch time", `{"time":"x","points":[]}`, lineprotocol.ErrInvalidJSON, "time:"},
	{"newline in name", `{"points":[{"measurement":"m\n","fields":{"v":1}}]}`, nil, "holds a newline"},
	{"trailing backslash", `{"points":[{"measurement":"m","tags":{"t":"v\\"},"fields":{"v":1}}]}`, nil, "ends with a backslash"},
	{"comment measurement", `{"points":[{"measurement":"#m","fields":{"v":1}}]}`, nil, "line protocol cannot write"},
	{"tab measurement", `{"points":[{"measurement":"\tm","fields":{"v":1}}]}`, nil, "line protocol cannot write"},
	{"NUL measurement", `{"points":[{"measurement":"\u0000m","fields":{"v":1}}]}`, nil, "line protocol cannot write"},
	{"long string", `{"points":[{"measurement":"m","fields":{"s":"` + strings.Repeat("x", lineprotocol.DefaultMaxStringLen+1) + `"}}]}`, lineprotocol.ErrStringTooLong, "is too long"},
	{"long key", `{"points":[{"measurement":"` + strings.Repeat("m", 70000) + `","fields":{"v":1}}]}`, lineprotocol.ErrMaxKeyLength, "max key length exceeded: 70001 > 65535"},
}

func TestParseJSONBatchErrors(t *testing.T) {
	for _, tt := range jsonInvalid {
		t.Run(tt.name, func(t *testing.T) {
			_, _, pts, err := lineprotocol.ParseJSONBatch([]byte(tt.body), now)
			if err == nil {
				t.Fatalf("no error; points %v", pts)
			}
			if pts != nil {
				t.Fatalf("points returned with the error")
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Fatalf("error %q does not match %q", err, tt.err)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("error %q does not contain %q", err, tt.text)
			}
		})
	}
}

// jsonSeeds seed FuzzParseJSONBatch.
var jsonSeeds = func() []string {
	var s []string
	for _, tt := range jsonValid {
		s = append(s, tt.body)
	}
	for _, tt := range jsonInvalid {
		if len(tt.body) < 1000 {
			s = append(s, tt.body)
		}
	}
	return s
}()
