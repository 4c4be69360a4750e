package lineprotocol

import (
	"bytes"
	"math"

	"github.com/stratadb/strata/internal/models"
)

// DefaultMaxStringLen bounds a string field value (unescaped bytes) unless
// Parser.MaxStringLen says otherwise: the 64 KiB limit of the 1.x docs.
const DefaultMaxStringLen = 64 << 10

// Parser parses line protocol. The zero value is ready to use. A Parser is
// reusable and not safe for concurrent use; its arenas (points, tags,
// fields) grow to the largest body seen and are reused, so parsing a body
// of valid lines allocates nothing once the Parser is warm.
type Parser struct {
	// MaxStringLen bounds string field values (unescaped bytes); 0 means
	// DefaultMaxStringLen. A longer value rejects its point with
	// ErrStringTooLong.
	MaxStringLen int
	// MaxErrors bounds the LineErrors one Parse call returns; 0 means no
	// bound (1.x reports every failed line). Invalid lines past the bound
	// are still skipped and counted by Invalid, but not described, so a
	// body of garbage cannot make the parser hold a copy of every line.
	MaxErrors int

	points []models.Point
	tags   []models.Tag
	fields []models.Field
	errs   []*LineError

	// State of the current Parse call.
	mult    int64 // nanoseconds per timestamp unit
	lo, hi  int64 // valid raw timestamps, in units
	now     int64 // time of points without a timestamp
	end     int   // index of the '\n' (or len(buf)) ending the current line
	e       int   // end of the current line's content ('\r' of a CRLF excluded)
	invalid int   // invalid lines so far
	mutated bool  // the current line was unescaped in place; text holds it
	checked bool  // the current line's syntax is valid
	text    []byte
	order   []fieldRef
	tagOrder
}

// fieldRef is scratch for de-duplicating a large field set.
type fieldRef struct {
	key []byte
	idx int
}

// Parse parses buf in place: it unescapes measurements, tag keys and
// values, field keys and string values inside buf (unescaped text is never
// longer than escaped), so the returned points borrow buf and stay valid
// until buf or the Parser is reused. precision is the unit of the
// timestamps (0 means nanoseconds); now, in nanoseconds, is the time of
// points without one, truncated to the precision as 1.x does.
//
// It returns the points of every valid line and the errors of every invalid
// line, each in body order. Both slices are reused by the next call. Tags of
// each point are sorted by key; each field key appears once (when a line
// repeats a field key, the last value wins). Lines are separated by '\n'
// (a '\r' before it is dropped); a string field value may span lines. Blank
// lines (spaces, tabs and NULs only) and lines starting with '#' are
// skipped.
func (p *Parser) Parse(buf []byte, precision Precision, now int64) ([]models.Point, []*LineError) {
	// The arenas are overwritten from the start; what the previous call
	// left beyond the new lengths is cleared at the end, so that no stale
	// reference keeps an old body alive.
	oldPoints, oldTags, oldFields := len(p.points), len(p.tags), len(p.fields)
	clear(p.tagOrder.keys) // they borrow the previous body
	p.tagOrder.keys = p.tagOrder.keys[:0]
	p.points = p.points[:0]
	p.tags = p.tags[:0]
	p.fields = p.fields[:0]
	clear(p.errs)
	p.errs = p.errs[:0]
	p.invalid = 0

	p.mult = int64(precision)
	if p.mult <= 0 {
		p.mult = 1
	}
	p.lo, p.hi = models.MinNanoTime/p.mult, models.MaxNanoTime/p.mult
	p.now = floorTo(now, p.mult)

	line := 1
	for pos := 0; pos < len(buf); {
		end := len(buf)
		if nl := bytes.IndexByte(buf[pos:], '\n'); nl >= 0 {
			end = pos + nl
		}
		s := pos
		for s < end && isBlank(buf[s]) {
			s++
		}
		e := end
		if e > s && buf[e-1] == '\r' {
			e--
		}
		if s < e && buf[s] != '#' {
			p.end, p.e = end, e
			p.parseOne(buf, s, line)
			if p.end > end {
				// A string value or an error's recovery spanned lines.
				line += bytes.Count(buf[end:p.end], []byte{'\n'})
				end = p.end
			}
		}
		line++
		pos = end + 1
	}
	clearTail(p.points, oldPoints)
	clearTail(p.tags, oldTags)
	clearTail(p.fields, oldFields)
	return p.points, p.errs
}

