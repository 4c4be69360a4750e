package lineprotocol_test

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadb/strata/internal/lineprotocol"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files under testdata/")

// errorCases pin every error of the parser: the sentinel each one matches
// (here) and its exact text (testdata/errors.golden, since clients match
// on 1.x's wording).
var errorCases = []struct {
	name   string
	in     string
	err    error
	maxStr int // Parser.MaxStringLen
}{
	{"comma first", ",t=1 f=1", lineprotocol.ErrMissingMeasurement, 0},
	{"measurement only", "m", lineprotocol.ErrMissingFields, 0},
	{"measurement and space", "m   ", lineprotocol.ErrMissingFields, 0},
	{"tags only", "m,t=1", lineprotocol.ErrMissingFields, 0},
	{"tags and space", "m,t=1 ", lineprotocol.ErrMissingFields, 0},
	{"empty tag", "m, f=1", lineprotocol.ErrMissingTagKey, 0},
	{"tag without key", "m,=1 f=1", lineprotocol.ErrMissingTagKey, 0},
	{"two commas", "m,,t=1 f=1", lineprotocol.ErrMissingTagKey, 0},
	{"trailing comma", "m,", lineprotocol.ErrMissingTagKey, 0},
	{"tag without =", "m,t f=1", lineprotocol.ErrMissingTagValue, 0},
	{"tag at end", "m,t", lineprotocol.ErrMissingTagValue, 0},
	{"empty tag value", "m,t= f=1", lineprotocol.ErrMissingTagValue, 0},
	{"empty tag value before comma", "m,t=,u=1 f=1", lineprotocol.ErrMissingTagValue, 0},
	{"= in tag value", "m,t=a=b f=1", lineprotocol.ErrInvalidTagFormat, 0},
	{"duplicate tags", "m,t=1,t=2 f=1", lineprotocol.ErrDuplicateTags, 0},
	{"duplicate escaped tags keep the text", `m\ x,t\ k=1,t\ k=2 f=1`, lineprotocol.ErrDuplicateTags, 0},
	{"field without key", "m =1", lineprotocol.ErrMissingFieldKey, 0},
	{"second field without key", "m f=1,=2", lineprotocol.ErrMissingFieldKey, 0},
	{"field without value at end", "m f=", lineprotocol.ErrMissingFieldValue, 0},
	{"field without value before space", "m f= 1", lineprotocol.ErrMissingFieldValue, 0},
	{"field without value before comma", "m f=,g=1", lineprotocol.ErrMissingFieldValue, 0},
	{"open string", `m f="abc`, lineprotocol.ErrUnbalancedQuotes, 0},
	{"open string before CRLF", "m f=\"abc\r\n", lineprotocol.ErrUnbalancedQuotes, 0},
	{"field without =", "m f", lineprotocol.ErrInvalidFieldFormat, 0},
	{"fields end with comma", "m f=1,", lineprotocol.ErrInvalidFieldFormat, 0},
	{"second field without =", "m f=1,g", lineprotocol.ErrInvalidFieldFormat, 0},
	{"space after comma", "m f=1, g=2", lineprotocol.ErrInvalidFieldFormat, 0},
	{"two commas in fields", "m f=1,,g=2", lineprotocol.ErrInvalidFieldFormat, 0},
	{"text after string", `m f="a"b`, lineprotocol.ErrInvalidFieldFormat, 0},
	{"two dots", "m f=1.1.1", lineprotocol.ErrInvalidNumber, 0},
	{"lone minus", "m f=-", lineprotocol.ErrInvalidNumber, 0},
	{"lone dot", "m f=.", lineprotocol.ErrInvalidNumber, 0},
	{"letter in number", "m f=1x", lineprotocol.ErrInvalidNumber, 0},
	{"minus inside number", "m f=1-2", lineprotocol.ErrInvalidNumber, 0},
	{"hex", "m f=0x10", lineprotocol.ErrInvalidNumber, 0},
	{"NaN", "m f=NaN", lineprotocol.ErrInvalidNumber, 0},
	{"nan", "m f=nan", lineprotocol.ErrInvalidNumber, 0},
	{"-nan", "m f=-nan", lineprotocol.ErrInvalidNumber, 0},
	{"Inf", "m f=Inf", lineprotocol.ErrInvalidNumber, 0},
	{"-Inf", "m f=-Inf", lineprotocol.ErrInvalidNumber, 0},
	{"+Inf", "m f=+Inf", lineprotocol.ErrInvalidNumber, 0},
	{"infinity", "m f=infinity", lineprotocol.ErrInvalidNumber, 0},
	{"plus sign", "m f=+1", lineprotocol.ErrInvalidNumber, 0},
	{"float with i", "m f=1.5i", lineprotocol.ErrInvalidNumber, 0},
	{"exponent with i", "m f=1e5i", lineprotocol.ErrInvalidNumber, 0},
	{"lone i", "m f=i", lineprotocol.ErrInvalidNumber, 0},
	{"minus i", "m f=-i", lineprotocol.ErrInvalidNumber, 0},
	{"two i", "m f=1ii", lineprotocol.ErrInvalidNumber, 0},
	{"i inside", "m f=1i2", lineprotocol.ErrInvalidNumber, 0},
	{"negative unsigned", "m f=-1u", lineprotocol.ErrInvalidNumber, 0},
	{"float with u", "m f=1.5u", lineprotocol.ErrInvalidNumber, 0},
	{"integer too large", "m f=9223372036854775808i", lineprotocol.ErrInvalidNumber, 0},
	{"integer too small", "m f=-9223372036854775809i", lineprotocol.ErrInvalidNumber, 0},
	{"unsigned too large", "m f=18446744073709551616u", lineprotocol.ErrInvalidNumber, 0},
	{"float too large", "m f=1e400", lineprotocol.ErrInvalidFloat, 0},
	{"float too small", "m f=-1e400", lineprotocol.ErrInvalidFloat, 0},
	{"empty exponent", "m f=1e", lineprotocol.ErrInvalidFloat, 0},
	{"two exponents", "m f=1e5e5", lineprotocol.ErrInvalidFloat, 0},
	{"dot in exponent", "m f=1e5.5", lineprotocol.ErrInvalidFloat, 0},
	{"tru", "m f=tru", lineprotocol.ErrInvalidBoolean, 0},
	{"tRUE", "m f=tRUE", lineprotocol.ErrInvalidBoolean, 0},
	{"yes", "m f=yes", lineprotocol.ErrInvalidBoolean, 0},
	{"bare word", "m f=abc", lineprotocol.ErrInvalidBoolean, 0},
	{"letters in timestamp", "m f=1 abc", lineprotocol.ErrBadTimestamp, 0},
	{"fraction timestamp", "m f=1 1.5", lineprotocol.ErrBadTimestamp, 0},
	{"quoted timestamp", `m f=1 "123"`, lineprotocol.ErrBadTimestamp, 0},
	{"minus inside timestamp", "m f=1 1-2", lineprotocol.ErrBadTimestamp, 0},
	{"two minus timestamp", "m f=1 --1", lineprotocol.ErrBadTimestamp, 0},
	{"tab after timestamp", "m f=1 1\t", lineprotocol.ErrBadTimestamp, 0},
	{"lone minus timestamp", "m f=1 -", lineprotocol.ErrBadTimestamp, 0},
	{"timestamp overflows int64", "m f=1 99999999999999999999", lineprotocol.ErrBadTimestamp, 0},
	{"timestamp above range", "m f=1 9223372036854775807", lineprotocol.ErrTimeOutOfRange, 0},
	{"timestamp below range", "m f=1 -9223372036854775807", lineprotocol.ErrTimeOutOfRange, 0},
	{"timestamp at int64 min", "m f=1 -9223372036854775808", lineprotocol.ErrTimeOutOfRange, 0},
	{"two timestamps", "m f=1 1 2", lineprotocol.ErrInvalidPoint, 0},
	{"text after timestamp", "m f=1 1 x", lineprotocol.ErrInvalidPoint, 0},
	{"time tag", "cpu,time=1 f=1", lineprotocol.ErrTimeTagKey, 0},
	{"time tag on escaped measurement", `my\ cpu,time=1 f=1`, lineprotocol.ErrTimeTagKey, 0},
	{"time only field", "cpu time=1", lineprotocol.ErrTimeFieldKey, 0},
	{"_field tag", "cpu,_field=a f=1", lineprotocol.ErrReservedKey, 0},
	{"_measurement tag", "cpu,_measurement=a f=1", lineprotocol.ErrReservedKey, 0},
	{"_field field", "cpu _field=1", lineprotocol.ErrReservedKey, 0},
	{"_measurement field", "cpu f=1,_measurement=1", lineprotocol.ErrReservedKey, 0},
	{"string too long", `cpu s="abcd"`, lineprotocol.ErrStringTooLong, 3},
	{"leading blanks are not part of the text", " \t m", lineprotocol.ErrMissingFields, 0},
	{"CRLF is not part of the text", "m\r\n", lineprotocol.ErrMissingFields, 0},
	{"multi-line text", "m,t f=\"a\nb\"", lineprotocol.ErrMissingTagValue, 0},
}

