package lineprotocol

import "strconv"

// Precision is the unit of line-protocol timestamps, in nanoseconds per
// unit.
type Precision int64

// The precisions of the /write "precision" parameter.
const (
	Nanosecond  Precision = 1
	Microsecond Precision = 1e3
	Millisecond Precision = 1e6
	Second      Precision = 1e9
	Minute      Precision = 60e9
	Hour        Precision = 3600e9
)

// ParsePrecision parses the /write "precision" parameter: "", "n" and "ns"
// are nanoseconds; "u", "us", "µ" (micro sign) and "μ" (Greek mu) are
// microseconds; "ms", "s", "m" and "h" are milliseconds, seconds, minutes
// and hours. Anything else is ErrInvalidPrecision, with 1.x's text.
func ParsePrecision(s string) (Precision, error) {
	switch s {
	case "", "n", "ns":
		return Nanosecond, nil
	case "u", "us", "\u00b5", "\u03bc":
		return Microsecond, nil
	case "ms":
		return Millisecond, nil
	case "s":
		return Second, nil
	case "m":
		return Minute, nil
	case "h":
		return Hour, nil
	}
	return 0, &detailError{kind: ErrInvalidPrecision, msg: "invalid precision " + strconv.Quote(s) + " (use n, u, ms, s, m or h)"}
}

// String returns the shortest name ParsePrecision accepts for p ("n", "u",
// "ms", "s", "m", "h"), or the number of nanoseconds for any other value.
func (p Precision) String() string {
	switch p {
	case Nanosecond:
		return "n"
	case Microsecond:
		return "u"
	case Millisecond:
		return "ms"
	case Second:
		return "s"
	case Minute:
		return "m"
	case Hour:
		return "h"
	}
	return strconv.FormatInt(int64(p), 10) + "ns"
}