// clearTail zeroes s[len(s):old], the part of an arena the previous call
// used and this one did not.
func clearTail[T any](s []T, old int) {
	if old > len(s) {
		clear(s[len(s):old])
	}
}

// floorTo rounds t down to a multiple of unit.
func floorTo(t, unit int64) int64 {
	if unit <= 1 {
		return t
	}
	r := t % unit
	if r < 0 {
		r += unit
	}
	return t - r
}

// parseOne parses the line starting at s and records its point or error.
func (p *Parser) parseOne(buf []byte, s, line int) {
	nt, nf := len(p.tags), len(p.fields)
	p.mutated, p.checked = false, false
	pt, err := p.parseLine(buf, s)
	if err == nil {
		pt.Line = line
		p.points = append(p.points, pt)
		return
	}
	clear(p.tags[nt:])
	p.tags = p.tags[:nt]
	clear(p.fields[nf:])
	p.fields = p.fields[:nf]
	if !p.checked {
		if end := recoverEnd(buf, s); end > p.end {
			p.end = end
			p.e = end
			if p.e > s && buf[p.e-1] == '\r' {
				p.e--
			}
		}
	}
	p.invalid++
	if p.MaxErrors > 0 && len(p.errs) >= p.MaxErrors {
		return
	}
	text := p.text
	if !p.mutated {
		text = buf[s:p.e]
	}
	p.errs = append(p.errs, &LineError{Line: line, Text: string(text), Err: err})
}

// Invalid returns the number of invalid lines of the last Parse call: the
// length of the errors it returned, plus the lines past MaxErrors.
func (p *Parser) Invalid() int { return p.invalid }

