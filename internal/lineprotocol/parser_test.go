package lineprotocol_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadb/strata/internal/lineprotocol"
	"github.com/stratadb/strata/internal/models"
)

// now is the default time the tests pass to Parse.
const now = int64(1_600_000_000_123_456_789)

// parse parses in (a fresh copy, since Parse unescapes in place) and
// returns the points in canonical form and the errors' texts.
func parse(t testing.TB, in string, prec lineprotocol.Precision) (pts []string, errs []string) {
	t.Helper()
	var p lineprotocol.Parser
	points, lerrs := p.Parse([]byte(in), prec, now)
	for i := range points {
		pts = append(pts, string(lineprotocol.AppendPoint(nil, &points[i])))
	}
	for _, e := range lerrs {
		errs = append(errs, e.Error())
	}
	return pts, errs
}

// validCases pin valid input: each body and its points in canonical form.
var validCases = []struct {
	name string
	in   string
	want []string
}{
	{"minimal", "m f=1", []string{"m f=1 1600000000123456789\n"}},
	{"timestamp", "m f=1 123", []string{"m f=1 123\n"}},
	{"negative timestamp", "m f=1 -123", []string{"m f=1 -123\n"}},
	{"zero timestamp", "m f=1 0", []string{"m f=1 0\n"}},
	{"tags sorted", "m,z=1,a=2,m=3 f=1 1", []string{"m,a=2,m=3,z=1 f=1 1\n"}},
	{"TSBS tags", "cpu,hostname=host_0,region=eu-west-1,datacenter=eu-west-1a,rack=87,os=Ubuntu16.04LTS,arch=x64,team=NYC,service=18,service_version=1,service_environment=production usage_user=58.1,usage_system=2 1451606400000000000",
		[]string{"cpu,arch=x64,datacenter=eu-west-1a,hostname=host_0,os=Ubuntu16.04LTS,rack=87,region=eu-west-1,service=18,service_environment=production,service_version=1,team=NYC usage_user=58.1,usage_system=2 1451606400000000000\n"}},
	{"all types", `m i=1i,u=2u,f=1.5,s="x",b=true,n=-3i 1`, []string{`m i=1i,u=2u,f=1.5,s="x",b=true,n=-3i 1` + "\n"}},
	{"duplicate field last wins", "m a=1,b=2,a=3 1", []string{"m b=2,a=3 1\n"}},
	{"duplicate field type change", `m a=1,a="s" 1`, []string{`m a="s" 1` + "\n"}},
	{"time field dropped", "m time=1,f=2 1", []string{"m f=2 1\n"}},
	{"several spaces", "m,t=1   f=1    5   ", []string{"m,t=1 f=1 5\n"}},
	{"tabs and NUL before fields and time", "m \t\x00f=1 \t\x005", []string{"m f=1 5\n"}},
	{"leading blanks", " \t\x00m f=1 5", []string{"m f=1 5\n"}},
	{"CRLF", "m f=1 5\r\nm f=2 6\r\n", []string{"m f=1 5\n", "m f=2 6\n"}},
	{"final CR", "m f=1 5\r", []string{"m f=1 5\n"}},
	{"no final newline", "m f=1 5\nm f=2 6", []string{"m f=1 5\n", "m f=2 6\n"}},
	{"comments and blanks", "# c\n\n   \n\t\x00\n  # indented\nm f=1 5\n#", []string{"m f=1 5\n"}},
	{"quotes are part of names", `"m",'t'="v" "f"=1 5`, []string{`"m",'t'="v" "f"=1 5` + "\n"}},
	{"measurement escapes", `m\ x\,y,t=1 f=1 5`, []string{`m\ x\,y,t=1 f=1 5` + "\n"}},
	{"measurement literal backslashes", `m\=x\\y\a f=1 5`, []string{`m\=x\\y\a f=1 5` + "\n"}},
	{"measurement holds =", `a=b f=1 5`, []string{`a=b f=1 5` + "\n"}},
	{"tag escapes", `m,t\ k\,\==v\ 1\,\= f=1 5`, []string{`m,t\ k\,\==v\ 1\,\= f=1 5` + "\n"}},
	{"tag literal backslash", `m,t=a\b f=1 5`, []string{`m,t=a\b f=1 5` + "\n"}},
	{"double backslash then escape", `m,t=a\\,b f=1 5`, []string{`m,t=a\\,b f=1 5` + "\n"}},
	{"field key escapes", `m f\ 1\,\==1 5`, []string{`m f\ 1\,\==1 5` + "\n"}},
	{"string escapes", `m s="a\"b\\c\d" 5`, []string{`m s="a\"b\\c\\d" 5` + "\n"}},
	{"string with separators", `m s="a, b=c d" 5`, []string{`m s="a, b=c d" 5` + "\n"}},
	{"empty string", `m s="" 5`, []string{`m s="" 5` + "\n"}},
	{"string spans lines", "m s=\"a\nb\" 5\nm f=1 6", []string{"m s=\"a\nb\" 5\n", "m f=1 6\n"}},
	{"string keeps CRLF", "m s=\"a\r\nb\" 5\r\n", []string{"m s=\"a\r\nb\" 5\n"}},
	{"escaped quote at end of string", `m s="a\\" 5`, []string{`m s="a\\" 5` + "\n"}},
	{"unicode", "mé,tä=ü fö=\"✓\" 5", []string{"mé,tä=ü fö=\"✓\" 5\n"}},
	{"control bytes in names", "m\x01,t\x7f=v\x02 f\x03=1 5", []string{"m\x01,t\x7f=v\x02 f\x03=1 5\n"}},
	{"max timestamp", "m f=1 9223372036854775806", []string{"m f=1 9223372036854775806\n"}},
	{"min timestamp", "m f=1 -9223372036854775806", []string{"m f=1 -9223372036854775806\n"}},
	{"uint max", "m u=18446744073709551615u 1", []string{"m u=18446744073709551615u 1\n"}},
	{"int limits", "m a=9223372036854775807i,b=-9223372036854775808i 1", []string{"m a=9223372036854775807i,b=-9223372036854775808i 1\n"}},
	{"int leading zeros", "m a=00000000000000000000042i,u=000000000000000000000042u 1", []string{"m a=42i,u=42u 1\n"}},
	{"booleans", "m a=t,b=T,c=true,d=True,e=TRUE,f=f,g=F,h=false,i=False,j=FALSE 1",
		[]string{"m a=true,b=true,c=true,d=true,e=true,f=false,g=false,h=false,i=false,j=false 1\n"}},
	{"good and bad lines", "m f=1 1\nbad\nm f=2 2", []string{"m f=1 1\n", "m f=2 2\n"}},
	{"_field as measurement and value", "_field,t=_measurement f=\"_field\" 1", []string{"_field,t=_measurement f=\"_field\" 1\n"}},
	{"time as measurement and tag value", "time,t=time f=1 1", []string{"time,t=time f=1 1\n"}},
	{"Time is not time", "m,Time=1 TIME=1 1", []string{"m,Time=1 TIME=1 1\n"}},
}

