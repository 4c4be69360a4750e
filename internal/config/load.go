package config

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/stratadb/strata/internal/vfs"
)

// Limits on how much Load reports, so that a file of garbage cannot produce
// a megabyte of messages.
const (
	maxWarnings = 100
	maxErrors   = 100
)

// Load reads the configuration: NewConfig's defaults, overlaid by the file
// at path (skipped when path is ""), overlaid by the INFLUXDB_* and
// STRATA_* environment variables, then checked by Validate. Warnings are
// about things that were accepted but ignored (unsupported sections,
// unknown keys); they are returned even when err is not nil. A problem with
// a value is an *Error naming the file and line or the variable; several
// problems are joined with errors.Join.
func Load(path string) (*Config, []string, error) {
	var data []byte
	if path != "" {
		var err error
		data, err = vfs.ReadFile(vfs.OS{}, path)
		if err != nil {
			return nil, nil, fmt.Errorf("read config: %w", err)
		}
	}
	return parse(path, data, path != "", os.Environ())
}

// Parse is Load for a file that is already in memory: name is used in
// messages only. environ is a list of "KEY=value" strings, as os.Environ
// returns; nil means no overrides.
func Parse(name string, data []byte, environ []string) (*Config, []string, error) {
	return parse(name, data, true, environ)
}

// origin records where a field's value came from, so that Validate's errors
// can point at it.
type origin struct {
	path []string // key path in the file
	env  string   // or the environment variable
}

// loader carries the state of one Load.
type loader struct {
	name    string
	file    bool // a file was read
	schema  schema
	lines   keyLines
	origins map[int]origin // by index in schema
	errs    []error
	warns   []string
	dropped int // warnings over maxWarnings
}

func parse(name string, data []byte, haveFile bool, environ []string) (*Config, []string, error) {
	if name == "" {
		name = "<config>"
	}
	c := NewConfig()
	l := &loader{name: name, file: haveFile, schema: newSchema(), origins: map[int]origin{}}
	if haveFile {
		l.decodeFile(c, data)
	}
	applied, err := applyEnv(c, l.schema, environ)
	if err != nil {
		l.errs = append(l.errs, unjoin(err)...)
	}
	for i, v := range applied {
		l.origins[i] = origin{env: v}
	}
	// Validate even after decoding errors, to report every problem at once:
	// a value that failed to decode left its (valid) default in place, so
	// this adds no follow-on errors.
	if err := c.Validate(); err != nil {
		for _, e := range unjoin(err) {
			l.locate(e)
			l.errs = append(l.errs, e)
		}
	}
	if l.dropped > 0 {
		l.warns = append(l.warns, fmt.Sprintf("%s: %d more warnings not shown", name, l.dropped))
	}
	if len(l.errs) > 0 {
		if len(l.errs) > maxErrors {
			more := len(l.errs) - maxErrors
			l.errs = append(l.errs[:maxErrors:maxErrors], fmt.Errorf("%s: %d more errors not shown", name, more))
		}
		return nil, l.warns, errors.Join(l.errs...)
	}
	return c, l.warns, nil
}

// unjoin splits an errors.Join result into its parts.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// locate adds the file position or environment variable to an error
// Validate found in a value that came from one of them.
func (l *loader) locate(err error) {
	var e *Error
	if !errors.As(err, &e) || e.File != "" || e.Env != "" {
		return
	}
	i := l.schema.index(e.Section, e.Key)
	o, ok := l.origins[i]
	if i < 0 || !ok {
		// A default that is wrong only together with another setting:
		// blame the file, which is where the fix goes.
		if l.file {
			e.File = l.name
		}
		return
	}
	if o.env != "" {
		e.Env = o.env
		return
	}
	e.File, e.Line = l.name, l.lines.line(o.path)
}