// parseLine parses the line whose first non-blank byte is buf[s] and whose
// content ends at p.e. Syntax is checked before anything in buf is
// modified, so the line text stays intact for a syntax error; the checks
// that need unescaped names run after unescaping, with a copy of the line
// kept in p.text when the line has escapes.
func (p *Parser) parseLine(buf []byte, s int) (models.Point, error) {
	e := p.e
	hasEsc := false
	i := s

	// Measurement.
	if buf[i] == ',' {
		return models.Point{}, ErrMissingMeasurement
	}
	for {
		i = findMeasStop(buf, i, e)
		if i >= e || buf[i] != '\\' {
			break
		}
		hasEsc = true
		if i+1 < e && measEsc[buf[i+1]] {
			i += 2
		} else {
			i++
		}
	}
	meas := buf[s:i]
	if i >= e {
		return models.Point{}, ErrMissingFields
	}

	// Tags.
	tagStart := len(p.tags)
	for buf[i] == ',' {
		i++
		ks := i
		if i >= e || keyStart[buf[i]] {
			return models.Point{}, ErrMissingTagKey
		}
		i, hasEsc = scanKey(buf, i, e, hasEsc)
		if i >= e || buf[i] != '=' {
			return models.Point{}, ErrMissingTagValue
		}
		key := buf[ks:i]
		i++
		vs := i
		if i >= e || buf[i] == ',' || buf[i] == ' ' {
			return models.Point{}, ErrMissingTagValue
		}
		i, hasEsc = scanKey(buf, i, e, hasEsc)
		if i >= e {
			return models.Point{}, ErrMissingFields
		}
		if buf[i] == '=' {
			return models.Point{}, ErrInvalidTagFormat
		}
		p.tags = append(p.tags, models.Tag{Key: key, Value: buf[vs:i]})
	}

	// Fields. buf[i] is the space after the key.
	for i < e && isBlank(buf[i]) {
		i++
	}
	if i >= e {
		return models.Point{}, ErrMissingFields
	}
	fieldStart := len(p.fields)
	for {
		ks := i
		i, hasEsc = scanKey(buf, i, e, hasEsc)
		if i >= e || buf[i] != '=' {
			return models.Point{}, ErrInvalidFieldFormat
		}
		if i == ks {
			return models.Point{}, ErrMissingFieldKey
		}
		f := models.Field{Key: buf[ks:i]}
		i++
		if i >= e {
			return models.Point{}, ErrMissingFieldValue
		}
		switch valueClass[buf[i]] {
		case vcNumber:
			t, bits, end, err := scanNumber(buf, i, e)
			if err != nil {
				return models.Point{}, err
			}
			f.Type, f.Bits, i = t, bits, end
		case vcString:
			q := closeQuote(buf, i+1)
			if q < 0 {
				return models.Point{}, ErrUnbalancedQuotes
			}
			if q > e {
				p.extendLine(buf, q)
				e = p.e
			}
			f.Type, f.Str = models.String, buf[i+1:q]
			if !hasEsc && bytes.IndexByte(f.Str, '\\') >= 0 {
				hasEsc = true
			}
			i = q + 1
			if !atValueEnd(buf, i, e) {
				return models.Point{}, ErrInvalidFieldFormat
			}
		case vcBool:
			j := skipValue(buf, i, e)
			v, ok := parseBool(buf[i:j])
			if !ok {
				return models.Point{}, ErrInvalidBoolean
			}
			f.Type, f.Bits, i = models.Boolean, v, j
		case vcSeparator:
			return models.Point{}, ErrMissingFieldValue
		case vcNotNumber:
			return models.Point{}, ErrInvalidNumber
		default:
			return models.Point{}, ErrInvalidBoolean
		}
		p.fields = append(p.fields, f)
		if i >= e {
			break
		}
		i++
		if buf[i-1] == ' ' {
			break
		}
	}

	// Timestamp.
	ts := p.now
	for i < e && isBlank(buf[i]) {
		i++
	}
	if i < e {
		t0 := i
		if buf[i] == '-' {
			i++
		}
		u, n := scanDigits(buf, i, e)
		i += n
		if i < e && buf[i] != ' ' {
			return models.Point{}, ErrBadTimestamp
		}
		var v int64
		neg := buf[t0] == '-'
		if n > 0 && n <= 19 && (u <= math.MaxInt64 || (neg && u == 1<<63)) {
			v = int64(u)
			if neg {
				v = -v
			}
		} else {
			var err error
			if v, err = parseInt64(buf[t0:i]); err != nil {
				return models.Point{}, timestampError(err)
			}
		}
		if v < p.lo || v > p.hi {
			return models.Point{}, ErrTimeOutOfRange
		}
		ts = v * p.mult
		for ; i < e; i++ {
			if buf[i] != ' ' {
				return models.Point{}, ErrInvalidPoint
			}
		}
	}

	p.checked = true
	tags := p.tags[tagStart:]
	fields := p.fields[fieldStart:]
	if hasEsc {
		p.text = append(p.text[:0], buf[s:e]...)
		p.mutated = true
		meas = unescape(meas, &measEsc)
		for k := range tags {
			tags[k].Key = unescape(tags[k].Key, &tagEsc)
			tags[k].Value = unescape(tags[k].Value, &tagEsc)
		}
		for k := range fields {
			fields[k].Key = unescape(fields[k].Key, &tagEsc)
			if fields[k].Type == models.String {
				fields[k].Str = unescape(fields[k].Str, &strEsc)
			}
		}
	}
	if err := p.sortTags(tags); err != nil {
		return models.Point{}, err
	}
	fields = p.dedupeFields(fields)
	if e-s > models.MaxKeyLength {
		if err := checkKeyLength(meas, tags, fields); err != nil {
			return models.Point{}, err
		}
	}
	fields, err := p.checkKeys(meas, tags, fields)
	if err != nil {
		return models.Point{}, err
	}
	p.fields = p.fields[:fieldStart+len(fields)]
	return models.Point{
		Measurement: meas,
		Tags:        tags[:len(tags):len(tags)],
		Fields:      fields[:len(fields):len(fields)],
		Time:        ts,
	}, nil
}