func TestParseValid(t *testing.T) {
	for _, tt := range validCases {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := parse(t, tt.in, lineprotocol.Nanosecond)
			if tt.name == "good and bad lines" {
				if len(errs) != 1 {
					t.Fatalf("errors = %q, want one", errs)
				}
			} else if len(errs) != 0 {
				t.Fatalf("unexpected errors %q", errs)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("points (-want +got):\n%s", diff)
			}
		})
	}
}

// valueCases pin field values: the text after "v=" and the field it
// parses to.
var valueCases = []struct {
	in   string
	want models.Field
}{
	{"1", models.FloatField(nil, 1)},
	{"-1", models.FloatField(nil, -1)},
	{"1.0", models.FloatField(nil, 1)},
	{"1.", models.FloatField(nil, 1)},
	{".5", models.FloatField(nil, 0.5)},
	{"-.5", models.FloatField(nil, -0.5)},
	{"0.1", models.FloatField(nil, 0.1)},
	{"58.123456789012345", models.FloatField(nil, 58.123456789012345)},
	{"1e+78", models.FloatField(nil, 1e78)},
	{"1.E+78", models.FloatField(nil, 1e78)},
	{"-1.5e+78", models.FloatField(nil, -1.5e78)},
	{"1e-7", models.FloatField(nil, 1e-7)},
	{"1E5", models.FloatField(nil, 1e5)},
	{"1e30", models.FloatField(nil, 1e30)},
	{"123456789012345678", models.FloatField(nil, 123456789012345678)},
	{"12345678901234567890123", models.FloatField(nil, 12345678901234567890123)},
	{"0.30000000000000004", models.FloatField(nil, 0.30000000000000004)},
	{"1.7976931348623157e308", models.FloatField(nil, math.MaxFloat64)},
	{"5e-324", models.FloatField(nil, 5e-324)},
	{"1e-400", models.FloatField(nil, 0)},
	{"007", models.FloatField(nil, 7)},
	{"-0", models.FloatField(nil, math.Copysign(0, -1))},
	{"42i", models.IntegerField(nil, 42)},
	{"-42i", models.IntegerField(nil, -42)},
	{"0i", models.IntegerField(nil, 0)},
	{"9223372036854775807i", models.IntegerField(nil, math.MaxInt64)},
	{"-9223372036854775808i", models.IntegerField(nil, math.MinInt64)},
	{"42u", models.UnsignedField(nil, 42)},
	{"18446744073709551615u", models.UnsignedField(nil, math.MaxUint64)},
	{`"s"`, models.StringField(nil, []byte("s"))},
	{`"a\"b"`, models.StringField(nil, []byte(`a"b`))},
	{`"a\\b"`, models.StringField(nil, []byte(`a\b`))},
	{`"a\nb"`, models.StringField(nil, []byte(`a\nb`))},
	{`"\\\""`, models.StringField(nil, []byte(`\"`))},
	{"t", models.BooleanField(nil, true)},
	{"FALSE", models.BooleanField(nil, false)},
}

