package config

import (
	"strconv"
	"strings"
)

// keyLines maps each key and table header of a TOML document to the line
// where it first appears, so that errors and warnings can say
// "file:line". BurntSushi/toml knows these positions but does not export
// them for keys (only for syntax errors, through ParseError), so we find
// them with a small scanner of our own. The scanner runs only over
// documents the TOML parser has already accepted; on anything else it
// still terminates and never panics, it just may not find a line.
type keyLines map[string]int

// pathKey joins a key path with a byte no key contains unescaped.
func pathKey(path []string) string { return strings.Join(path, "\x00") }

// line returns the line of path, or of its nearest ancestor that has one
// (a key inside an inline table is reported on the table's line), or 0.
func (kl keyLines) line(path []string) int {
	for n := len(path); n > 0; n-- {
		if l, ok := kl[pathKey(path[:n])]; ok {
			return l
		}
	}
	return 0
}

func (kl keyLines) record(path []string, line int) {
	// Prefixes get the line too, unless they have their own: `a.b = 1`
	// and `[a.b]` create table "a" implicitly.
	for n := len(path); n > 0; n-- {
		k := pathKey(path[:n])
		if _, ok := kl[k]; !ok {
			kl[k] = line
		}
	}
}

type keyScanner struct {
	b    []byte
	i    int
	line int
	out  keyLines
}

// scanKeyLines scans a TOML document for the lines of its keys.
func scanKeyLines(doc []byte) keyLines {
	s := keyScanner{b: doc, line: 1, out: keyLines{}}
	if len(doc) >= 3 && doc[0] == 0xef && doc[1] == 0xbb && doc[2] == 0xbf {
		s.i = 3 // byte order mark
	}
	var table []string
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case '\n':
			s.line++
			s.i++
		case ' ', '\t', '\r':
			s.i++
		case '#':
			s.skipToEOL()
		case '[':
			line := s.line
			s.i++
			if s.peek() == '[' {
				s.i++ // [[array of tables]]
			}
			path, ok := s.keyPath()
			if ok {
				table = path
				s.out.record(path, line)
			}
			s.skipToEOL()
		default:
			line := s.line
			path, ok := s.keyPath()
			if !ok || s.peek() != '=' {
				s.skipToEOL()
				continue
			}
			s.i++
			full := make([]string, 0, len(table)+len(path))
			full = append(append(full, table...), path...)
			s.out.record(full, line)
			s.skipValue()
			s.skipToEOL()
		}
	}
	return s.out
}

func (s *keyScanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *keyScanner) skipBlanks() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t') {
		s.i++
	}
}

// skipToEOL moves to the next newline, which the caller counts.
func (s *keyScanner) skipToEOL() {
	for s.i < len(s.b) && s.b[s.i] != '\n' {
		s.i++
	}
}

// keyPath reads a dotted key: bare, "basic" or 'literal' parts separated by
// dots, with blanks around them.
func (s *keyScanner) keyPath() ([]string, bool) {
	var path []string
	for {
		s.skipBlanks()
		part, ok := s.keyPart()
		if !ok {
			return nil, false
		}
		path = append(path, part)
		s.skipBlanks()
		if s.peek() != '.' {
			return path, true
		}
		s.i++
	}
}

func (s *keyScanner) keyPart() (string, bool) {
	switch s.peek() {
	case '"', '\'':
		q := s.b[s.i]
		start := s.i + 1
		for j := start; j < len(s.b) && s.b[j] != '\n'; j++ {
			switch s.b[j] {
			case '\\':
				if q == '"' {
					j++ // the escaped byte cannot end the key
				}
			case q:
				s.i = j + 1
				raw := string(s.b[start:j])
				if q == '\'' {
					return raw, true
				}
				// TOML's escapes are Go's, except \e (TOML 1.1), which
				// keeps its raw spelling: the line is then not found.
				if u, err := strconv.Unquote(`"` + raw + `"`); err == nil {
					return u, true
				}
				return raw, true
			}
		}
		return "", false
	default:
		start := s.i
		for s.i < len(s.b) && isBareKeyByte(s.b[s.i]) {
			s.i++
		}
		return string(s.b[start:s.i]), s.i > start
	}
}

func isBareKeyByte(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '=', '.', '[', ']', '#', '"', '\'', ',', '{', '}':
		return false
	}
	return true
}

// skipValue moves past one value: a string of any of TOML's four kinds, an
// array or inline table (which may span lines), or a scalar.
func (s *keyScanner) skipValue() {
	s.skipBlanks()
	switch s.peek() {
	case '"', '\'':
		s.skipString()
	case '[', '{':
		s.skipNested()
	default:
		for s.i < len(s.b) && s.b[s.i] != '\n' && s.b[s.i] != '#' {
			s.i++
		}
	}
}

func (s *keyScanner) skipString() {
	q := s.b[s.i]
	if s.i+2 < len(s.b) && s.b[s.i+1] == q && s.b[s.i+2] == q {
		s.i += 3
		for s.i < len(s.b) {
			c := s.b[s.i]
			switch {
			case c == '\n':
				s.line++
			case c == '\\' && q == '"':
				s.i++
				if s.i < len(s.b) && s.b[s.i] == '\n' {
					s.line++ // line-ending backslash
				}
			case c == q && s.i+2 < len(s.b) && s.b[s.i+1] == q && s.b[s.i+2] == q:
				s.i += 3
				// Up to two more quotes belong to the content: """a"""""
				for n := 0; n < 2 && s.i < len(s.b) && s.b[s.i] == q; n++ {
					s.i++
				}
				return
			}
			s.i++
		}
		return
	}
	s.i++
	for s.i < len(s.b) && s.b[s.i] != '\n' {
		c := s.b[s.i]
		s.i++
		switch {
		case c == q:
			return
		case c == '\\' && q == '"' && s.i < len(s.b) && s.b[s.i] != '\n':
			s.i++
		}
	}
}

// skipNested moves past a bracketed array or braced inline table, counting
// the lines inside it.
func (s *keyScanner) skipNested() {
	depth := 0
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '[', '{':
			depth++
			s.i++
		case ']', '}':
			depth--
			s.i++
			if depth <= 0 {
				return
			}
		case '"', '\'':
			s.skipString()
		case '#':
			s.skipToEOL()
		case '\n':
			s.line++
			s.i++
		default:
			s.i++
		}
	}
}