func (l *loader) warn(path []string, format string, args ...any) {
	if len(l.warns) >= maxWarnings {
		l.dropped++
		return
	}
	msg := fmt.Sprintf(format, args...)
	if line := l.lines.line(path); line > 0 {
		l.warns = append(l.warns, fmt.Sprintf("%s:%d: %s", l.name, line, msg))
	} else {
		l.warns = append(l.warns, fmt.Sprintf("%s: %s", l.name, msg))
	}
}

func (l *loader) fail(path []string, section, key string, err error) {
	l.errs = append(l.errs, &Error{File: l.name, Line: l.lines.line(path), Section: section, Key: key, Err: err})
}

// decodeTOML parses data. BurntSushi/toml turns its own panics into
// ParseErrors; the recover is a second line of defence so that no input
// file can crash the server.
func decodeTOML(data []byte) (root map[string]any, md toml.MetaData, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("toml parser failed: %v", r)
		}
	}()
	md, err = toml.Decode(string(data), &root)
	return root, md, err
}

func (l *loader) decodeFile(c *Config, data []byte) {
	root, md, err := decodeTOML(data)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			l.errs = append(l.errs, &Error{File: l.name, Line: syntaxLine(data, pe), Key: pe.LastKey,
				Err: fmt.Errorf("%w: %s", ErrSyntax, pe.Message)})
		} else {
			l.errs = append(l.errs, &Error{File: l.name, Err: fmt.Errorf("%w: %v", ErrSyntax, err)})
		}
		return
	}
	l.lines = scanKeyLines(data)
	seen := map[string]bool{} // top-level tables already judged
	for _, key := range md.Keys() {
		top := key[0]
		v := root[top]
		if isTable(v) {
			if !seen[top] {
				seen[top] = true
				l.judgeSection(top, v)
			}
			if len(key) == 2 {
				l.sectionKey(c, key, v)
			}
			// Deeper keys belong to a table that was judged as a whole
			// (a warning for an unknown key, an error for a known one).
			continue
		}
		if len(key) == 1 {
			l.topLevelKey(c, top, v)
		}
	}
}

// syntaxLine is the line of a syntax error, counted from its byte offset:
// for an error at a newline (an unclosed "[table") the parser's line is
// already the next one.
func syntaxLine(data []byte, pe toml.ParseError) int {
	if pe.Position.Start < 0 || pe.Position.Start > len(data) {
		return pe.Position.Line
	}
	return 1 + bytes.Count(data[:pe.Position.Start], []byte{'\n'})
}

func isTable(v any) bool {
	switch v.(type) {
	case map[string]any, []map[string]any:
		return true
	}
	return false
}

// judgeSection decides once per top-level table whether it is a section
// Strata reads (an array of tables there is an error), one it ignores, or
// an unknown one.
func (l *loader) judgeSection(name string, v any) {
	path := []string{name}
	_, isArray := v.([]map[string]any)
	if canon, ok := knownSection(name); ok {
		if isArray {
			l.fail(path, canon, "", fmt.Errorf("%w: want a table [%s], got an array of tables [[%s]]", ErrType, canon, name))
		}
		return
	}
	if i := l.schema.index("", name); i >= 0 {
		f := &l.schema[i]
		l.fail(path, "", f.key, fmt.Errorf("%w: want a single value, got %s", ErrType, describe(v)))
		return
	}
	header := "[" + name + "]"
	if isArray {
		header = "[[" + name + "]]"
	}
	if unsupportedSection(strings.ToLower(name)) {
		l.warn(path, "%s is not supported by Strata yet; section ignored", header)
		return
	}
	l.warn(path, "unknown section %s; ignored", header)
}

// sectionKey handles key = [section, name].
func (l *loader) sectionKey(c *Config, key []string, table any) {
	canon, ok := knownSection(key[0])
	m, isMap := table.(map[string]any)
	if !ok || !isMap {
		return // ignored section, or an array of tables already reported
	}
	i := l.schema.index(canon, key[1])
	if i < 0 {
		if ignoredKey(canon, strings.ToLower(key[1])) {
			l.warn(key, "[%s] %s: InfluxDB 1.x setting that Strata does not use; ignored", canon, key[1])
		} else {
			l.warn(key, "[%s] unknown key %q; ignored", canon, key[1])
		}
		return
	}
	l.set(c, i, key, m[key[1]])
}