// extendLine moves the current line's end past a string value whose
// closing quote, at q, lies beyond the line's first '\n'.
func (p *Parser) extendLine(buf []byte, q int) {
	end := len(buf)
	if nl := bytes.IndexByte(buf[q+1:], '\n'); nl >= 0 {
		end = q + 1 + nl
	}
	e := end
	if e > q+1 && buf[e-1] == '\r' {
		e--
	}
	p.end, p.e = end, e
}

// scanKey advances over a tag key, tag value or field key starting at i: it stops at an unescaped ',', '=' or ' ', or at
// e. A backslash escapes a following ',', '=' or ' '; before anything else
// it is literal.
func scanKey(buf []byte, i, e int, hasEsc bool) (int, bool) {
	for {
		i = findKeyStop(buf, i, e)
		if i >= e || buf[i] != '\\' {
			return i, hasEsc
		}
		hasEsc = true
		if i+1 < e && tagEsc[buf[i+1]] {
			i += 2
		} else {
			i++
		}
	}
}

// closeQuote returns the index of the quote that closes a string value
// whose text starts at i, or -1. Inside a string, `\"` and `\\` are escapes,
// so a quote is escaped exactly when an odd run of backslashes precedes it.
func closeQuote(buf []byte, i int) int {
	for j := i; ; {
		k := bytes.IndexByte(buf[j:], '"')
		if k < 0 {
			return -1
		}
		q := j + k
		n := 0
		for q-n-1 >= i && buf[q-n-1] == '\\' {
			n++
		}
		if n%2 == 0 {
			return q
		}
		j = q + 1
	}
}

// recoverEnd finds where a line that failed to parse ends, so that parsing
// resumes at the next line: the first '\n' outside a string value, where a
// string value is a '"' right after an unescaped '=' in the field section
// (1.x's scanLine likewise keeps the newlines of quoted values inside the
// line). An unterminated string ends at the first '\n' after its quote.
func recoverEnd(buf []byte, s int) int {
	i := s
	for i < len(buf) {
		c := buf[i]
		if c == '\n' {
			return i
		}
		if c == ' ' {
			break
		}
		if c == '\\' && i+1 < len(buf) && tagEsc[buf[i+1]] {
			i += 2
			continue
		}
		i++
	}
	prevEq := false
	for i < len(buf) {
		c := buf[i]
		switch {
		case c == '\n':
			return i
		case c == '\\':
			if i+1 < len(buf) && tagEsc[buf[i+1]] {
				i++
			}
		case c == '"' && prevEq:
			q := closeQuote(buf, i+1)
			if q < 0 {
				if nl := bytes.IndexByte(buf[i:], '\n'); nl >= 0 {
					return i + nl
				}
				return len(buf)
			}
			i = q
		}
		prevEq = c == '='
		i++
	}
	return len(buf)
}

// parseBool parses the boolean spellings 1.x accepts.
func parseBool(b []byte) (uint64, bool) {
	switch bstr(b) {
	case "t", "T", "true", "True", "TRUE":
		return 1, true
	case "f", "F", "false", "False", "FALSE":
		return 0, true
	}
	return 0, false
}

// unescape removes, in place, the backslash before each byte of set and
// returns the shortened slice. A backslash before any other byte is kept.
func unescape(b []byte, set *[256]bool) []byte {
	i := bytes.IndexByte(b, '\\')
	if i < 0 {
		return b
	}
	w := i
	for i < len(b) {
		c := b[i]
		if c == '\\' && i+1 < len(b) && set[b[i+1]] {
			c = b[i+1]
			i++
		}
		b[w] = c
		w++
		i++
	}
	return b[:w]
}

// isBlank reports whether c is skipped before a line and between its
// sections: space, tab and NUL (1.x's skipWhitespace; NUL since #4596).
func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == 0 }
