package lineprotocol_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	lp2 "github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/stratadb/strata/internal/lineprotocol"
	"github.com/stratadb/strata/internal/models"
)

// The differential test runs every line of the seed corpus and of the table
// tests through this package and through line-protocol/v2's Decoder (the
// reference decoder of InfluxData). Where both accept a line they must agree
// on measurement, tags, fields and time; where they disagree, the line must
// fall under one of the deliberate differences listed in doc.go, each named
// below.

// entry is a decoded line in a form both decoders can fill.
type entry struct {
	measurement string
	tags        [][2]string
	fields      []field
	time        int64
}

type field struct {
	key  string
	kind string
	num  uint64
	str  string
}

func (f field) String() string {
	if f.kind == "string" {
		return fmt.Sprintf("%s=%s(%q)", f.key, f.kind, f.str)
	}
	return fmt.Sprintf("%s=%s(%#x)", f.key, f.kind, f.num)
}

// outcome is what one decoder made of one line.
type outcome struct {
	skipped bool // blank or comment
	entry   entry
	err     error
}

const diffNow = int64(1_600_000_000_000_000_000)

func oursDecode(line []byte) outcome {
	var p lineprotocol.Parser
	pts, errs := p.Parse(bytes.Clone(line), lineprotocol.Nanosecond, diffNow)
	switch {
	case len(errs) > 0:
		return outcome{err: errs[0]}
	case len(pts) == 0:
		return outcome{skipped: true}
	}
	pt := pts[0]
	e := entry{measurement: string(pt.Measurement), time: pt.Time}
	for _, t := range pt.Tags {
		e.tags = append(e.tags, [2]string{string(t.Key), string(t.Value)})
	}
	for _, f := range pt.Fields {
		e.fields = append(e.fields, field{key: string(f.Key), kind: f.Type.String(), num: f.Bits, str: string(f.Str)})
	}
	slices.SortFunc(e.fields, func(a, b field) int { return strings.Compare(a.key, b.key) })
	return outcome{entry: e}
}

func v2Decode(line []byte) (out outcome) {
	dec := lp2.NewDecoderWithBytes(bytes.Clone(line))
	if !dec.Next() {
		return outcome{skipped: true}
	}
	m, err := dec.Measurement()
	if err != nil {
		return outcome{err: err}
	}
	e := entry{measurement: string(m)}
	for {
		k, v, err := dec.NextTag()
		if err != nil {
			return outcome{err: err}
		}
		if k == nil {
			break
		}
		e.tags = append(e.tags, [2]string{string(k), string(v)})
	}
	byKey := map[string]field{}
	for {
		k, v, err := dec.NextField()
		if err != nil {
			return outcome{err: err}
		}
		if k == nil {
			break
		}
		f := field{key: string(k)}
		switch v.Kind() {
		case lp2.Int:
			f.kind, f.num = "integer", uint64(v.IntV())
		case lp2.Uint:
			f.kind, f.num = "unsigned", v.UintV()
		case lp2.Float:
			f.kind, f.num = "float", math.Float64bits(v.FloatV())
		case lp2.Bool:
			f.kind = "boolean"
			if v.BoolV() {
				f.num = 1
			}
		case lp2.String:
			f.kind, f.str = "string", v.StringV()
		}
		byKey[f.key] = f // the last value of a key wins, as in this package
	}
	for _, f := range byKey {
		e.fields = append(e.fields, f)
	}
	slices.SortFunc(e.fields, func(a, b field) int { return strings.Compare(a.key, b.key) })
	t, err := dec.Time(lp2.Nanosecond, time.Unix(0, diffNow))
	if err != nil {
		return outcome{err: err}
	}
	e.time = t.UnixNano()
	slices.SortFunc(e.tags, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	if dec.Next() {
		return outcome{err: errors.New("more than one entry")}
	}
	return outcome{entry: e}
}

// diffBodies returns the seed bodies plus the FuzzParse corpus.
func diffBodies(t testing.TB) [][]byte {
	bodies := fuzzSeeds()
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParse", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if body, ok := corpusBytes(data); ok {
			bodies = append(bodies, body)
		}
	}
	return bodies
}

