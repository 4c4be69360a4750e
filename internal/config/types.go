package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written in TOML as a Go duration string:
// "10s", "1h30m", "500ms", and also "0". InfluxDB 1.x writes its durations
// the same way.
type Duration time.Duration

// String returns the shortest form that parses back: "10m", "4h", "1h30m",
// "0s" (time.Duration.String would say "10m0s").
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler. Empty text leaves d
// unchanged, as 1.x does, so `query-timeout = ""` keeps the default.
func (d *Duration) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		return nil
	}
	v, err := ParseDuration(string(text))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ParseDuration parses a Go duration string. Errors wrap
// ErrInvalidDuration and quote the text.
func ParseDuration(s string) (Duration, error) {
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%w %q (want a number with a unit: ns, us, ms, s, m, h; e.g. \"10s\", \"1h30m\")",
			ErrInvalidDuration, s)
	}
	return Duration(v), nil
}

// Size is a number of bytes written in TOML either as an integer or as a
// string with an optional case-insensitive suffix k, m or g. As in 1.x the
// suffixes are powers of 1024: "25m" is 26214400 bytes, "1g" 1073741824.
type Size int64

// Size multipliers.
const (
	KiB Size = 1 << 10
	MiB Size = 1 << 20
	GiB Size = 1 << 30
)

// String returns the shortest form that parses back: "1g", "25m", "1024k"
// would be "1m", a size that is not a multiple of 1024 is plain bytes.
func (s Size) String() string {
	switch {
	case s == 0:
		return "0"
	case s%GiB == 0:
		return strconv.FormatInt(int64(s/GiB), 10) + "g"
	case s%MiB == 0:
		return strconv.FormatInt(int64(s/MiB), 10) + "m"
	case s%KiB == 0:
		return strconv.FormatInt(int64(s/KiB), 10) + "k"
	default:
		return strconv.FormatInt(int64(s), 10)
	}
}

// MarshalText implements encoding.TextMarshaler.
func (s Size) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Size) UnmarshalText(text []byte) error {
	v, err := ParseSize(string(text))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSize parses "1024", "64k", "25m", "1G". Errors wrap ErrInvalidSize
// and quote the text.
func ParseSize(text string) (Size, error) {
	if text == "" {
		return 0, fmt.Errorf("%w \"\": empty", ErrInvalidSize)
	}
	digits, mult := text, Size(1)
	switch text[len(text)-1] {
	case 'k', 'K':
		mult = KiB
	case 'm', 'M':
		mult = MiB
	case 'g', 'G':
		mult = GiB
	case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
	default:
		return 0, fmt.Errorf("%w %q: unknown suffix %q (want k, m or g)",
			ErrInvalidSize, text, text[len(text)-1:])
	}
	if mult != 1 {
		digits = text[:len(text)-1]
	}
	// Base 10 and no sign: ParseUint rejects "+5", "-5", "0x10", "1_000" and
	// spaces, so a size is plain digits, as in 1.x.
	n, err := strconv.ParseUint(digits, 10, 63)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%w %q: too large", ErrInvalidSize, text)
	}
	if err != nil {
		return 0, fmt.Errorf("%w %q: want a whole number of bytes with an optional k, m or g suffix",
			ErrInvalidSize, text)
	}
	if n > uint64(math.MaxInt64/int64(mult)) {
		return 0, fmt.Errorf("%w %q: too large", ErrInvalidSize, text)
	}
	return Size(n) * mult, nil
}