func TestParseFieldValues(t *testing.T) {
	for _, tt := range valueCases {
		t.Run(tt.in, func(t *testing.T) {
			var p lineprotocol.Parser
			pts, errs := p.Parse([]byte("m v="+tt.in+" 1"), lineprotocol.Nanosecond, now)
			if len(errs) != 0 {
				t.Fatalf("error %v", errs[0])
			}
			got := pts[0].Fields[0]
			want := tt.want
			want.Key = []byte("v")
			if got.Type != want.Type || got.Bits != want.Bits || string(got.Str) != string(want.Str) {
				t.Fatalf("got %v %#x %q, want %v %#x %q", got.Type, got.Bits, got.Str, want.Type, want.Bits, want.Str)
			}
		})
	}
}

func TestParseFloatsMatchStrconv(t *testing.T) {
	// The fast path must round exactly like strconv.
	var p lineprotocol.Parser
	vals := []string{"0.1", "0.2", "0.3", "1.1", "2.675", "9007199254740993", "9007199254740992",
		"4503599627370497.5", "123.456e-10", "1e22", "1e23", "9e37", "8.98846567431158e307",
		"1234567890123456789", "0.000001", "3.14159265358979323846", "1e-22", "1e-23", "99.99e20"}
	for _, v := range vals {
		pts, errs := p.Parse([]byte("m v="+v+" 1"), lineprotocol.Nanosecond, now)
		if len(errs) != 0 {
			t.Fatalf("%s: %v", v, errs[0])
		}
		want := mustFloat(t, v)
		if got := pts[0].Fields[0].Float(); got != want {
			t.Fatalf("%s: got %v, want %v", v, got, want)
		}
	}
}

