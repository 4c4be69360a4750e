package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/cespare/xxhash/v2"
)

// wireResponse is the 1.x /query JSON shape, as far as the digest needs it.
type wireResponse struct {
	Results []struct {
		StatementID int `json:"statement_id"`
		Series      []struct {
			Name    string              `json:"name"`
			Tags    map[string]string   `json:"tags"`
			Columns []string            `json:"columns"`
			Values  [][]json.RawMessage `json:"values"`
		} `json:"series"`
		Error string `json:"error"`
	} `json:"results"`
	Error string `json:"error"`
}

// DigestResponse reduces a /query JSON body to the number of result rows
// and a hash of its canonical form, so that two servers' answers can be
// compared without keeping them. The canonical form holds every series'
// name, tags (sorted by key), columns and values, with numbers written the
// same way whatever the server's JSON encoder did (58, 58.0 and 5.8e1 are
// one number) and non-integers rounded to ten significant digits, so a
// different summation order in mean() is not a different answer.
//
// msg is the first error the body reports (top-level or per statement),
// "" for none. err is ErrBadResponse for a body that is not that shape.
func DigestResponse(body []byte) (rows int, hash uint64, msg string, err error) {
	var r wireResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return 0, 0, "", fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	msg = r.Error
	d := xxhash.New()
	var buf []byte
	for _, res := range r.Results {
		if res.Error != "" && msg == "" {
			msg = res.Error
		}
		buf = append(buf[:0], 'R')
		buf = strconv.AppendInt(buf, int64(res.StatementID), 10)
		buf = append(buf, 0)
		buf = append(buf, res.Error...)
		buf = append(buf, 0)
		for _, s := range res.Series {
			buf = append(buf, 'S')
			buf = append(buf, s.Name...)
			buf = append(buf, 0)
			keys := make([]string, 0, len(s.Tags))
			for k := range s.Tags {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				buf = append(buf, k...)
				buf = append(buf, '=')
				buf = append(buf, s.Tags[k]...)
				buf = append(buf, 0)
			}
			buf = append(buf, 'C')
			for _, c := range s.Columns {
				buf = append(buf, c...)
				buf = append(buf, 0)
			}
			for _, row := range s.Values {
				rows++
				buf = append(buf, 'V')
				for _, v := range row {
					buf = appendCanonical(buf, v)
					buf = append(buf, 0x1f)
				}
				if len(buf) > 32<<10 {
					_, _ = d.Write(buf)
					buf = buf[:0]
				}
			}
		}
		_, _ = d.Write(buf)
		buf = buf[:0]
	}
	return rows, d.Sum64(), msg, nil
}

// appendCanonical appends the canonical text of one JSON value, given
// as the raw bytes the decoder has already validated.
func appendCanonical(dst []byte, raw json.RawMessage) []byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return dst
	}
	switch c := raw[0]; {
	case c == '"':
		if bytes.IndexByte(raw, '\\') < 0 {
			return append(dst, raw...)
		}
		// Escapes are spelled differently by different encoders
		// ("\u003c" or "<"): compare the decoded text.
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return append(dst, raw...)
		}
		return strconv.AppendQuote(dst, s)
	case c == '-' || (c >= '0' && c <= '9'):
		if i, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			return strconv.AppendInt(dst, i, 10)
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return append(dst, raw...) // out of range: keep the text
		}
		if f == math.Trunc(f) && f > -1<<53 && f < 1<<53 {
			return strconv.AppendInt(dst, int64(f), 10)
		}
		return strconv.AppendFloat(dst, f, 'g', 10, 64)
	case c == '[' || c == '{':
		// Not part of the 1.x row shape; normalise through a round trip
		// so that spacing does not count.
		var v any
		if json.Unmarshal(raw, &v) != nil {
			return append(dst, raw...)
		}
		b, _ := json.Marshal(v)
		return append(dst, b...)
	}
	return append(dst, raw...) // null, true, false
}
