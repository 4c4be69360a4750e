package lineprotocol

import (
	"math"
	"strconv"
	"unsafe"

	"github.com/stratadb/strata/internal/models"
)

// Number parsing is on the hot path (a TSBS cpu line holds ten floats and a
// timestamp), so the common shapes are converted here and only the rare ones
// go to strconv, which also supplies the exact error texts 1.x shows.

// bstr views b as a string without copying. It is only passed to strconv
// functions, which do not keep their argument (their errors clone it).
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseDigits parses digits (no sign, at least one digit) of at most 19
// digits, which always fit in a uint64.
func parseDigits(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v*10 + uint64(c-'0')
	}
	return v
}

// parseInt64 parses an optional '-' and decimal digits, with int64 range
// checking. It returns strconv's error when the value does not fit. The
// caller has checked that b holds nothing else.
func parseInt64(b []byte) (int64, error) {
	neg := len(b) > 0 && b[0] == '-'
	d := b
	if neg {
		d = b[1:]
	}
	if len(d) == 0 || len(d) > 19 {
		return strconv.ParseInt(bstr(b), 10, 64)
	}
	v := parseDigits(d)
	if neg {
		if v > 1<<63 {
			return strconv.ParseInt(bstr(b), 10, 64)
		}
		return -int64(v), nil
	}
	if v > math.MaxInt64 {
		return strconv.ParseInt(bstr(b), 10, 64)
	}
	return int64(v), nil
}

// parseUint64 parses decimal digits with uint64 range checking. The caller
// has checked that b holds nothing else.
func parseUint64(b []byte) (uint64, error) {
	if len(b) == 0 || len(b) > 19 {
		return strconv.ParseUint(bstr(b), 10, 64)
	}
	return parseDigits(b), nil
}

// parseFloat converts a float token the scanner has already checked to hold
// only digits, one '.', and an exponent. Short decimals take Clinger's fast
// path (an exact mantissa times an exact power of ten is correctly rounded
// by one IEEE operation); everything else goes to strconv.
func parseFloat(b []byte) (float64, error) {
	if f, ok := parseFloatFast(b); ok {
		return f, nil
	}
	f, err := strconv.ParseFloat(bstr(b), 64)
	if err != nil {
		return 0, ErrInvalidFloat
	}
	return f, nil
}

func parseFloatFast(b []byte) (float64, bool) {
	i := 0
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	var mant uint64
	nd := 0 // significant digits in mant
	exp := 0
	sawDigit := false
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		sawDigit = true
		if mant == 0 && b[i] == '0' {
			continue
		}
		if nd >= 19 {
			return 0, false
		}
		mant = mant*10 + uint64(b[i]-'0')
		nd++
	}
	if i < len(b) && b[i] == '.' {
		i++
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			sawDigit = true
			exp--
			if mant == 0 && b[i] == '0' {
				continue
			}
			if nd >= 19 {
				return 0, false
			}
			mant = mant*10 + uint64(b[i]-'0')
			nd++
		}
	}
	if !sawDigit {
		return 0, false
	}
	if i < len(b) {
		if b[i] != 'e' && b[i] != 'E' {
			return 0, false
		}
		i++
		eneg := false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			eneg = b[i] == '-'
			i++
		}
		if i >= len(b) {
			return 0, false
		}
		e := 0
		for ; i < len(b); i++ {
			c := b[i]
			if c < '0' || c > '9' || e > 10000 {
				return 0, false
			}
			e = e*10 + int(c-'0')
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if mant == 0 {
		if neg {
			return math.Copysign(0, -1), true
		}
		return 0, true
	}
	if mant > 1<<53 {
		return 0, false
	}
	f := float64(mant)
	switch {
	case exp == 0:
	case exp > 0 && exp <= 22:
		f *= pow10[exp]
	case exp < 0 && exp >= -22:
		f /= pow10[-exp]
	case exp > 22 && exp <= 22+15:
		// Move the excess power into the mantissa while it stays exact.
		m := mant
		for k := exp - 22; k > 0; k-- {
			m *= 10
			if m > 1<<53 {
				return 0, false
			}
		}
		f = float64(m) * 1e22
	default:
		return 0, false
	}
	if neg {
		f = -f
	}
	return f, true
}