func TestParseLineNumbers(t *testing.T) {
	in := "m f=1 1\n\n# c\nbad line\nm s=\"a\nb\nc\" 2\nm,t f=\"x\ny\"\r\nm f=3 3\nm f=\"open"
	var p lineprotocol.Parser
	pts, errs := p.Parse([]byte(in), lineprotocol.Nanosecond, now)
	var gotPts, gotErrs []int
	for _, pt := range pts {
		gotPts = append(gotPts, pt.Line)
	}
	for _, e := range errs {
		gotErrs = append(gotErrs, e.Line)
	}
	if diff := cmp.Diff([]int{1, 5, 10}, gotPts); diff != "" {
		t.Fatalf("point lines (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{4, 8, 11}, gotErrs); diff != "" {
		t.Fatalf("error lines (-want +got):\n%s", diff)
	}
	if errs[1].Text != "m,t f=\"x\ny\"" {
		t.Fatalf("multi-line error text %q", errs[1].Text)
	}
	if errs[2].Text != "m f=\"open" {
		t.Fatalf("unterminated error text %q", errs[2].Text)
	}
}

func TestParseBlankBodies(t *testing.T) {
	for _, in := range []string{"", "\n", "\x00\x00\x00", " \t\x00\n\x00 \r\n", "#", "# only\n# comments", "\r", "\r\n\r\n"} {
		pts, errs := parse(t, in, lineprotocol.Nanosecond)
		if len(pts) != 0 || len(errs) != 0 {
			t.Fatalf("%q: points %q errors %q, want none", in, pts, errs)
		}
	}
}

func TestParsePrecision(t *testing.T) {
	tests := []struct {
		prec    lineprotocol.Precision
		in      string
		want    string
		wantErr error
	}{
		{lineprotocol.Nanosecond, "m f=1 5", "m f=1 5\n", nil},
		{0, "m f=1 5", "m f=1 5\n", nil},
		{lineprotocol.Microsecond, "m f=1 5", "m f=1 5000\n", nil},
		{lineprotocol.Millisecond, "m f=1 5", "m f=1 5000000\n", nil},
		{lineprotocol.Second, "m f=1 5", "m f=1 5000000000\n", nil},
		{lineprotocol.Minute, "m f=1 5", "m f=1 300000000000\n", nil},
		{lineprotocol.Hour, "m f=1 5", "m f=1 18000000000000\n", nil},
		{lineprotocol.Second, "m f=1 -5", "m f=1 -5000000000\n", nil},
		{lineprotocol.Second, "m f=1 9223372036", "m f=1 9223372036000000000\n", nil},
		{lineprotocol.Second, "m f=1 9223372037", "", lineprotocol.ErrTimeOutOfRange},
		{lineprotocol.Second, "m f=1 -9223372036", "m f=1 -9223372036000000000\n", nil},
		{lineprotocol.Second, "m f=1 -9223372037", "", lineprotocol.ErrTimeOutOfRange},
		{lineprotocol.Hour, "m f=1 2562047", "m f=1 9223369200000000000\n", nil},
		{lineprotocol.Hour, "m f=1 2562048", "", lineprotocol.ErrTimeOutOfRange},
		{lineprotocol.Millisecond, "m f=1 9223372036854775807", "", lineprotocol.ErrTimeOutOfRange},
		// Default times are truncated to the precision, as in 1.x.
		{lineprotocol.Nanosecond, "m f=1", "m f=1 1600000000123456789\n", nil},
		{lineprotocol.Microsecond, "m f=1", "m f=1 1600000000123456000\n", nil},
		{lineprotocol.Millisecond, "m f=1", "m f=1 1600000000123000000\n", nil},
		{lineprotocol.Second, "m f=1", "m f=1 1600000000000000000\n", nil},
		{lineprotocol.Minute, "m f=1", "m f=1 1599999960000000000\n", nil},
		{lineprotocol.Hour, "m f=1", "m f=1 1599998400000000000\n", nil},
	}
	for _, tt := range tests {
		var p lineprotocol.Parser
		pts, errs := p.Parse([]byte(tt.in), tt.prec, now)
		if tt.wantErr != nil {
			if len(errs) != 1 || !errors.Is(errs[0], tt.wantErr) {
				t.Fatalf("%v %q: errors %v, want %v", tt.prec, tt.in, errs, tt.wantErr)
			}
			continue
		}
		if len(errs) != 0 {
			t.Fatalf("%v %q: %v", tt.prec, tt.in, errs[0])
		}
		if got := string(lineprotocol.AppendPoint(nil, &pts[0])); got != tt.want {
			t.Fatalf("%v %q: got %q, want %q", tt.prec, tt.in, got, tt.want)
		}
	}
}

func TestParsePrecisionNames(t *testing.T) {
	tests := map[string]lineprotocol.Precision{
		"": 1, "n": 1, "ns": 1, "u": 1e3, "us": 1e3, "µ": 1e3, "μ": 1e3,
		"ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9,
	}
	for in, want := range tests {
		got, err := lineprotocol.ParsePrecision(in)
		if err != nil || got != want {
			t.Fatalf("ParsePrecision(%q) = %v, %v; want %v", in, got, err, want)
		}
		if name := got.String(); name != "" {
			back, err := lineprotocol.ParsePrecision(name)
			if err != nil || back != got {
				t.Fatalf("String() %q does not parse back", name)
			}
		}
	}
	for _, in := range []string{"x", "S", "sec", "mu", "nanoseconds", " s", "1"} {
		_, err := lineprotocol.ParsePrecision(in)
		if !errors.Is(err, lineprotocol.ErrInvalidPrecision) {
			t.Fatalf("ParsePrecision(%q) error %v, want ErrInvalidPrecision", in, err)
		}
	}
	_, err := lineprotocol.ParsePrecision("x")
	if want := `invalid precision "x" (use n, u, ms, s, m or h)`; err.Error() != want {
		t.Fatalf("error text %q, want %q", err, want)
	}
}

func TestParseRules(t *testing.T) {
	long := strings.Repeat("x", lineprotocol.DefaultMaxStringLen)
	tests := []struct {
		name     string
		in       string
		wantErr  error
		rejected bool
	}{
		{"time tag", "m,time=1 f=1 1", lineprotocol.ErrTimeTagKey, true},
		{"escaped time tag", `m,ti\me=1 f=1 1`, nil, false},
		{"time only field", "m time=1 1", lineprotocol.ErrTimeFieldKey, true},
		{"time only field twice", "m time=1,time=2 1", lineprotocol.ErrTimeFieldKey, true},
		{"_field tag", "m,_field=1 f=1 1", lineprotocol.ErrReservedKey, true},
		{"_measurement tag", "m,_measurement=1 f=1 1", lineprotocol.ErrReservedKey, true},
		{"_field field", "m _field=1 1", lineprotocol.ErrReservedKey, true},
		{"_measurement field", "m a=1,_measurement=1 1", lineprotocol.ErrReservedKey, true},
		{"NUL key first after time dropped", "m time=0,\x00=0 1", lineprotocol.ErrLeadingBlankKey, true},
		{"tab key first after duplicate dropped", "m a=1,\tb=2,a=3 1", lineprotocol.ErrLeadingBlankKey, true},
		{"NUL key not first", "m a=1,\x00=0 1", nil, false},
		{"string at bound", `m s="` + long + `" 1`, nil, false},
		{"string over bound", `m s="` + long + `x" 1`, lineprotocol.ErrStringTooLong, true},
		{"escapes count once", `m s="` + long[2:] + `\"\"" 1`, nil, false},
		{"duplicate tags", "m,a=1,a=2 f=1 1", lineprotocol.ErrDuplicateTags, false},
		{"duplicate tags unsorted", "m,b=1,a=1,b=2 f=1 1", lineprotocol.ErrDuplicateTags, false},
		{"duplicate tags after unescape", `m,a\ b=1,a\ b=2 f=1 1`, lineprotocol.ErrDuplicateTags, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p lineprotocol.Parser
			pts, errs := p.Parse([]byte(tt.in), lineprotocol.Nanosecond, now)
			if tt.wantErr == nil {
				if len(errs) != 0 || len(pts) != 1 {
					t.Fatalf("errors %v, want a point", errs)
				}
				return
			}
			if len(errs) != 1 || len(pts) != 0 {
				t.Fatalf("points %d errors %v, want one error", len(pts), errs)
			}
			if !errors.Is(errs[0], tt.wantErr) {
				t.Fatalf("error %v, want %v", errs[0], tt.wantErr)
			}
			if got := errs[0].Rejected(); got != tt.rejected {
				t.Fatalf("Rejected() = %v, want %v", got, tt.rejected)
			}
			if got := errors.Is(errs[0], lineprotocol.ErrRejected); got != tt.rejected {
				t.Fatalf("errors.Is(ErrRejected) = %v, want %v", got, tt.rejected)
			}
			if errs[0].Text != tt.in {
				t.Fatalf("Text %q, want the input", errs[0].Text)
			}
		})
	}
}

