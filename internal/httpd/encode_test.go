package httpd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/query"
)

// refResult and refResponse are 1.x's JSON structs (query.Result and
// httpd.Response with their MarshalJSON), marshalled by encoding/json: the
// reference the byte-appending encoder must match.
type refResult struct {
	StatementID int              `json:"statement_id"`
	Series      []*query.Row     `json:"series,omitempty"`
	Messages    []*query.Message `json:"messages,omitempty"`
	Partial     bool             `json:"partial,omitempty"`
	Err         string           `json:"error,omitempty"`
}

type refResponse struct {
	Results []*refResult `json:"results,omitempty"`
	Err     string       `json:"error,omitempty"`
}

func reference(results []*query.Result, pretty bool) string {
	var resp refResponse
	for _, r := range results {
		rr := &refResult{StatementID: r.StatementID, Series: r.Series, Messages: r.Messages, Partial: r.Partial}
		if r.Err != nil {
			rr.Err = r.Err.Error()
		}
		resp.Results = append(resp.Results, rr)
	}
	var b []byte
	var err error
	if pretty {
		b, err = json.MarshalIndent(resp, "", "    ")
	} else {
		b, err = json.Marshal(resp)
	}
	if err != nil {
		panic(err)
	}
	return string(b) + "\n"
}

// randomString draws from the characters encoding/json treats specially.
func randomString(r *rand.Rand) string {
	pieces := []string{"a", "Z", " ", "\"", "\\", "/", "<", ">", "&", "\n", "\r", "\t", "\b", "\f", "\x00", "\x1f", "\x7f",
		"é", "€", "😀", "\u2028", "\u2029", "\xff", "\xc3", "\xe2\x82", "'", "%"}
	var b strings.Builder
	for range r.IntN(8) {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

func randomFloat(r *rand.Rand) float64 {
	switch r.IntN(6) {
	case 0:
		return float64(r.IntN(1000)) - 500
	case 1:
		return r.NormFloat64()
	case 2:
		return math.Float64frombits(r.Uint64()) // any finite or not
	case 3:
		return (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(60)-30))
	case 4:
		return []float64{0, math.Copysign(0, -1), 1e21, 1e-6, 9.99e-7, 1e20, 123456789012345678, math.MaxFloat64, math.SmallestNonzeroFloat64}[r.IntN(9)]
	}
	return r.Float64()
}

func randomValue(r *rand.Rand) any {
	switch r.IntN(8) {
	case 0:
		return nil
	case 1:
		f := randomFloat(r)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return 0.0 // encoding/json refuses them; tested apart
		}
		return f
	case 2:
		return int64(r.Uint64())
	case 3:
		return r.Uint64()
	case 4:
		return randomString(r)
	case 5:
		return r.IntN(2) == 0
	case 6:
		return time.Unix(0, r.Int64N(1<<62)).UTC()
	}
	return int64(r.IntN(100))
}

func randomResults(r *rand.Rand) []*query.Result {
	var out []*query.Result
	for i := range r.IntN(4) {
		res := &query.Result{StatementID: i, Partial: r.IntN(3) == 0}
		if r.IntN(5) == 0 {
			res.Err = errors.New(randomString(r))
		}
		for range r.IntN(3) {
			res.Messages = append(res.Messages, &query.Message{Level: randomString(r), Text: randomString(r)})
		}
		for range r.IntN(4) {
			row := &query.Row{Name: randomString(r), Partial: r.IntN(3) == 0}
			if n := r.IntN(3); n > 0 {
				row.Tags = map[string]string{}
				for range n {
					row.Tags[randomString(r)] = randomString(r)
				}
			}
			nc := r.IntN(4)
			for range nc {
				row.Columns = append(row.Columns, randomString(r))
			}
			for range r.IntN(4) {
				var vals []any
				if r.IntN(8) != 0 {
					vals = []any{}
				}
				for range nc {
					vals = append(vals, randomValue(r))
				}
				row.Values = append(row.Values, vals)
			}
			res.Series = append(res.Series, row)
		}
		out = append(out, res)
	}
	return out
}

// The appending encoder writes exactly what encoding/json writes for 1.x's
// structs, compact and pretty.
func TestJSONEncoderMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 500
	if testing.Short() {
		n = 100
	}
	for i := range n {
		results := randomResults(r)
		for _, pretty := range []bool{false, true} {
			enc := &jsonEncoder{pretty: pretty}
			var b bytes.Buffer
			if _, err := enc.encode(&b, results); err != nil {
				t.Fatal(err)
			}
			want := reference(results, pretty)
			if len(results) == 0 {
				want = "{}\n"
				if pretty {
					want = "{}\n"
				}
			}
			if b.String() != want {
				t.Fatalf("case %d pretty=%v:\ngot  %s\nwant %s", i, pretty, b.String(), want)
			}
		}
	}
}

func TestJSONEncoderLargeStreams(t *testing.T) {
	row := &query.Row{Name: "cpu", Columns: []string{"time", "v"}}
	for i := range 20000 {
		row.Values = append(row.Values, []any{time.Unix(int64(i), 0).UTC(), float64(i) / 3})
	}
	results := []*query.Result{{Series: []*query.Row{row}}}
	var w writeCounter
	enc := &jsonEncoder{}
	n, err := enc.encode(&w, results)
	if err != nil {
		t.Fatal(err)
	}
	if want := reference(results, false); int(n) != len(want) || w.buf.String() != want {
		t.Fatalf("streamed output differs (%d bytes, want %d)", n, len(want))
	}
	if w.writes < 2 || w.max > jsonFlushSize+1024 {
		t.Fatalf("%d writes of at most %d bytes: the encoder did not stream", w.writes, w.max)
	}
}

