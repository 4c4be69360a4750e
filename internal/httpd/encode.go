package httpd

import (
	"fmt"
	"io"
	"time"

	"github.com/stratadb/strata/internal/query"
)

// resultEncoder writes /query responses in one format. An encoder serves
// one request and is not safe for concurrent use; the CSV encoder keeps
// state across the chunks of a chunked response, as 1.x's does.
type resultEncoder interface {
	// encode writes one response document holding results and returns the
	// number of bytes written.
	encode(w io.Writer, results []*query.Result) (int64, error)
	// encodeError writes a response document holding only an error.
	encodeError(w io.Writer, msg string) (int64, error)
}

// newEncoder returns the encoder of format f. epoch is the divisor applied
// to time.Time values (0 keeps them as RFC3339Nano strings in JSON and as
// nanoseconds in CSV; msgpack then sends its time extension).
func newEncoder(f format, pretty bool, epoch int64) resultEncoder {
	switch f {
	case formatCSV:
		return &csvEncoder{epoch: epoch, statementID: -1}
	case formatMsgpack:
		return &msgpackEncoder{epoch: epoch}
	}
	return &jsonEncoder{pretty: pretty, epoch: epoch}
}

// parseEpoch returns the divisor that turns nanoseconds into the unit of
// the epoch parameter; "" gives 0 (no conversion). 1.x silently answers in
// nanoseconds for anything it does not know, µ included; a client that
// mistyped the unit then gets numbers a thousand or a billion times off, so
// we refuse instead. "n" is accepted beside "ns" because it is the write
// path's spelling of nanoseconds.
func parseEpoch(s string) (int64, error) {
	switch s {
	case "":
		return 0, nil
	case "ns", "n":
		return 1, nil
	case "u", "µ", "μ": // U+00B5 MICRO SIGN and U+03BC GREEK SMALL LETTER MU
		return int64(time.Microsecond), nil
	case "ms":
		return int64(time.Millisecond), nil
	case "s":
		return int64(time.Second), nil
	case "m":
		return int64(time.Minute), nil
	case "h":
		return int64(time.Hour), nil
	}
	return 0, badRequest(fmt.Errorf("invalid epoch %q (use ns, u, µ, ms, s, m or h)", s))
}

// epochOf converts t to an integer in the epoch unit, truncating toward
// zero as 1.x does.
func epochOf(t time.Time, divisor int64) int64 { return t.UnixNano() / divisor }

// byteCounter counts the bytes an encoder writes and keeps the first write
// error: once the client is gone every later write fails the same way, and
// the encoder reports that error at the end (msgp.Writer, for one, does not
// keep errors between calls).
type byteCounter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *byteCounter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

// result returns the byte count and the first error of the encoder or of
// the writer.
func (c *byteCounter) result(err error) (int64, error) {
	if err == nil {
		err = c.err
	}
	return c.n, err
}