// compareLine runs one line through both decoders. It returns "agree",
// "both reject", the name of the deliberate difference that explains a
// disagreement, or "" for an undocumented one.
func compareLine(line []byte) (verdict string, ours, ref outcome) {
	ours, ref = oursDecode(line), v2Decode(line)
	switch {
	case ours.skipped && ref.skipped:
		return "agree", ours, ref
	case ours.err != nil && ref.err != nil:
		return "both reject", ours, ref
	case ours.err == nil && ref.err == nil && !ours.skipped && !ref.skipped && equalEntries(ours.entry, ref.entry):
		return "agree", ours, ref
	}
	return explain(line, ours, ref), ours, ref
}

func TestDifferential(t *testing.T) {
	lines := map[string]bool{}
	for _, body := range diffBodies(t) {
		for _, l := range bytes.Split(body, []byte{'\n'}) {
			lines[string(l)] = true
		}
	}
	// Lines too long for the corpus.
	lines["m s=\""+strings.Repeat("x", lineprotocol.DefaultMaxStringLen+1)+"\" 1"] = true
	lines["m,t="+strings.Repeat("x", models.MaxKeyLength)+" f=1 1"] = true

	counts := map[string]int{}
	for l := range lines {
		verdict, ours, ref := compareLine([]byte(l))
		if verdict == "" {
			t.Errorf("undocumented difference for %q:\n  ours: %s\n  v2:   %s", l, describe(ours), describe(ref))
			continue
		}
		counts[verdict]++
	}
	t.Logf("%d lines: %v", len(lines), counts)
	if counts["agree"] < 100 {
		t.Fatalf("only %d lines accepted by both decoders: the corpus is too thin to compare", counts["agree"])
	}
	for _, d := range []string{"reserved keys", "duplicate tags", "time range", "string bound", "key length",
		"number syntax", "utf-8", "blanks", "control bytes", "time field", "string escapes"} {
		if counts[d] == 0 {
			t.Errorf("no line exercises the deliberate difference %q", d)
		}
	}
}

// FuzzDifferential compares the two decoders line by line on fuzzed input:
// every disagreement must be a documented one.
func FuzzDifferential(f *testing.F) {
	for _, b := range diffBodies(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, line := range bytes.Split(data, []byte{'\n'}) {
			if verdict, ours, ref := compareLine(line); verdict == "" {
				t.Fatalf("undocumented difference for %q:\n  ours: %s\n  v2:   %s", line, describe(ours), describe(ref))
			}
		}
	})
}

func describe(o outcome) string {
	switch {
	case o.skipped:
		return "skipped"
	case o.err != nil:
		return "error: " + o.err.Error()
	}
	return fmt.Sprintf("%+v", o.entry)
}

func equalEntries(a, b entry) bool {
	return a.measurement == b.measurement && a.time == b.time &&
		slices.Equal(a.tags, b.tags) && slices.Equal(a.fields, b.fields)
}

// explain names the deliberate difference (doc.go) that accounts for a
// disagreement, or returns "".
func explain(line []byte, ours, ref outcome) string {
	switch {
	case ours.err != nil && ref.err == nil && !ref.skipped:
		switch {
		case errors.Is(ours.err, lineprotocol.ErrTimeTagKey), errors.Is(ours.err, lineprotocol.ErrTimeFieldKey),
			errors.Is(ours.err, lineprotocol.ErrReservedKey):
			return "reserved keys"
		case errors.Is(ours.err, lineprotocol.ErrDuplicateTags) && hasDuplicateTag(ref.entry):
			return "duplicate tags"
		case errors.Is(ours.err, lineprotocol.ErrTimeOutOfRange) &&
			(ref.entry.time < models.MinNanoTime || ref.entry.time > models.MaxNanoTime):
			return "time range"
		case errors.Is(ours.err, lineprotocol.ErrStringTooLong):
			return "string bound"
		case errors.Is(ours.err, lineprotocol.ErrMaxKeyLength):
			return "key length"
		case (errors.Is(ours.err, lineprotocol.ErrInvalidNumber) || errors.Is(ours.err, lineprotocol.ErrInvalidFloat)) &&
			hasStrconvOnlyNumber(line):
			return "number syntax"
		}
	case ours.err == nil && ref.err != nil:
		switch {
		case !utf8.Valid(line):
			return "utf-8"
		case ours.skipped && isBlankLine(line):
			return "blanks"
		case !ours.skipped && controlBytesOutsideStrings(line, ours.entry) > 0:
			return "control bytes"
		}
	case ours.err == nil && ref.err == nil && !ours.skipped && !ref.skipped:
		switch {
		case equalEntries(ours.entry, withoutField(ref.entry, "time")):
			return "time field"
		case bytes.Contains(line, []byte(`\n`)) || bytes.Contains(line, []byte(`\r`)) || bytes.Contains(line, []byte(`\t`)):
			// Spelling those escapes the way both read as two bytes
			// must remove the difference.
			if again := v2Decode(literalLetterEscapes(line)); again.err == nil && equalEntries(ours.entry, again.entry) {
				return "string escapes"
			}
		}
	}
	return ""
}

