package lineprotocol

import (
	"errors"
	"strconv"

	"github.com/stratadb/strata/internal/models"
)

// Syntax errors. Their texts are InfluxDB 1.x's (models/points.go), because
// clients match on them; a LineError prints them as
// "unable to parse '<line>': <text>".
var (
	// ErrMissingMeasurement: the line starts with a comma.
	ErrMissingMeasurement = errors.New("missing measurement")
	// ErrMissingFields: the line has no field set.
	ErrMissingFields = errors.New("missing fields")
	// ErrMissingTagKey: a tag starts with '=', ',' or a space, or the
	// line ends after a comma.
	ErrMissingTagKey = errors.New("missing tag key")
	// ErrMissingTagValue: a tag has no '=' or an empty value.
	ErrMissingTagValue = errors.New("missing tag value")
	// ErrInvalidTagFormat: a tag value holds an unescaped '='.
	ErrInvalidTagFormat = errors.New("invalid tag format")
	// ErrDuplicateTags: two tags of a line have the same key.
	ErrDuplicateTags = errors.New("duplicate tags")
	// ErrMissingFieldKey: a field starts with '='.
	ErrMissingFieldKey = errors.New("missing field key")
	// ErrMissingFieldValue: a field has nothing after its '='.
	ErrMissingFieldValue = errors.New("missing field value")
	// ErrUnbalancedQuotes: a string field value has no closing quote.
	ErrUnbalancedQuotes = errors.New("unbalanced quotes")
	// ErrInvalidFieldFormat: a field has no '=', or a field set ends with
	// a comma, or a string value is followed by something other than a
	// separator.
	ErrInvalidFieldFormat = errors.New("invalid field format")
	// ErrInvalidNumber: a malformed number, NaN or ±Inf, a misplaced i or
	// u suffix, or a negative unsigned value. Integer and unsigned values
	// out of range are reported with 1.x's "unable to parse integer …" and
	// "unable to parse unsigned …" texts and match this error too.
	ErrInvalidNumber = errors.New("invalid number")
	// ErrInvalidFloat: a float that strconv rejects (bad exponent) or that
	// is out of the float64 range.
	ErrInvalidFloat = errors.New("invalid float")
	// ErrInvalidBoolean: an unquoted value that is none of the accepted
	// boolean spellings.
	ErrInvalidBoolean = errors.New("invalid boolean")
	// ErrBadTimestamp: the timestamp holds something other than digits
	// after an optional '-'. Timestamps that strconv cannot parse (too
	// large, a lone '-') carry strconv's text and match this error too.
	ErrBadTimestamp = errors.New("bad timestamp")
	// ErrTimeOutOfRange: the timestamp, scaled to nanoseconds, falls
	// outside [models.MinNanoTime, models.MaxNanoTime]. The text is 1.x's,
	// which names the nanosecond range whatever the precision.
	ErrTimeOutOfRange = errors.New("time outside range -9223372036854775806 - 9223372036854775806")
	// ErrInvalidPoint: something other than spaces follows the timestamp.
	ErrInvalidPoint = errors.New("point is invalid")
	// ErrMaxKeyLength: the series key plus a field key is longer than
	// models.MaxKeyLength. The text carries the length:
	// "max key length exceeded: N > 65535".
	ErrMaxKeyLength = errors.New("max key length exceeded")
)

// Rejections: the line is well formed, but 1.x drops its point when it is
// written (tsdb/shard.go) instead of failing to parse it. Their errors match
// ErrRejected, and a LineError prints only their text, which is 1.x's
// partial-write reason.
var (
	// ErrRejected is matched by every rejection error below.
	ErrRejected = errors.New("point rejected")
	// ErrTimeTagKey: a tag key is "time".
	ErrTimeTagKey = errors.New(`invalid tag key "time"`)
	// ErrTimeFieldKey: "time" is the only field key of the line. (When
	// other fields exist the "time" field is dropped silently, as in 1.x.)
	ErrTimeFieldKey = errors.New(`invalid field name "time"`)
	// ErrReservedKey: a tag or field key is "_field" or "_measurement",
	// which the 1.x docs reserve ("the associated point is discarded").
	ErrReservedKey = errors.New("reserved key")
	// ErrStringTooLong: a string field value is longer than the parser's
	// bound (64 KiB by default).
	ErrStringTooLong = errors.New("string field value too long")
	// ErrLeadingBlankKey: once a "time" field or a repeated key is
	// dropped, the first field key starts with a tab or a NUL. Blanks
	// before the field set are skipped and cannot be escaped, so no line
	// protocol text reads back to that point (AppendPoint could not write
	// it for a subscriber).
	ErrLeadingBlankKey = errors.New("first field key starts with a blank")
)