func TestParseMaxStringLen(t *testing.T) {
	p := lineprotocol.Parser{MaxStringLen: 3}
	pts, errs := p.Parse([]byte("m s=\"abc\" 1\nm s=\"abcd\" 1\nm s=\"a\\\"c\" 1"), lineprotocol.Nanosecond, now)
	if len(pts) != 2 || len(errs) != 1 || errs[0].Line != 2 {
		t.Fatalf("points %d errors %v, want 2 points and an error on line 2", len(pts), errs)
	}
	if want := `input field "s" on measurement "m" is too long, 4 > 3`; errs[0].Error() != want {
		t.Fatalf("error %q, want %q", errs[0].Error(), want)
	}
}

func TestParseMaxKeyLength(t *testing.T) {
	// Series key "m,t=<v>" plus field key "f": 4+len(v)+1.
	fits := strings.Repeat("v", models.MaxKeyLength-5)
	over := fits + "v"
	tests := []struct {
		in   string
		want string
	}{
		{"m,t=" + fits + " f=1 1", ""},
		{"m,t=" + over + " f=1 1", "max key length exceeded: 65536 > 65535"},
		// Escapes count as in the canonical series key.
		{"m,t=" + fits[1:] + `\, f=1 1`, "max key length exceeded: 65536 > 65535"},
		{"m,t=" + fits[2:] + `\a f=1 1`, ""},
		// The longest field key decides.
		{"m,t=" + fits[10:] + " f=1,ffffffffffff=2 1", "max key length exceeded: 65536 > 65535"},
	}
	for i, tt := range tests {
		var p lineprotocol.Parser
		pts, errs := p.Parse([]byte(tt.in), lineprotocol.Nanosecond, now)
		if tt.want == "" {
			if len(errs) != 0 || len(pts) != 1 {
				t.Fatalf("case %d: errors %v", i, errs)
			}
			continue
		}
		if len(errs) != 1 || !errors.Is(errs[0], lineprotocol.ErrMaxKeyLength) {
			t.Fatalf("case %d: errors %v, want ErrMaxKeyLength", i, errs)
		}
		if got := errs[0].Err.Error(); got != tt.want {
			t.Fatalf("case %d: %q, want %q", i, got, tt.want)
		}
		if !strings.HasPrefix(errs[0].Error(), "unable to parse 'm,t=") {
			t.Fatalf("case %d: %q lacks 1.x's prefix", i, errs[0].Error()[:40])
		}
	}
}

