package httpd

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/stratadb/strata/internal/query"
)

// jsonFlushSize is how much encoded JSON is buffered before it is written
// out: large results stream instead of being built whole in memory.
const jsonFlushSize = 64 << 10

// jsonEncoder writes 1.x's JSON shape by appending bytes, with no
// reflection on the hot path (row values). The output is byte for byte what
// encoding/json produces for 1.x's structs (checked by a differential test):
//
//	{"results":[{"statement_id":0,"series":[{"name":…,"tags":{…},"columns":[…],
//	"values":[[…]],"partial":true}],"messages":[{"level":…,"text":…}],
//	"partial":true,"error":"…"}],"error":"…"}
//
// with empty members left out and a newline after each document. pretty
// indents with four spaces, as json.MarshalIndent(…, "", "    ") does.
type jsonEncoder struct {
	pretty bool
	epoch  int64

	buf  []byte
	keys []string // scratch for sorting tag keys
	out  *byteCounter
	err  error
	ind  bytes.Buffer // pretty output
}

func (e *jsonEncoder) begin(w io.Writer) {
	e.out = &byteCounter{w: w}
	e.err = nil
	e.buf = e.buf[:0]
}

// maybeFlush writes the buffer out once it is large. Pretty output cannot
// be streamed (it is indented as a whole), so it stays buffered.
func (e *jsonEncoder) maybeFlush() {
	if e.pretty || len(e.buf) < jsonFlushSize || e.err != nil {
		return
	}
	_, e.err = e.out.Write(e.buf)
	e.buf = e.buf[:0]
}

func (e *jsonEncoder) end() (int64, error) {
	if e.err == nil {
		if e.pretty {
			e.ind.Reset()
			if err := json.Indent(&e.ind, e.buf, "", "    "); err != nil {
				panic("BUG: httpd produced invalid JSON: " + err.Error())
			}
			e.ind.WriteByte('\n')
			_, e.err = e.out.Write(e.ind.Bytes())
		} else {
			e.buf = append(e.buf, '\n')
			_, e.err = e.out.Write(e.buf)
		}
	}
	e.buf = e.buf[:0]
	return e.out.n, e.err
}

func (e *jsonEncoder) encode(w io.Writer, results []*query.Result) (int64, error) {
	e.begin(w)
	if len(results) == 0 {
		e.buf = append(e.buf, "{}"...) // "results" is omitempty in 1.x's Response
		return e.end()
	}
	e.buf = append(e.buf, `{"results":[`...)
	for i, r := range results {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.appendResult(r)
	}
	e.buf = append(e.buf, "]}"...)
	return e.end()
}

func (e *jsonEncoder) encodeError(w io.Writer, msg string) (int64, error) {
	e.begin(w)
	e.buf = append(e.buf, `{"error":`...)
	e.buf = appendJSONString(e.buf, msg)
	e.buf = append(e.buf, '}')
	return e.end()
}

func (e *jsonEncoder) appendResult(r *query.Result) {
	e.buf = append(e.buf, `{"statement_id":`...)
	e.buf = strconv.AppendInt(e.buf, int64(r.StatementID), 10)
	if len(r.Series) > 0 {
		e.buf = append(e.buf, `,"series":[`...)
		for i, row := range r.Series {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.appendRow(row)
		}
		e.buf = append(e.buf, ']')
	}
	if len(r.Messages) > 0 {
		e.buf = append(e.buf, `,"messages":[`...)
		for i, m := range r.Messages {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = append(e.buf, `{"level":`...)
			e.buf = appendJSONString(e.buf, m.Level)
			e.buf = append(e.buf, `,"text":`...)
			e.buf = appendJSONString(e.buf, m.Text)
			e.buf = append(e.buf, '}')
		}
		e.buf = append(e.buf, ']')
	}
	if r.Partial {
		e.buf = append(e.buf, `,"partial":true`...)
	}
	if r.Err != nil {
		// 1.x marshals the error's text with omitempty.
		if msg := r.Err.Error(); msg != "" {
			e.buf = append(e.buf, `,"error":`...)
			e.buf = appendJSONString(e.buf, msg)
		}
	}
	e.buf = append(e.buf, '}')
}

func (e *jsonEncoder) appendRow(row *query.Row) {
	e.buf = append(e.buf, '{')
	sep := false
	member := func(name string) {
		if sep {
			e.buf = append(e.buf, ',')
		}
		sep = true
		e.buf = append(e.buf, name...)
	}
	if row.Name != "" {
		member(`"name":`)
		e.buf = appendJSONString(e.buf, row.Name)
	}
	if len(row.Tags) > 0 {
		member(`"tags":{`)
		e.keys = e.keys[:0]
		for k := range row.Tags {
			e.keys = append(e.keys, k)
		}
		slices.Sort(e.keys) // encoding/json sorts map keys
		for i, k := range e.keys {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = appendJSONString(e.buf, k)
			e.buf = append(e.buf, ':')
			e.buf = appendJSONString(e.buf, row.Tags[k])
		}
		e.buf = append(e.buf, '}')
	}
	if len(row.Columns) > 0 {
		member(`"columns":[`)
		for i, c := range row.Columns {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = appendJSONString(e.buf, c)
		}
		e.buf = append(e.buf, ']')
	}
	if len(row.Values) > 0 {
		member(`"values":[`)
		for i, values := range row.Values {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = e.appendValues(e.buf, values)
			e.maybeFlush()
		}
		e.buf = append(e.buf, ']')
	}
	if row.Partial {
		member(`"partial":true`)
	}
	e.buf = append(e.buf, '}')
}

func (e *jsonEncoder) appendValues(dst []byte, values []any) []byte {
	if values == nil {
		return append(dst, "null"...) // a nil slice marshals as null
	}
	dst = append(dst, '[')
	for i, v := range values {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = e.appendValue(dst, v)
	}
	return append(dst, ']')
}

// appendValue appends one row value. The types the executor produces take
// the fast paths; anything else goes through encoding/json.
func (e *jsonEncoder) appendValue(dst []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...)
	case float64:
		return appendJSONFloat(dst, v)
	case int64:
		return strconv.AppendInt(dst, v, 10)
	case uint64:
		return strconv.AppendUint(dst, v, 10)
	case int:
		return strconv.AppendInt(dst, int64(v), 10)
	case string:
		return appendJSONString(dst, v)
	case bool:
		return strconv.AppendBool(dst, v)
	case time.Time:
		if e.epoch > 0 {
			return strconv.AppendInt(dst, epochOf(v, e.epoch), 10)
		}
		dst = append(dst, '"')
		dst = v.AppendFormat(dst, time.RFC3339Nano) // what time.Time.MarshalJSON writes
		return append(dst, '"')
	}
	b, err := json.Marshal(v)
	if err != nil {
		// 1.x would send the marshalling error instead of the whole
		// response; one unencodable value becomes null instead.
		return append(dst, "null"...)
	}
	return append(dst, b...)
}

// appendJSONFloat formats f as encoding/json does: shortest representation,
// exponent form below 1e-6 and from 1e21, with "e-07" shortened to "e-7".
// NaN and ±Inf, which JSON cannot carry, become null.
func appendJSONFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	fmtByte := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		fmtByte = 'e'
	}
	dst = strconv.AppendFloat(dst, f, fmtByte, -1, 64)
	if fmtByte == 'e' {
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// appendJSONString appends s quoted as encoding/json does with HTML
// escaping on (its default): ", \ and control characters escaped, <, > and
// & as \u003c \u003e \u0026, invalid UTF-8 as \ufffd, and U+2028 and
// U+2029 escaped.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