func hasDuplicateTag(e entry) bool {
	for i := 1; i < len(e.tags); i++ {
		if e.tags[i-1][0] == e.tags[i][0] {
			return true
		}
	}
	return false
}

// hasStrconvOnlyNumber reports whether the line holds a numeric value that
// strconv.ParseFloat takes but 1.x's grammar does not: a hex float or
// digits separated by underscores.
func hasStrconvOnlyNumber(line []byte) bool {
	for _, tok := range bytes.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' }) {
		_, v, ok := bytes.Cut(tok, []byte("="))
		if !ok || len(v) == 0 || !(v[0] == '-' || v[0] == '.' || (v[0] >= '0' && v[0] <= '9')) {
			continue
		}
		if bytes.ContainsAny(v, "xX_") {
			return true
		}
	}
	return false
}

// isBlankLine reports whether a line is blanks (including tabs and NULs,
// which v2 does not skip), or blanks and a comment.
func isBlankLine(line []byte) bool {
	t := bytes.TrimLeft(line, " \t\x00")
	return len(t) == 0 || t[0] == '#' || (len(t) == 1 && t[0] == '\r')
}

// controlBytesOutsideStrings counts the ASCII control bytes of a line that
// are not inside string field values (v2 accepts them only there).
func controlBytesOutsideStrings(line []byte, e entry) int {
	line = bytes.TrimSuffix(line, []byte{'\r'})
	n := countControl(line)
	for _, f := range e.fields {
		n -= countControl([]byte(f.str))
	}
	return n
}

func countControl(b []byte) int {
	n := 0
	for _, c := range b {
		if c < 0x20 || c == 0x7f {
			n++
		}
	}
	return n
}

func withoutField(e entry, key string) entry {
	e.fields = slices.DeleteFunc(slices.Clone(e.fields), func(f field) bool { return f.key == key })
	return e
}

// literalLetterEscapes rewrites the string values of a line so that v2
// reads `\n`, `\r` and `\t` as two bytes, as this package does: it doubles
// the backslash of each such escape. String values are found as the parser
// finds them: a '"' right after an unescaped '=' past the first unescaped
// space, up to the next '"' that an odd run of backslashes does not escape.
func literalLetterEscapes(line []byte) []byte {
	var out []byte
	i := 0
	escapable := func(i int) bool { return i < len(line) && (line[i] == ',' || line[i] == '=' || line[i] == ' ') }
	for i < len(line) && (line[i] == ' ' || line[i] == '\t' || line[i] == 0) {
		i++ // blanks before the line
	}
	for i < len(line) && line[i] != ' ' {
		if line[i] == '\\' && escapable(i+1) {
			i++
		}
		i++
	}
	out = append(out, line[:min(i, len(line))]...)
	prevEq := false
	for i < len(line) {
		c := line[i]
		if c == '\\' && escapable(i+1) {
			out = append(out, c, line[i+1])
			i += 2
			continue
		}
		if c == '"' && prevEq {
			out = append(out, c)
			for i++; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) {
					switch line[i+1] {
					case 'n', 'r', 't':
						out = append(out, '\\')
					}
					out = append(out, line[i], line[i+1])
					i++
					continue
				}
				out = append(out, line[i])
			}
			if i < len(line) {
				out = append(out, '"')
			}
			i++
			prevEq = false
			continue
		}
		prevEq = c == '='
		out = append(out, c)
		i++
	}
	return out
}

// corpusBytes extracts the []byte argument of a native fuzz corpus file.
func corpusBytes(data []byte) ([]byte, bool) {
	lines := strings.Split(string(data), "\n")
	if len(lines) < 2 || lines[0] != "go test fuzz v1" {
		return nil, false
	}
	arg := strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")")
	s, err := strconv.Unquote(arg)
	if err != nil {
		return nil, false
	}
	return []byte(s), true
}