func TestParseErrors(t *testing.T) {
	var golden strings.Builder
	seen := map[error]bool{}
	for _, tc := range errorCases {
		p := lineprotocol.Parser{MaxStringLen: tc.maxStr}
		pts, errs := p.Parse([]byte(tc.in), lineprotocol.Nanosecond, now)
		if len(pts) != 0 || len(errs) != 1 {
			t.Fatalf("%s: %d points, errors %v; want exactly one error", tc.name, len(pts), errs)
		}
		if !errors.Is(errs[0], tc.err) {
			t.Fatalf("%s: error %q does not match %q", tc.name, errs[0], tc.err)
		}
		if errs[0].Line != 1 {
			t.Fatalf("%s: line %d, want 1", tc.name, errs[0].Line)
		}
		seen[tc.err] = true
		fmt.Fprintf(&golden, "# %s\n%s\n%s\n\n", tc.name, strconv.Quote(tc.in), errs[0].Error())
	}
	for _, sentinel := range []error{
		lineprotocol.ErrMissingMeasurement, lineprotocol.ErrMissingFields, lineprotocol.ErrMissingTagKey,
		lineprotocol.ErrMissingTagValue, lineprotocol.ErrInvalidTagFormat, lineprotocol.ErrDuplicateTags,
		lineprotocol.ErrMissingFieldKey, lineprotocol.ErrMissingFieldValue, lineprotocol.ErrUnbalancedQuotes,
		lineprotocol.ErrInvalidFieldFormat, lineprotocol.ErrInvalidNumber, lineprotocol.ErrInvalidFloat,
		lineprotocol.ErrInvalidBoolean, lineprotocol.ErrBadTimestamp, lineprotocol.ErrTimeOutOfRange,
		lineprotocol.ErrInvalidPoint, lineprotocol.ErrTimeTagKey, lineprotocol.ErrTimeFieldKey,
		lineprotocol.ErrReservedKey, lineprotocol.ErrStringTooLong,
	} {
		if !seen[sentinel] {
			t.Errorf("no case produces %q", sentinel)
		}
	}
	checkGolden(t, "errors.golden", golden.String())
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *rewrite {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -rewrite to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Fatalf("%s differs (-golden +got); run with -rewrite if the change is intended:\n%s", path, diff)
	}
}
