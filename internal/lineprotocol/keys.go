package lineprotocol

import (
	"bytes"
	"slices"

	"github.com/stratadb/strata/internal/models"
)

// Byte classes of the scanner. These tables are read-only.
var (
	// measStop: bytes that end or escape a measurement.
	measStop = [256]bool{',': true, ' ': true, '\\': true}
	// keyStop: bytes that end or escape a tag key, tag value or field key.
	keyStop = [256]bool{',': true, '=': true, ' ': true, '\\': true}
	// keyStart: bytes that cannot start a tag key.
	keyStart = [256]bool{',': true, '=': true, ' ': true}
	// Escapable bytes after a backslash, per part of the line.
	measEsc = [256]bool{',': true, ' ': true}
	tagEsc  = [256]bool{',': true, '=': true, ' ': true}
	strEsc  = [256]bool{'"': true, '\\': true}
)

// Classes of the first byte of a field value.
const (
	vcOther     = iota // anything else: 1.x reports an invalid boolean
	vcNumber           // digit, '.', '-'
	vcString           // '"'
	vcBool             // t, T, f, F
	vcSeparator        // ',' or ' ': the value is missing
	vcNotNumber        // '+', N, n, I, i: NaN, Inf and signed forms strconv would take
)

var valueClass = [256]uint8{
	'0': vcNumber, '1': vcNumber, '2': vcNumber, '3': vcNumber, '4': vcNumber,
	'5': vcNumber, '6': vcNumber, '7': vcNumber, '8': vcNumber, '9': vcNumber,
	'.': vcNumber, '-': vcNumber,
	'"': vcString,
	't': vcBool, 'T': vcBool, 'f': vcBool, 'F': vcBool,
	',': vcSeparator, ' ': vcSeparator,
	'+': vcNotNumber, 'N': vcNotNumber, 'n': vcNotNumber, 'I': vcNotNumber, 'i': vcNotNumber,
}

func cmpTags(a, b models.Tag) int { return bytes.Compare(a.Key, b.Key) }

// cmpKey is bytes.Compare with the first byte compared inline: tag keys of
// a line mostly differ there.
func cmpKey(a, b []byte) int {
	if len(a) > 0 && len(b) > 0 && a[0] != b[0] {
		if a[0] < b[0] {
			return -1
		}
		return 1
	}
	return bytes.Compare(a, b)
}

// tagOrder remembers how the last unsorted tag set was sorted. Writers
// send the tags of every line in the same order, so the next line usually
// has the same keys in the same places and takes the same permutation:
// checking n keys for equality is cheaper than sorting them again.
type tagOrder struct {
	keys [][]byte // the keys, in input order; they borrow the body
	perm []int    // perm[k] is the input index of the k-th key in order
	tmp  []models.Tag
}

// sortTags sorts tags by key and reports a repeated key.
func (p *Parser) sortTags(tags []models.Tag) error {
	n := len(tags)
	k := 1
	for ; k < n; k++ {
		if c := cmpKey(tags[k-1].Key, tags[k].Key); c >= 0 {
			if c == 0 {
				return ErrDuplicateTags
			}
			break
		}
	}
	if k >= n {
		return nil // already sorted, as most writers send them
	}
	if n > 32 {
		slices.SortFunc(tags, cmpTags)
		for k := 1; k < n; k++ {
			if bytes.Equal(tags[k-1].Key, tags[k].Key) {
				return ErrDuplicateTags
			}
		}
		return nil
	}
	o := &p.tagOrder
	if !o.matches(tags) {
		o.keys = o.keys[:0]
		o.perm = o.perm[:0]
		for i := range tags {
			o.keys = append(o.keys, tags[i].Key)
			o.perm = append(o.perm, i)
		}
		// Insertion sort of the permutation; it meets any duplicate.
		for i := 1; i < n; i++ {
			x := o.perm[i]
			j := i
			for ; j > 0; j-- {
				c := cmpKey(tags[o.perm[j-1]].Key, tags[x].Key)
				if c < 0 {
					break
				}
				if c == 0 {
					o.keys = o.keys[:0]
					return ErrDuplicateTags
				}
				o.perm[j] = o.perm[j-1]
			}
			o.perm[j] = x
		}
	}
	o.tmp = append(o.tmp[:0], tags...)
	for k, i := range o.perm {
		tags[k] = o.tmp[i]
	}
	clear(o.tmp)
	return nil
}

// matches reports whether tags have the remembered keys in the remembered
// places.
func (o *tagOrder) matches(tags []models.Tag) bool {
	if len(o.keys) != len(tags) {
		return false
	}
	for i, k := range o.keys {
		t := tags[i].Key
		if len(t) != len(k) || t[0] != k[0] || !bytes.Equal(t, k) {
			return false
		}
	}
	return true
}

