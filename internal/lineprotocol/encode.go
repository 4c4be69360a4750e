package lineprotocol

import (
	"strconv"

	"github.com/stratadb/strata/internal/models"
)

// AppendPoint appends p as canonical line protocol: the series key
// (models.AppendSeriesKey: escaped measurement, then the tags in the order
// given, those with an empty value left out), a space, the fields in the
// order given, a space, the timestamp in nanoseconds, and '\n'. Parse reads
// the text back to the same point.
//
// AppendPoint does not validate p: a point without fields, with NaN or
// ±Inf, or with names that line protocol cannot express (a '\n' in a name,
// a name ending in a backslash, a measurement starting with '#', a tab or a
// NUL) yields text that does not parse back. Parse never returns such
// points.
func AppendPoint(dst []byte, p *models.Point) []byte {
	dst = models.AppendSeriesKey(dst, p.Measurement, p.Tags)
	dst = append(dst, ' ')
	for i := range p.Fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = models.AppendTagPart(dst, p.Fields[i].Key)
		dst = append(dst, '=')
		dst = p.Fields[i].AppendValue(dst)
	}
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, p.Time, 10)
	return append(dst, '\n')
}