func TestParseManyFields(t *testing.T) {
	// More than the quadratic de-duplication handles: the sort path.
	var b strings.Builder
	b.WriteString("m ")
	for i := range 100 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("f")
		b.WriteByte(byte('a' + i%40))
		b.WriteString("=")
		b.WriteString(strings.Repeat("1", 1+i%3))
	}
	b.WriteString(" 1")
	var p lineprotocol.Parser
	pts, errs := p.Parse([]byte(b.String()), lineprotocol.Nanosecond, now)
	if len(errs) != 0 {
		t.Fatal(errs[0])
	}
	fs := pts[0].Fields
	if len(fs) != 40 {
		t.Fatalf("%d fields, want 40", len(fs))
	}
	seen := map[string]bool{}
	for i, f := range fs {
		if seen[string(f.Key)] {
			t.Fatalf("field %q twice", f.Key)
		}
		seen[string(f.Key)] = true
		// The last occurrence of key k (k = 'a'+j) is at i = 60+j.
		wantDigits := 1 + (60+i)%3
		if want := mustFloat(t, strings.Repeat("1", wantDigits)); f.Float() != want {
			t.Fatalf("field %q = %v, want %v (the last)", f.Key, f.Float(), want)
		}
	}
}

func TestParseReuse(t *testing.T) {
	var p lineprotocol.Parser
	first := []byte("a,t=1 f=1 1\nb f=\"x\" 2\nbad\n")
	pts, errs := p.Parse(first, lineprotocol.Nanosecond, now)
	if len(pts) != 2 || len(errs) != 1 {
		t.Fatalf("first parse: %d points, %d errors", len(pts), len(errs))
	}
	keptErr := errs[0]
	pts, errs = p.Parse([]byte("c f=3 3\n"), lineprotocol.Nanosecond, now)
	if len(pts) != 1 || len(errs) != 0 || string(pts[0].Measurement) != "c" || len(pts[0].Tags) != 0 {
		t.Fatalf("second parse: %d points %d errors", len(pts), len(errs))
	}
	if keptErr.Text != "bad" {
		t.Fatalf("an error of the first call changed: %q", keptErr.Text)
	}
}