// dedupeFields keeps the last field of each key, in the order of those last
// occurrences, compacting fs in place.
func (p *Parser) dedupeFields(fs []models.Field) []models.Field {
	n := len(fs)
	if n < 2 {
		return fs
	}
	if n <= 32 {
		// Compare signatures, kept in registers and L1, before keys.
		var arr [32]uint64
		sigs := arr[:n]
		for i := range sigs {
			sigs[i] = keySig(fs[i].Key)
		}
		dup := false
	scan:
		for i := 1; i < n; i++ {
			s := sigs[i]
			for j, t := range sigs[:i] {
				if s == t && bytes.Equal(fs[i].Key, fs[j].Key) {
					dup = true
					break scan
				}
			}
		}
		if !dup {
			return fs
		}
		w := 0
	next:
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				if sigs[i] == sigs[j] && bytes.Equal(fs[i].Key, fs[j].Key) {
					continue next
				}
			}
			fs[w] = fs[i]
			w++
		}
		clear(fs[w:])
		return fs[:w]
	}
	// Many fields: sort references by key (stable, so the last occurrence
	// of a key is the last of its run) and drop the others.
	order := p.order[:0]
	for i := range fs {
		order = append(order, fieldRef{key: fs[i].Key, idx: i})
	}
	slices.SortStableFunc(order, func(a, b fieldRef) int { return bytes.Compare(a.key, b.key) })
	dup := false
	for k := 1; k < len(order); k++ {
		if bytes.Equal(order[k-1].key, order[k].key) {
			fs[order[k-1].idx].Key = nil // marks the earlier one dropped
			dup = true
		}
	}
	clear(order)
	p.order = order[:0]
	if !dup {
		return fs
	}
	w := 0
	for i := range fs {
		if fs[i].Key != nil {
			fs[w] = fs[i]
			w++
		}
	}
	clear(fs[w:])
	return fs[:w]
}

// escapedLen is the length of b escaped with set.
func escapedLen(b []byte, set *[256]bool) int {
	n := len(b)
	for _, c := range b {
		if set[c] {
			n++
		}
	}
	return n
}

// checkKeyLength applies 1.x's limit: the series key
// (models.AppendSeriesKey of the measurement and tags) plus any field key
// must not be longer than models.MaxKeyLength.
func checkKeyLength(meas []byte, tags []models.Tag, fields []models.Field) error {
	n := escapedLen(meas, &measEsc)
	for i := range tags {
		n += 2 + escapedLen(tags[i].Key, &tagEsc) + escapedLen(tags[i].Value, &tagEsc)
	}
	for i := range fields {
		if sz := n + len(fields[i].Key); sz > models.MaxKeyLength {
			return maxKeyError(sz)
		}
	}
	return nil
}

// isTime reports whether a key is "time".
func isTime(k []byte) bool { return len(k) == 4 && string(k) == "time" }

// isReserved reports whether a key is "_field" or "_measurement".
func isReserved(k []byte) bool {
	return len(k) > 0 && k[0] == '_' && (string(k) == "_field" || string(k) == "_measurement")
}

// checkKeys applies the rules 1.x enforces when it writes a point: no
// "time" tag key, no "_field" or "_measurement" key, "time" fields dropped
// (the point is rejected when nothing else is left), and bounded strings;
// and one of its own: a first field key that line protocol can write. It
// returns the fields without "time".
func (p *Parser) checkKeys(meas []byte, tags []models.Tag, fields []models.Field) ([]models.Field, error) {
	for i := range tags {
		if k := tags[i].Key; isTime(k) {
			return nil, timeTagError(meas)
		} else if isReserved(k) {
			return nil, reservedTagError(k, meas)
		}
	}
	for i := range fields {
		if isTime(fields[i].Key) {
			if len(fields) == 1 {
				return nil, timeFieldError(meas)
			}
			// After de-duplication there is at most one.
			copy(fields[i:], fields[i+1:])
			fields[len(fields)-1] = models.Field{}
			fields = fields[:len(fields)-1]
			break
		}
	}
	// The first key as sent never starts with a blank (blanks before the
	// field set are skipped), but the drop above, or de-duplication that
	// keeps a key at its last place, can bring a later one to the front.
	if k := fields[0].Key; k[0] == '\t' || k[0] == 0 {
		return nil, leadingBlankKeyError(k, meas)
	}
	limit := p.MaxStringLen
	if limit <= 0 {
		limit = DefaultMaxStringLen
	}
	for i := range fields {
		f := &fields[i]
		if isReserved(f.Key) {
			return nil, reservedFieldError(f.Key, meas)
		}
		if f.Type == models.String && len(f.Str) > limit {
			return nil, stringTooLongError(f.Key, meas, len(f.Str), limit)
		}
	}
	return fields, nil
}