// Errors of the other entry points.
var (
	// ErrInvalidPrecision: ParsePrecision got an unknown unit.
	ErrInvalidPrecision = errors.New("invalid precision")
	// ErrInvalidJSON: the legacy JSON write body is malformed.
	ErrInvalidJSON = errors.New("invalid JSON write body")
)

// LineError is the error of one line of a write body.
type LineError struct {
	// Line is the 1-based physical line (every '\n' counted) where the
	// line starts.
	Line int
	// Text is the line as sent, from its first non-blank byte, without
	// its line ending.
	Text string
	// Err is the reason: one of the errors of this package, possibly
	// wrapped with detail.
	Err error
}

// Error returns 1.x's text for the line: "unable to parse '<line>':
// <reason>" for a syntax error, and the bare reason for a rejected point
// (1.x reports those as a partial-write reason, not a parse error).
func (e *LineError) Error() string {
	if e.Rejected() {
		return e.Err.Error()
	}
	return "unable to parse '" + e.Text + "': " + e.Err.Error()
}

// Unwrap returns the reason.
func (e *LineError) Unwrap() error { return e.Err }

// Rejected reports whether the line was well formed but its point is
// rejected (a 1.x partial-write drop) rather than unparsable.
func (e *LineError) Rejected() bool { return errors.Is(e.Err, ErrRejected) }

// detailError is a sentinel with a formatted text, an optional cause, and
// for rejections the ErrRejected marker.
type detailError struct {
	kind   error
	msg    string
	cause  error
	reject bool
}

func (e *detailError) Error() string { return e.msg }

func (e *detailError) Is(target error) bool {
	return target == e.kind || (e.reject && target == ErrRejected)
}

func (e *detailError) Unwrap() error { return e.cause }

func rejectf(kind error, msg string) error {
	return &detailError{kind: kind, msg: msg, reject: true}
}

// quoted1x formats a name the way 1.x's `\"%s\"` does: in double quotes,
// without escaping.
func quoted1x(b []byte) string { return `"` + string(b) + `"` }

func timeTagError(measurement []byte) error {
	return rejectf(ErrTimeTagKey, `invalid tag key: input tag "time" on measurement `+quoted1x(measurement)+` is invalid`)
}

func timeFieldError(measurement []byte) error {
	return rejectf(ErrTimeFieldKey, `invalid field name: input field "time" on measurement `+quoted1x(measurement)+` is invalid`)
}

func reservedTagError(key, measurement []byte) error {
	return rejectf(ErrReservedKey, "invalid tag key: input tag "+quoted1x(key)+" on measurement "+quoted1x(measurement)+" is invalid")
}

func reservedFieldError(key, measurement []byte) error {
	return rejectf(ErrReservedKey, "invalid field name: input field "+quoted1x(key)+" on measurement "+quoted1x(measurement)+" is invalid")
}

func leadingBlankKeyError(key, measurement []byte) error {
	return rejectf(ErrLeadingBlankKey, "invalid field name: input field "+strconv.Quote(string(key))+" on measurement "+
		quoted1x(measurement)+" is invalid: line protocol cannot write a tab or NUL at the start of the first field key")
}

// stringTooLongError uses the text of 1.x's field-size check
// (tsdb/field_validator.go), which quotes with %q.
func stringTooLongError(key, measurement []byte, n, limit int) error {
	return rejectf(ErrStringTooLong, "input field "+strconv.Quote(string(key))+" on measurement "+
		strconv.Quote(string(measurement))+" is too long, "+strconv.Itoa(n)+" > "+strconv.Itoa(limit))
}

func maxKeyError(n int) error {
	return &detailError{kind: ErrMaxKeyLength, msg: "max key length exceeded: " + strconv.Itoa(n) + " > " + strconv.Itoa(models.MaxKeyLength)}
}

// numberError reports an out-of-range integer ("integer") or unsigned
// ("unsigned") with 1.x's text, which embeds strconv's.
func numberError(what string, raw []byte, cause error) error {
	return &detailError{kind: ErrInvalidNumber, msg: "unable to parse " + what + " " + string(raw) + ": " + cause.Error(), cause: cause}
}

// timestampError reports a timestamp strconv rejects with strconv's text,
// as 1.x does.
func timestampError(cause error) error {
	return &detailError{kind: ErrBadTimestamp, msg: cause.Error(), cause: cause}
}