func TestParseDoesNotLeakAcrossPoints(t *testing.T) {
	// Appending to a point's tags or fields must not overwrite the next
	// point's.
	var p lineprotocol.Parser
	pts, _ := p.Parse([]byte("a,t=1 f=1 1\nb,u=2 g=2 2\n"), lineprotocol.Nanosecond, now)
	_ = append(pts[0].Tags, models.Tag{Key: []byte("x")})
	_ = append(pts[0].Fields, models.Field{Key: []byte("x")})
	if string(pts[1].Tags[0].Key) != "u" || string(pts[1].Fields[0].Key) != "g" {
		t.Fatalf("point 2 was overwritten: %q %q", pts[1].Tags[0].Key, pts[1].Fields[0].Key)
	}
}

func TestParseZeroAllocs(t *testing.T) {
	body := cpuBatch(200)
	buf := make([]byte, len(body))
	var p lineprotocol.Parser
	run := func() {
		copy(buf, body)
		pts, errs := p.Parse(buf, lineprotocol.Nanosecond, now)
		if len(pts) != 200 || len(errs) != 0 {
			t.Fatalf("%d points %d errors", len(pts), len(errs))
		}
	}
	run()
	if n := testing.AllocsPerRun(20, run); n != 0 {
		t.Fatalf("%v allocations per Parse of a warm parser, want 0", n)
	}
	escaped := []byte(strings.Repeat(`m\ x,t\ k=v\,1,a=b s="q\"q",f\=1=2i 1`+"\n", 50))
	buf2 := make([]byte, len(escaped))
	if n := testing.AllocsPerRun(20, func() {
		copy(buf2, escaped)
		p.Parse(buf2, lineprotocol.Nanosecond, now)
	}); n != 0 {
		t.Fatalf("%v allocations per Parse of escaped lines, want 0", n)
	}
}

func TestParseInPlace(t *testing.T) {
	buf := []byte(`m\ 1,t=a\ b s="x\"y" 1`)
	var p lineprotocol.Parser
	pts, _ := p.Parse(buf, lineprotocol.Nanosecond, now)
	m := pts[0].Measurement
	if string(m) != "m 1" || &m[0] != &buf[0] {
		t.Fatalf("measurement %q does not borrow buf", m)
	}
	if s := pts[0].Fields[0].Str; string(s) != `x"y` {
		t.Fatalf("string %q", s)
	}
}