// scanNumber scans and converts the numeric field value at b[i:] (its first
// byte is a digit, '.' or '-'), which ends at a ',' or ' ' or at e. It
// accepts what 1.x's scanNumber accepts: digits with at most one '.', an
// exponent (e or E, then an optional sign) for floats, and an 'i' or 'u'
// suffix for integers and unsigned integers. Plain decimals of up to 15
// digits are converted in the same pass.
func scanNumber(b []byte, i, e int) (t models.FieldType, bits uint64, end int, err error) {
	start := i
	neg := b[i] == '-'
	if neg {
		i++
	}
	ds := i
	var mant uint64 // wraps past 19 digits; only used for up to 18
	for i < e {
		c := b[i] - '0'
		if c > 9 {
			break
		}
		mant = mant*10 + uint64(c)
		i++
	}
	nd := i - ds
	if i >= e || b[i] == ',' || b[i] == ' ' {
		// Plain digits: a float.
		if nd == 0 {
			return 0, 0, i, ErrInvalidNumber
		}
		if nd <= 15 {
			f := float64(mant)
			if neg {
				f = -f
			}
			return models.Float, math.Float64bits(f), i, nil
		}
		f, err := parseFloat(b[start:i])
		return models.Float, math.Float64bits(f), i, err
	}
	switch b[i] {
	case 'i':
		if nd == 0 || !atValueEnd(b, i+1, e) {
			return 0, 0, skipValue(b, i, e), ErrInvalidNumber
		}
		if nd <= 18 {
			v := int64(mant)
			if neg {
				v = -v
			}
			return models.Integer, uint64(v), i + 1, nil
		}
		v, err := parseInt64(b[start:i])
		if err != nil {
			return 0, 0, i + 1, numberError("integer", b[start:i], err)
		}
		return models.Integer, uint64(v), i + 1, nil
	case 'u':
		if nd == 0 || neg || !atValueEnd(b, i+1, e) {
			return 0, 0, skipValue(b, i, e), ErrInvalidNumber
		}
		if nd <= 19 {
			return models.Unsigned, mant, i + 1, nil
		}
		v, err := parseUint64(b[start:i])
		if err != nil {
			return 0, 0, i + 1, numberError("unsigned", b[start:i], err)
		}
		return models.Unsigned, v, i + 1, nil
	}
	dot := false
	if b[i] == '.' {
		dot = true
		i++
		fs := i
		for i < e {
			c := b[i] - '0'
			if c > 9 {
				break
			}
			mant = mant*10 + uint64(c)
			i++
		}
		nf := i - fs
		if i >= e || b[i] == ',' || b[i] == ' ' {
			switch {
			case nd+nf == 0:
				return 0, 0, i, ErrInvalidNumber
			case nd+nf <= 15:
				// Exact mantissa, exact power of ten: one correctly
				// rounded division (Clinger's fast path).
				f := float64(mant) / pow10[nf]
				if neg {
					f = -f
				}
				return models.Float, math.Float64bits(f), i, nil
			}
			f, err := parseFloat(b[start:i])
			return models.Float, math.Float64bits(f), i, err
		}
		nd += nf
	}
	// The general float syntax: an exponent, or something invalid.
	exp := false
	digits := nd > 0
	for ; i < e; i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			digits = true
		case c == '.':
			if dot {
				return 0, 0, skipValue(b, i, e), ErrInvalidNumber
			}
			dot = true
		case c == 'e' || c == 'E':
			if exp {
				// 1.x lets strconv judge a second exponent.
				return 0, 0, skipValue(b, i, e), ErrInvalidFloat
			}
			exp = true
		case (c == '+' || c == '-') && (b[i-1] == 'e' || b[i-1] == 'E'):
		case c == ',' || c == ' ':
			goto done
		default:
			// Letters (NaN, Inf, a suffix after a fraction or exponent)
			// and anything else.
			return 0, 0, skipValue(b, i, e), ErrInvalidNumber
		}
	}
done:
	if !digits {
		return 0, 0, i, ErrInvalidNumber
	}
	f, err := parseFloat(b[start:i])
	return models.Float, math.Float64bits(f), i, err
}

// atValueEnd reports whether a field value may end at i.
func atValueEnd(b []byte, i, e int) bool { return i >= e || b[i] == ',' || b[i] == ' ' }

// skipValue returns the end of the unquoted value that contains i.
func skipValue(b []byte, i, e int) int {
	for i < e && b[i] != ',' && b[i] != ' ' {
		i++
	}
	return i
}
