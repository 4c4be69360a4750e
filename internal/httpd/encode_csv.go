package httpd

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/query"
)

// csvEncoder writes 1.x's CSV: a header "name,tags,<columns…>" per
// statement (repeated, after a blank line, when the columns change), then
// one record per value row with the series name and its tags as
// "k1=v1,k2=v2" (sorted, escaped as in a series key). Times are integers:
// nanoseconds, or the epoch unit when one was asked for. A statement's
// error is not shown (1.x's CSV writer skips results without series); a
// response-level error is the two records "error" and its text.
type csvEncoder struct {
	epoch       int64
	statementID int      // the statement whose header was written; -1 before any
	record      []string // current header / record, reused
	tagBuf      []byte
	tags        []models.Tag
	keys        []string
}

func (e *csvEncoder) encodeError(w io.Writer, msg string) (int64, error) {
	cw := &byteCounter{w: w}
	out := csv.NewWriter(cw)
	_ = out.Write([]string{"error"}) // errors surface through out.Error
	_ = out.Write([]string{msg})
	out.Flush()
	return cw.n, out.Error()
}

func (e *csvEncoder) encode(w io.Writer, results []*query.Result) (int64, error) {
	cw := &byteCounter{w: w}
	out := csv.NewWriter(cw)
	for _, r := range results {
		if r.StatementID != e.statementID {
			if len(r.Series) == 0 {
				continue
			}
			if e.statementID >= 0 {
				// A blank line separates statements.
				out.Flush()
				if err := out.Error(); err != nil {
					return cw.n, err
				}
				if _, err := io.WriteString(cw, "\n"); err != nil {
					return cw.n, err
				}
			}
			e.statementID = r.StatementID
			if err := e.writeHeader(out, r.Series[0].Columns); err != nil {
				return cw.n, err
			}
		}
		for i, row := range r.Series {
			if i > 0 && !slices.Equal(r.Series[i-1].Columns, row.Columns) {
				out.Flush()
				if err := out.Error(); err != nil {
					return cw.n, err
				}
				if _, err := io.WriteString(cw, "\n"); err != nil {
					return cw.n, err
				}
				if err := e.writeHeader(out, row.Columns); err != nil {
					return cw.n, err
				}
			}
			e.record = e.record[:2+len(row.Columns)]
			e.record[0] = row.Name
			e.record[1] = e.tagString(row.Tags)
			for _, values := range row.Values {
				for j := range row.Columns {
					var v any
					if j < len(values) {
						v = values[j]
					}
					e.record[2+j] = e.formatValue(v)
				}
				if err := out.Write(e.record); err != nil {
					return cw.n, err
				}
			}
		}
	}
	out.Flush()
	return cw.n, out.Error()
}

func (e *csvEncoder) writeHeader(out *csv.Writer, columns []string) error {
	e.record = append(e.record[:0], "name", "tags")
	e.record = append(e.record, columns...)
	return out.Write(e.record)
}

// tagString renders tags as the tag part of a series key, which is what
// 1.x prints (its Tags.HashKey without the leading comma).
func (e *csvEncoder) tagString(tags map[string]string) string {
	if len(tags) == 0 {
		return ""
	}
	e.keys = e.keys[:0]
	for k := range tags {
		e.keys = append(e.keys, k)
	}
	slices.Sort(e.keys)
	e.tags = e.tags[:0]
	for _, k := range e.keys {
		e.tags = append(e.tags, models.Tag{Key: []byte(k), Value: []byte(tags[k])})
	}
	e.tagBuf = models.AppendSeriesKey(e.tagBuf[:0], nil, e.tags)
	if len(e.tagBuf) == 0 {
		return ""
	}
	return string(e.tagBuf[1:]) // drop the comma after the empty measurement
}

func (e *csvEncoder) formatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(v, 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	case int:
		return strconv.Itoa(v)
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case time.Time:
		if e.epoch > 0 {
			return strconv.FormatInt(epochOf(v, e.epoch), 10)
		}
		return strconv.FormatInt(v.UnixNano(), 10)
	}
	return fmt.Sprint(v)
}