func TestParseTagOrderReuse(t *testing.T) {
	// Lines with the same keys in the same unsorted order reuse the last
	// permutation; any change must still sort correctly.
	in := "m,c=1,a=2,b=3 f=1 1\n" +
		"m,c=4,a=5,b=6 f=1 2\n" +
		"m,c=7,b=8,a=9 f=1 3\n" +
		"m,c=1,a=2 f=1 4\n" +
		"m,c=1,a=2,b=3,d=4 f=1 5\n" +
		"m,cc=1,a=2,b=3 f=1 6\n" +
		"m,c=1,a=2,b=3 f=1 7\n" +
		"m,c=1,a=2,a=3 f=1 8\n" +
		`m,c\ x=1,a=2,b=3 f=1 9` + "\n" +
		"m,c=1,a=2,b=3 f=1 10\n"
	want := []string{
		"m,a=2,b=3,c=1 f=1 1\n",
		"m,a=5,b=6,c=4 f=1 2\n",
		"m,a=9,b=8,c=7 f=1 3\n",
		"m,a=2,c=1 f=1 4\n",
		"m,a=2,b=3,c=1,d=4 f=1 5\n",
		"m,a=2,b=3,cc=1 f=1 6\n",
		"m,a=2,b=3,c=1 f=1 7\n",
		`m,a=2,b=3,c\ x=1 f=1 9` + "\n",
		"m,a=2,b=3,c=1 f=1 10\n",
	}
	got, errs := parse(t, in, lineprotocol.Nanosecond)
	if len(errs) != 1 || !strings.Contains(errs[0], "duplicate tags") {
		t.Fatalf("errors %q, want the duplicate on line 8", errs)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestParseRecovery(t *testing.T) {
	// After an unterminated string, parsing resumes on the next line.
	got, errs := parse(t, "m f=\"open\nm f=1 1\nm f=2 2", lineprotocol.Nanosecond)
	if diff := cmp.Diff([]string{"m f=1 1\n", "m f=2 2\n"}, got); diff != "" {
		t.Fatalf("points (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{`unable to parse 'm f="open': unbalanced quotes`}, errs); diff != "" {
		t.Fatalf("errors (-want +got):\n%s", diff)
	}
	// A failed line keeps the newlines of its string values: the line
	// inside the string is not parsed as a point.
	got, errs = parse(t, "m,t f=\"x\ncpu v=1\n\" 2\nm f=3 3", lineprotocol.Nanosecond)
	if diff := cmp.Diff([]string{"m f=3 3\n"}, got); diff != "" {
		t.Fatalf("points (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"unable to parse 'm,t f=\"x\ncpu v=1\n\" 2': missing tag value"}, errs); diff != "" {
		t.Fatalf("errors (-want +got):\n%s", diff)
	}
}

func TestParseMaxErrors(t *testing.T) {
	p := lineprotocol.Parser{MaxErrors: 2}
	pts, errs := p.Parse([]byte("a\nb\nm f=1 1\nc\nd\nm f=2 2\n"), lineprotocol.Nanosecond, now)
	if len(pts) != 2 || len(errs) != 2 || errs[0].Line != 1 || errs[1].Line != 2 {
		t.Fatalf("%d points, errors %v; want 2 points and the errors of lines 1 and 2", len(pts), errs)
	}
	if p.Invalid() != 4 {
		t.Fatalf("Invalid() = %d, want 4", p.Invalid())
	}
	_, errs = p.Parse([]byte("m f=1 1"), lineprotocol.Nanosecond, now)
	if len(errs) != 0 || p.Invalid() != 0 {
		t.Fatalf("second call: errors %v, Invalid() = %d", errs, p.Invalid())
	}
}

func TestParseHugeGarbageIsLinear(t *testing.T) {
	// Unterminated strings and bad lines must not make parsing quadratic:
	// 2 MB of them parse in well under a second even with -race.
	body := []byte(strings.Repeat("m f=\"x\nm,t f=1\n\\\n", 1<<17))
	body = append(body, []byte("m f=\"open and never closed\n")...)
	// After a string no quote closes, only escaped quotes remain.
	body = append(body, []byte(strings.Repeat("m,t=\\\"a f=1 1\n", 1<<16))...)
	start := time.Now()
	p := lineprotocol.Parser{MaxErrors: 10}
	pts, _ := p.Parse(body, lineprotocol.Nanosecond, now)
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %v", d)
	}
	if len(pts) != 1<<16 {
		t.Fatalf("%d points, want %d", len(pts), 1<<16)
	}
}