type writeCounter struct {
	buf    bytes.Buffer
	writes int
	max    int
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.writes++
	w.max = max(w.max, len(p))
	return w.buf.Write(p)
}

func TestJSONSpecialValues(t *testing.T) {
	results := []*query.Result{{Series: []*query.Row{{Columns: []string{"v"}, Values: [][]any{
		{math.NaN(), math.Inf(1), math.Inf(-1), float32(1.5), int32(-7), []byte("hi"), map[string]int{"b": 1, "a": 2}, struct{ X int }{3}, make(chan int)},
	}}}}}
	var b bytes.Buffer
	if _, err := (&jsonEncoder{}).encode(&b, results); err != nil {
		t.Fatal(err)
	}
	want := `{"results":[{"statement_id":0,"series":[{"columns":["v"],"values":[[null,null,null,1.5,-7,"aGk=",{"a":2,"b":1},{"X":3},null]]}]}]}` + "\n"
	if b.String() != want {
		t.Fatalf("got  %s\nwant %s", b.String(), want)
	}
}

func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "abc", "\"\\", "<script>&", "\x00\x1f\x7f", "\u2028\u2029", "\xff\xfe", "é😀", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	})
}

func FuzzJSONFloat(f *testing.F) {
	for _, v := range []float64{0, 1, -1, 1e21, 1e20, 1e-6, 9.999e-7, math.MaxFloat64, math.SmallestNonzeroFloat64, 0.1, 1.0 / 3} {
		f.Add(math.Float64bits(v))
	}
	f.Fuzz(func(t *testing.T, bits uint64) {
		v := math.Float64frombits(bits)
		got := string(appendJSONFloat(nil, v))
		if math.IsNaN(v) || math.IsInf(v, 0) {
			if got != "null" {
				t.Fatalf("appendJSONFloat(%v) = %s, want null", v, got)
			}
			return
		}
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) {
			t.Fatalf("appendJSONFloat(%v) = %s, want %s", v, got, want)
		}
	})
}

func TestParseEpoch(t *testing.T) {
	for s, want := range map[string]int64{"": 0, "ns": 1, "n": 1, "u": 1e3, "µ": 1e3, "μ": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9} {
		got, err := parseEpoch(s)
		if err != nil || got != want {
			t.Errorf("parseEpoch(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"us", "x", "NS", "d", "1s"} {
		if _, err := parseEpoch(s); err == nil || statusOf(err) != http.StatusBadRequest {
			t.Errorf("parseEpoch(%q): err %v, want a 400", s, err)
		}
	}
	// Negative times truncate toward zero, as 1.x's integer division does.
	if got := epochOf(time.Unix(0, -1500), 1000); got != -1 {
		t.Errorf("epochOf(-1500ns, µs) = %d, want -1", got)
	}
}

func TestStatusOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{ErrDatabaseRequired, 400},
		{fmt.Errorf("wrapped: %w", ErrMissingQuery), 400},
		{ErrInvalidConsistency, 400},
		{badRequest(errors.New("x")), 400},
		{&models.PartialWriteError{Reason: "r", Dropped: 1}, 400},
		{unauthorized(errors.New("x")), 401},
		{ErrNoCredentials, 401},
		{ErrUserNotFound, 401},
		{forbidden(errors.New("x")), 403},
		{ErrAdminRequired, 403},
		{ErrFluxDisabled, 403},
		{fmt.Errorf("w: %w", authzErr{}), 403},
		{&models.DatabaseNotFoundError{Name: "x"}, 404},
		{notFound(errors.New("x")), 404},
		{ErrNotFound, 404},
		{ErrMethodNotAllowed, 405},
		{ErrBodyTooLarge, 413},
		{ErrQueueFull, 503},
		{ErrEnqueueTimeout, 503},
		{&models.RetentionPolicyNotFoundError{Name: "x"}, 500},
		{models.ErrWriteTimeout, 500},
		{errors.New("anything"), 500},
		{ErrAuthWithoutUserStore, 500},
	} {
		if got := statusOf(tc.err); got != tc.want {
			t.Errorf("statusOf(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

type authzErr struct{}

func (authzErr) Error() string             { return "not allowed" }
func (authzErr) AuthorizationFailed() bool { return true }

func TestErrorHeader(t *testing.T) {
	long := strings.Repeat("é", 600) // 1200 bytes
	got := errorHeader(long)
	if len(got) != 1024 || !strings.HasSuffix(got, "é") {
		t.Fatalf("cut to %d bytes ending %q", len(got), got[len(got)-2:])
	}
	if got := errorHeader("a\nb\r\nc"); got != "a b c" {
		t.Fatalf("errorHeader = %q", got)
	}
}

func TestConsistency(t *testing.T) {
	for s, want := range map[string]Consistency{"": ConsistencyOne, "one": ConsistencyOne, "ANY": ConsistencyAny, "Quorum": ConsistencyQuorum, "all": ConsistencyAll} {
		got, err := ParseConsistency(s)
		if err != nil || got != want {
			t.Errorf("ParseConsistency(%q) = %v, %v", s, got, err)
		}
		if s != "" && !strings.EqualFold(got.String(), s) {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
	if _, err := ParseConsistency("two"); !errors.Is(err, ErrInvalidConsistency) {
		t.Errorf("ParseConsistency(two) = %v", err)
	}
}
