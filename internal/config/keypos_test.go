package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// errProbe is what probe's UnmarshalTOML returns, so that the ParseError
// BurntSushi/toml builds around it carries the position of the probed key.
var errProbe = errors.New("position probe")

type probe struct{}

func (*probe) UnmarshalTOML(any) error { return errProbe }

// probeLine asks BurntSushi/toml itself for the line of path: it decodes
// doc into a struct whose only field, at path, always fails. The parser
// knows every key's position but does not export it; a failure reports it.
// Too slow and type-hungry (reflect.StructOf caches forever) for the
// loader, it is the oracle the scanner is checked against.
func probeLine(t *testing.T, doc string, path []string) int {
	t.Helper()
	typ := reflect.TypeFor[probe]()
	for i := len(path) - 1; i >= 0; i-- {
		typ = reflect.StructOf([]reflect.StructField{{
			Name: "F", Type: typ, Tag: reflect.StructTag(`toml:` + strconv.Quote(path[i])),
		}})
	}
	_, err := toml.Decode(doc, reflect.New(typ).Interface())
	var pe toml.ParseError
	if !errors.As(err, &pe) || pe.Message != errProbe.Error() {
		t.Fatalf("probe %q: decode gave %v, want the probe's error", path, err)
	}
	return pe.Position.Line
}

func TestScanKeyLinesMatchesParser(t *testing.T) {
	files, err := filepath.Glob("testdata/*.conf")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, debianConf)
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatalf("read %s: %v (the Debian file comes from the influxdb package, which CI installs)", name, err)
			}
			var root map[string]any
			md, err := toml.Decode(string(data), &root)
			if err != nil {
				t.Fatal(err)
			}
			lines := scanKeyLines(data)
			docLines := strings.Split(string(data), "\n")
			checked := 0
			for _, key := range md.Keys() {
				if underArrayOfTables(&md, key) {
					// The parser keeps the position of the last [[x]],
					// the scanner the first; both are right.
					continue
				}
				want := probeLine(t, string(data), key)
				got := lines.line(key)
				if got != want && !multiLineString(docLines, got, want) {
					t.Errorf("line of %q = %d, parser says %d", key, got, want)
				}
				checked++
			}
			if checked == 0 {
				t.Fatal("no keys checked")
			}
		})
	}
}

// multiLineString reports whether the value on line got is a multi-line
// string that ends on line want: for those the parser gives the line where
// the value ends, the scanner the line of the key, which is the better one
// to show.
func multiLineString(lines []string, got, want int) bool {
	if got < 1 || got >= want || want > len(lines) {
		return false
	}
	l := lines[got-1]
	return strings.Contains(l, `"""`) || strings.Contains(l, "'''")
}

func underArrayOfTables(md *toml.MetaData, key toml.Key) bool {
	for n := 1; n <= len(key); n++ {
		if md.Type(key[:n]...) == "ArrayHash" {
			return true
		}
	}
	return false
}

func TestScanKeyLines(t *testing.T) {
	doc := "\ufeffa = 1\n" + // byte order mark
		"[t]\n" +
		"x = \"\"\"\n\n\"\"\"\"\"\n" + // five closing quotes: two belong to the string
		"y = 'q' # x = 1\n" +
		"\"quoted.key\" = 2\n" +
		"\"esc\\u0041\" = 3\n" +
		"arr = [[1, 2], {a = \"]\"},\n" +
		"  'x']\n" +
		"z = \"line \\\n" +
		"  continued\"\n" +
		"[[aot]]\n" +
		"k = 1\n" +
		"[[aot]]\n" +
		"k = 2\n"
	lines := scanKeyLines([]byte(doc))
	for _, tc := range []struct {
		path []string
		want int
	}{
		{[]string{"a"}, 1},
		{[]string{"t"}, 2},
		{[]string{"t", "x"}, 3},
		{[]string{"t", "y"}, 6},
		{[]string{"t", "quoted.key"}, 7},
		{[]string{"t", "escA"}, 8},
		{[]string{"t", "arr"}, 9},
		{[]string{"t", "arr", "a"}, 9}, // inside an inline table: the parent's line
		{[]string{"t", "z"}, 11},
		{[]string{"aot"}, 13},
		{[]string{"aot", "k"}, 14},
		{[]string{"nope"}, 0},
	} {
		if got := lines.line(tc.path); got != tc.want {
			t.Errorf("line(%q) = %d, want %d", tc.path, got, tc.want)
		}
	}
}

// The scanner sees every document, including ones the parser rejects if a
// caller ever passes one: it must end and must not panic on any input.
func FuzzScanKeyLines(f *testing.F) {
	for _, s := range []string{"", "a = 1", "[a.b]\nc = '''x", "x = [\"\\", "\"", "[[", "a.\"b", "x = {\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		lines := scanKeyLines(doc)
		max := strings.Count(string(doc), "\n") + 1
		for k, l := range lines {
			if l < 1 || l > max {
				t.Fatalf("key %q on line %d of a %d-line document", k, l, max)
			}
		}
	})
}
