package config

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors. Every error Load, ApplyEnv and Validate return about a
// setting is an *Error whose Err wraps one of these, so callers can test the
// kind of problem with errors.Is and the location with errors.As.
var (
	// ErrSyntax: the file is not valid TOML.
	ErrSyntax = errors.New("syntax error")

	// ErrType: a value has the wrong TOML type (a string where a boolean
	// belongs, a single value where a table belongs, ...).
	ErrType = errors.New("wrong type")

	// ErrInvalidSize: a size is not a non-negative integer of bytes with an
	// optional k, m or g suffix.
	ErrInvalidSize = errors.New("invalid size")

	// ErrInvalidDuration: a duration is not a Go duration string ("10s",
	// "1h30m", "0").
	ErrInvalidDuration = errors.New("invalid duration")

	// ErrInvalidValue: a value has the right type but is not allowed
	// (a negative limit, an address that does not parse, an unknown log
	// level, ...).
	ErrInvalidValue = errors.New("invalid value")
)

// Error is a problem with one setting (or, for syntax errors, one place in
// the file). At most one of File and Env is set: the value came from that
// file or from that environment variable. Neither is set for a problem that
// Validate finds in a Config built in code.
type Error struct {
	File    string // configuration file, if the value came from one
	Line    int    // 1-based line in File, 0 if unknown
	Env     string // environment variable, if the value came from one
	Section string // section without brackets; "" for top-level keys
	Key     string // key within Section; "" when the section itself is wrong
	Err     error  // what is wrong; wraps one of the sentinel errors
}

// Error formats the location first, in the style compilers use, so that
// editors can jump to it: "/etc/influxdb/influxdb.conf:12: [data]
// cache-max-memory-size: invalid size "12q"".
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Env != "":
		b.WriteString("environment variable ")
		b.WriteString(e.Env)
		b.WriteString(": ")
	case e.File != "":
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if name := settingName(e.Section, e.Key); name != "" {
		b.WriteString(name)
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying problem.
func (e *Error) Unwrap() error { return e.Err }

// settingName names a setting the way the file spells it: "[data] dir",
// "[data]" for a section, "bind-address" for a top-level key.
func settingName(section, key string) string {
	switch {
	case section == "":
		return key
	case key == "":
		return "[" + section + "]"
	default:
		return "[" + section + "] " + key
	}
}