func (l *loader) topLevelKey(c *Config, name string, v any) {
	path := []string{name}
	if canon, ok := knownSection(name); ok {
		l.fail(path, canon, "", fmt.Errorf("%w: want a table, got %s", ErrType, describe(v)))
		return
	}
	if strings.ToLower(name) == "reporting-enabled" {
		// Debian's packaged influxdb.conf says reporting-enabled = false
		// (its patch inverts 1.x's reporting-disabled). Strata never
		// reports, so the value only has to be well-formed.
		b, ok := v.(bool)
		if !ok {
			l.fail(path, "", name, fmt.Errorf("%w: want a boolean, got %s", ErrType, describe(v)))
			return
		}
		c.ReportingDisabled = !b
		return
	}
	i := l.schema.index("", name)
	if i < 0 {
		l.warn(path, "unknown key %q; ignored", name)
		return
	}
	l.set(c, i, path, v)
}

// set stores a TOML value into field i.
func (l *loader) set(c *Config, i int, path []string, v any) {
	f := &l.schema[i]
	if err := setTOML(f, c, v); err != nil {
		l.fail(path, f.section, f.key, err)
		return
	}
	l.origins[i] = origin{path: path}
}

// setTOML converts a decoded TOML value to the field's type.
func setTOML(f *field, c *Config, v any) error {
	switch p := f.ptr(c).(type) {
	case *bool:
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("%w: want a boolean, got %s", ErrType, describe(v))
		}
		*p = b
	case *int:
		n, ok := v.(int64)
		if !ok {
			return fmt.Errorf("%w: want an integer, got %s", ErrType, describe(v))
		}
		if n < math.MinInt || n > math.MaxInt {
			return fmt.Errorf("%w %d: out of range", ErrInvalidValue, n)
		}
		*p = int(n)
	case *string:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%w: want a string, got %s", ErrType, describe(v))
		}
		*p = s
	case *Duration:
		switch x := v.(type) {
		case string:
			return p.UnmarshalText([]byte(x))
		case int64:
			if x != 0 && !f.nanos {
				return fmt.Errorf("%w %d: a duration needs a unit and quotes, e.g. \"%ds\"", ErrInvalidDuration, x, x)
			}
			*p = Duration(time.Duration(x))
		default:
			return fmt.Errorf("%w: want a duration string such as \"10s\", got %s", ErrType, describe(v))
		}
	case *Size:
		switch x := v.(type) {
		case string:
			return p.UnmarshalText([]byte(x))
		case int64:
			if x < 0 {
				return fmt.Errorf("%w %d: must not be negative", ErrInvalidSize, x)
			}
			*p = Size(x)
		default:
			return fmt.Errorf("%w: want a size such as \"25m\" or a number of bytes, got %s", ErrType, describe(v))
		}
	case *[]string:
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%w: want an array of strings, got %s", ErrType, describe(v))
		}
		var out []string // an empty array decodes to nil, like an absent one
		for j, e := range arr {
			s, ok := e.(string)
			if !ok {
				return fmt.Errorf("%w: element %d: want a string, got %s", ErrType, j, describe(e))
			}
			out = append(out, s)
		}
		*p = out
	default:
		panic(fmt.Sprintf("BUG: config field %s.%s has unsupported type %T", f.section, f.key, p))
	}
	return nil
}

// describe names a decoded TOML value's type and shows it briefly.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		if len(x) > 40 {
			x = x[:40] + "..."
		}
		return fmt.Sprintf("the string %q", x)
	case int64:
		return fmt.Sprintf("the integer %d", x)
	case float64:
		return fmt.Sprintf("the float %v", x)
	case bool:
		return fmt.Sprintf("the boolean %v", x)
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case []map[string]any:
		return "an array of tables"
	case nil:
		return "nothing"
	default:
		return fmt.Sprintf("a date/time (%v)", x)
	}
}
