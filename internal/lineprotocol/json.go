package lineprotocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/stratadb/strata/internal/models"
)

// The legacy JSON write body of InfluxDB 0.9 (its client.BatchPoints):
//
//	{"database": "db", "retentionPolicy": "rp", "precision": "s",
//	 "tags": {"k": "v"}, "time": "2015-01-01T00:00:00Z",
//	 "points": [{"measurement": "cpu", "tags": {…}, "time": 1420070400,
//	             "precision": "s", "fields": {"value": 0.5}}]}
//
// A time is an RFC 3339 string or an integer in the precision; a point
// without a time takes the batch's, else now. Batch tags fill the tags a
// point lacks (or has empty). Fields map JSON numbers to floats, strings to
// strings and booleans to booleans.

type jsonBatch struct {
	Database        string            `json:"database"`
	RetentionPolicy string            `json:"retentionPolicy"`
	Precision       string            `json:"precision"`
	Tags            map[string]string `json:"tags"`
	Time            json.RawMessage   `json:"time"`
	Points          []jsonPoint       `json:"points"`
}

type jsonPoint struct {
	Measurement string            `json:"measurement"`
	Precision   string            `json:"precision"`
	Tags        map[string]string `json:"tags"`
	Time        json.RawMessage   `json:"time"`
	Fields      map[string]any    `json:"fields"`
}

// ParseJSONBatch decodes a legacy 0.9 JSON write body (see the comment
// above for its shape). It returns the database and retention policy the
// body names (empty when absent) and its points, with tags sorted by key
// and fields sorted by key; Point.Line is the 1-based index of the point in
// "points". The same key rules as line protocol apply (no "time",
// "_field" or "_measurement" tag keys, "time" fields dropped, bounded
// strings, bounded keys). Any malformed part fails the whole body with an
// error that names it. An empty body yields no points and no error, as in
// 1.x.
func ParseJSONBatch(body []byte, now int64) (db, rp string, points []models.Point, err error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return "", "", nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var b jsonBatch
	if err := dec.Decode(&b); err != nil {
		return "", "", nil, jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "", "", nil, &detailError{kind: ErrInvalidJSON, msg: "invalid JSON write body: data after the top-level object"}
	}
	batchTime, hasBatchTime, err := jsonTime(b.Time, b.Precision)
	if err != nil {
		return "", "", nil, fmt.Errorf("time: %w", err)
	}
	points = make([]models.Point, 0, len(b.Points))
	var p Parser // only for its key checks
	for i := range b.Points {
		pt, err := jsonToPoint(&p, &b, &b.Points[i], batchTime, hasBatchTime, now)
		if err != nil {
			return "", "", nil, fmt.Errorf("points[%d]: %w", i, err)
		}
		pt.Line = i + 1
		points = append(points, pt)
	}
	return b.Database, b.RetentionPolicy, points, nil
}

func jsonError(err error) error {
	return &detailError{kind: ErrInvalidJSON, msg: "invalid JSON write body: " + err.Error(), cause: err}
}

