package httpd

import (
	"io"
	"slices"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/stratadb/strata/internal/query"
)

// msgpackEncoder writes 1.x's msgpack shape with msgp's streaming writer:
// a map {"results": [...]} or {"error": "..."}; each result a map with
// "statement_id", "messages" (if any), "series" and "partial" (if set), or
// only {"error": "..."} for a failed statement; each series a map with
// "name" and "tags" (if set), "columns", "values" and "partial" (if set).
// Times are msgp's time extension unless an epoch turns them into integers.
// Tags are written in key order so that the output is deterministic (1.x
// follows Go's map order).
type msgpackEncoder struct {
	epoch int64
	keys  []string
}

func (e *msgpackEncoder) encodeError(w io.Writer, msg string) (int64, error) {
	cw := &byteCounter{w: w}
	enc := msgp.NewWriter(cw)
	_ = enc.WriteMapHeader(1) // write errors are kept by cw
	_ = enc.WriteString("error")
	_ = enc.WriteString(msg)
	return cw.result(enc.Flush())
}

func (e *msgpackEncoder) encode(w io.Writer, results []*query.Result) (int64, error) {
	cw := &byteCounter{w: w}
	enc := msgp.NewWriter(cw)
	// cw keeps the first write error and result returns it, so the
	// individual writes below need no checks.
	_ = enc.WriteMapHeader(1)
	_ = enc.WriteString("results")
	_ = enc.WriteArrayHeader(uint32(len(results)))
	for _, r := range results {
		e.writeResult(enc, r)
	}
	return cw.result(enc.Flush())
}

func (e *msgpackEncoder) writeResult(enc *msgp.Writer, r *query.Result) {
	if r.Err != nil {
		_ = enc.WriteMapHeader(1)
		_ = enc.WriteString("error")
		_ = enc.WriteString(r.Err.Error())
		return
	}
	size := uint32(2)
	if len(r.Messages) > 0 {
		size++
	}
	if r.Partial {
		size++
	}
	_ = enc.WriteMapHeader(size)
	_ = enc.WriteString("statement_id")
	_ = enc.WriteInt(r.StatementID)
	if len(r.Messages) > 0 {
		_ = enc.WriteString("messages")
		_ = enc.WriteArrayHeader(uint32(len(r.Messages)))
		for _, m := range r.Messages {
			_ = enc.WriteMapHeader(2)
			_ = enc.WriteString("level")
			_ = enc.WriteString(m.Level)
			_ = enc.WriteString("text")
			_ = enc.WriteString(m.Text)
		}
	}
	_ = enc.WriteString("series")
	_ = enc.WriteArrayHeader(uint32(len(r.Series)))
	for _, row := range r.Series {
		e.writeRow(enc, row)
	}
	if r.Partial {
		_ = enc.WriteString("partial")
		_ = enc.WriteBool(true)
	}
}

func (e *msgpackEncoder) writeRow(enc *msgp.Writer, row *query.Row) {
	size := uint32(2)
	if row.Name != "" {
		size++
	}
	if len(row.Tags) > 0 {
		size++
	}
	if row.Partial {
		size++
	}
	_ = enc.WriteMapHeader(size)
	if row.Name != "" {
		_ = enc.WriteString("name")
		_ = enc.WriteString(row.Name)
	}
	if len(row.Tags) > 0 {
		_ = enc.WriteString("tags")
		_ = enc.WriteMapHeader(uint32(len(row.Tags)))
		e.keys = e.keys[:0]
		for k := range row.Tags {
			e.keys = append(e.keys, k)
		}
		slices.Sort(e.keys)
		for _, k := range e.keys {
			_ = enc.WriteString(k)
			_ = enc.WriteString(row.Tags[k])
		}
	}
	_ = enc.WriteString("columns")
	_ = enc.WriteArrayHeader(uint32(len(row.Columns)))
	for _, c := range row.Columns {
		_ = enc.WriteString(c)
	}
	_ = enc.WriteString("values")
	_ = enc.WriteArrayHeader(uint32(len(row.Values)))
	for _, values := range row.Values {
		_ = enc.WriteArrayHeader(uint32(len(values)))
		for _, v := range values {
			e.writeValue(enc, v)
		}
	}
	if row.Partial {
		_ = enc.WriteString("partial")
		_ = enc.WriteBool(true)
	}
}

func (e *msgpackEncoder) writeValue(enc *msgp.Writer, v any) {
	switch v := v.(type) {
	case time.Time:
		if e.epoch > 0 {
			_ = enc.WriteInt64(epochOf(v, e.epoch))
			return
		}
		_ = enc.WriteTime(v)
	case nil:
		_ = enc.WriteNil()
	case float64:
		_ = enc.WriteFloat64(v)
	case int64:
		_ = enc.WriteInt64(v)
	case uint64:
		_ = enc.WriteUint64(v)
	case string:
		_ = enc.WriteString(v)
	case bool:
		_ = enc.WriteBool(v)
	default:
		if err := enc.WriteIntf(v); err != nil {
			_ = enc.WriteNil() // an unencodable value becomes nil, as in JSON
		}
	}
}
