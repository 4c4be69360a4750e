package httpd

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stratadb/strata/internal/lineprotocol"
)

func TestLineErrorsText(t *testing.T) {
	syntax := func(line int, text string) *lineprotocol.LineError {
		return &lineprotocol.LineError{Line: line, Text: text, Err: lineprotocol.ErrMissingFields}
	}
	rejected := &lineprotocol.LineError{Line: 4, Text: "cpu,time=1 v=1", Err: fmt.Errorf("%w: %w", lineprotocol.ErrRejected, errors.New(`invalid tag key "time"`))}
	tests := []struct {
		name string
		errs []*lineprotocol.LineError
		want string
	}{
		{"one", []*lineprotocol.LineError{syntax(2, "bad")},
			"unable to parse 'bad': missing fields (line 2)"},
		{"syntax and rejected", []*lineprotocol.LineError{syntax(1, "bad"), rejected},
			"unable to parse 'bad': missing fields (line 1)\n" + rejected.Err.Error() + " (line 4)"},
		{"long line is cut", []*lineprotocol.LineError{syntax(7, strings.Repeat("x", maxLineText+10))},
			"unable to parse '" + strings.Repeat("x", maxLineText) + "...': missing fields (line 7)"},
	}
	var many []*lineprotocol.LineError
	var want []string
	for i := 1; i <= maxLineErrors+3; i++ {
		many = append(many, syntax(i, fmt.Sprintf("l%d", i)))
		if i <= maxLineErrors {
			want = append(want, fmt.Sprintf("unable to parse 'l%d': missing fields (line %d)", i, i))
		}
	}
	want = append(want, "and 3 more lines failed to parse")
	tests = append(tests, struct {
		name string
		errs []*lineprotocol.LineError
		want string
	}{"bounded", many, strings.Join(want, "\n")})

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := lineErrorsText(tc.errs); got != tc.want {
				t.Fatalf("lineErrorsText =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestIsJSONBody(t *testing.T) {
	for body, want := range map[string]bool{
		"":                  false,
		"{}":                true,
		" \n\t\x00{":        true,
		"cpu value=1":       false,
		"\x00\x00":          false,
		" [":                false,
		"cpu,tag={ value=1": false,
	} {
		if got := isJSONBody([]byte(body)); got != want {
			t.Errorf("isJSONBody(%q) = %v, want %v", body, got, want)
		}
	}
}

func TestLimitReader(t *testing.T) {
	for _, tc := range []struct {
		size, limit int
		tooLarge    bool
	}{
		{0, 5, false}, {5, 5, false}, {6, 5, true}, {100, 5, true}, {4, 5, false},
	} {
		r := &limitReader{r: strings.NewReader(strings.Repeat("a", tc.size)), left: int64(tc.limit) + 1}
		b, err := io.ReadAll(r)
		if tc.tooLarge {
			if !errors.Is(err, ErrBodyTooLarge) {
				t.Errorf("size %d limit %d: err = %v, want ErrBodyTooLarge", tc.size, tc.limit, err)
			}
			continue
		}
		if err != nil || len(b) != tc.size {
			t.Errorf("size %d limit %d: read %d bytes, err %v", tc.size, tc.limit, len(b), err)
		}
	}
}

func TestBucketToDBRP(t *testing.T) {
	for _, tc := range []struct {
		bucket, db, rp string
		ok             bool
	}{
		{"db", "db", "", true}, {"db/", "db", "", true}, {"db/rp", "db", "rp", true},
		{"db/rp/x", "db", "rp/x", true}, {"", "", "", false}, {"/rp", "", "", false},
	} {
		db, rp, err := bucketToDBRP(tc.bucket)
		if (err == nil) != tc.ok || db != tc.db || rp != tc.rp {
			t.Errorf("bucketToDBRP(%q) = %q, %q, %v", tc.bucket, db, rp, err)
		}
		if err != nil && statusOf(err) != 404 {
			t.Errorf("bucketToDBRP(%q): status %d, want 404", tc.bucket, statusOf(err))
		}
	}
}