func jsonToPoint(p *Parser, b *jsonBatch, jp *jsonPoint, batchTime int64, hasBatchTime bool, now int64) (models.Point, error) {
	prec := jp.Precision
	if prec == "" {
		prec = b.Precision
	}
	ts, ok, err := jsonTime(jp.Time, prec)
	if err != nil {
		return models.Point{}, fmt.Errorf("time: %w", err)
	}
	if !ok {
		ts = now
		if hasBatchTime {
			ts = batchTime
		}
	}
	if prec != "" {
		// 0.9 rounds every time to the precision (client.SetPrecision).
		unit, err := ParsePrecision(prec)
		if err != nil {
			return models.Point{}, err
		}
		ts = roundTo(ts, int64(unit))
	}
	if jp.Measurement == "" {
		return models.Point{}, ErrMissingMeasurement
	}
	if err := checkJSONName("measurement", jp.Measurement); err != nil {
		return models.Point{}, err
	}
	if c := jp.Measurement[0]; c == '#' || c == '\t' || c == 0 {
		// A line starting so is a comment or has its blanks skipped, with
		// no escape: the point could not be forwarded as line protocol.
		return models.Point{}, fmt.Errorf("measurement %q starts with %q, which line protocol cannot write", jp.Measurement, c)
	}
	meas := []byte(jp.Measurement)

	tags := make([]models.Tag, 0, len(jp.Tags)+len(b.Tags))
	for k, v := range jp.Tags {
		if v == "" {
			if bv := b.Tags[k]; bv != "" {
				v = bv
			} else {
				continue // 1.x leaves tags with an empty value out
			}
		}
		tags = append(tags, models.Tag{Key: []byte(k), Value: []byte(v)})
	}
	for k, v := range b.Tags {
		if _, ok := jp.Tags[k]; ok || v == "" {
			continue
		}
		tags = append(tags, models.Tag{Key: []byte(k), Value: []byte(v)})
	}
	slices.SortFunc(tags, cmpTags)
	for i := range tags {
		if len(tags[i].Key) == 0 {
			return models.Point{}, errors.New("empty tag key")
		}
		if err := checkJSONName("tag key", string(tags[i].Key)); err != nil {
			return models.Point{}, err
		}
		if err := checkJSONName("tag value", string(tags[i].Value)); err != nil {
			return models.Point{}, err
		}
	}

	if len(jp.Fields) == 0 {
		return models.Point{}, ErrMissingFields
	}
	fields := make([]models.Field, 0, len(jp.Fields))
	for k, v := range jp.Fields {
		if k == "" {
			return models.Point{}, errors.New("all fields must have non-empty names")
		}
		if err := checkJSONName("field key", k); err != nil {
			return models.Point{}, err
		}
		f, err := jsonField([]byte(k), v)
		if err != nil {
			return models.Point{}, err
		}
		fields = append(fields, f)
	}
	slices.SortFunc(fields, func(a, b models.Field) int { return bytes.Compare(a.Key, b.Key) })
	if err := checkKeyLength(meas, tags, fields); err != nil {
		return models.Point{}, err
	}
	fields, err = p.checkKeys(meas, tags, fields)
	if err != nil {
		return models.Point{}, err
	}
	if ts < models.MinNanoTime || ts > models.MaxNanoTime {
		return models.Point{}, ErrTimeOutOfRange
	}
	return models.Point{Measurement: meas, Tags: tags, Fields: fields, Time: ts}, nil
}

// checkJSONName rejects names that line protocol and series keys cannot
// express: a newline ends a line, and a trailing backslash would escape the
// separator after it.
func checkJSONName(what, s string) error {
	if strings.IndexByte(s, '\n') >= 0 {
		return fmt.Errorf("%s %q holds a newline", what, s)
	}
	if strings.HasSuffix(s, `\`) {
		return fmt.Errorf("%s %q ends with a backslash", what, s)
	}
	return nil
}

func jsonField(key []byte, v any) (models.Field, error) {
	switch v := v.(type) {
	case json.Number:
		f, err := parseFloat([]byte(v.String()))
		if err != nil || math.IsInf(f, 0) {
			return models.Field{}, fmt.Errorf("field %q: %w", key, ErrInvalidFloat)
		}
		return models.FloatField(key, f), nil
	case string:
		return models.StringField(key, []byte(v)), nil
	case bool:
		return models.BooleanField(key, v), nil
	}
	return models.Field{}, fmt.Errorf("field %q: unsupported value type %s", key, jsonKind(v))
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return fmt.Sprintf("%T", v)
}

// jsonTime decodes a "time" member: absent or null (ok false), an RFC 3339
// string, or an integer in prec (seconds when prec is empty, as 0.9's
// client.EpochToTime does).
func jsonTime(raw json.RawMessage, prec string) (ns int64, ok bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, false, jsonError(err)
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return 0, false, fmt.Errorf("%w: %v", ErrInvalidJSON, err)
		}
		if t.Before(time.Unix(0, models.MinNanoTime)) || t.After(time.Unix(0, models.MaxNanoTime)) {
			return 0, false, ErrTimeOutOfRange
		}
		return t.UnixNano(), true, nil
	}
	unit := Second
	if prec != "" {
		if unit, err = ParsePrecision(prec); err != nil {
			return 0, false, err
		}
	}
	v, err := parseInt64(raw)
	if err != nil || !isInteger(raw) {
		return 0, false, fmt.Errorf("%w: time %s is not an integer or an RFC 3339 string", ErrInvalidJSON, raw)
	}
	m := int64(unit)
	if v < models.MinNanoTime/m || v > models.MaxNanoTime/m {
		return 0, false, ErrTimeOutOfRange
	}
	return v * m, true, nil
}

// roundTo rounds t to the nearest multiple of unit, halves away from the
// past (time.Time.Round's rule for the times that matter here).
func roundTo(t, unit int64) int64 {
	if unit <= 1 {
		return t
	}
	r := t % unit
	if r < 0 {
		r += unit
	}
	if r*2 >= unit && t-r <= math.MaxInt64-unit {
		return t - r + unit
	}
	return t - r
}

// isInteger reports whether b is an optional '-' and decimal digits.
func isInteger(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
