package config

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// WriteTOML writes the complete configuration as an influxdb.conf-style
// TOML file: every key Strata knows, each with a comment saying what it
// does. The output of a Config that passes Validate loads back (with Load
// or Parse, and no environment overrides) to an equal Config. It is
// written in one Write call.
func (c *Config) WriteTOML(w io.Writer) error {
	s := newSchema()
	var b bytes.Buffer
	b.WriteString("### Strata configuration, in the format of InfluxDB 1.x's influxdb.conf.\n" +
		"###\n" +
		"### Every setting can also be given in the environment as\n" +
		"### INFLUXDB_<SECTION>_<KEY> or STRATA_<SECTION>_<KEY> (which wins), upper case\n" +
		"### with '-' as '_': INFLUXDB_HTTP_BIND_ADDRESS=\":8086\".\n" +
		"### Durations are strings such as \"10s\" or \"1h30m\". Sizes are bytes, or strings\n" +
		"### with a k, m or g suffix (powers of 1024).\n\n")
	if err := writeFields(&b, c, s, "", ""); err != nil {
		return err
	}
	for _, sec := range sectionList() {
		b.WriteString("###\n### [" + sec.name + "]\n###\n")
		writeComment(&b, "### ", sec.doc)
		b.WriteString("###\n\n[" + sec.name + "]\n")
		if err := writeFields(&b, c, s, sec.name, "  "); err != nil {
			return err
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

func writeFields(b *bytes.Buffer, c *Config, s schema, section, indent string) error {
	for i := range s {
		f := &s[i]
		if f.section != section {
			continue
		}
		val, err := tomlValue(f.ptr(c))
		if err != nil {
			return &Error{Section: f.section, Key: f.key, Err: err}
		}
		writeComment(b, indent+"# ", f.doc)
		b.WriteString(indent + f.key + " = " + val + "\n\n")
	}
	return nil
}

func writeComment(b *bytes.Buffer, prefix, text string) {
	for line := range strings.SplitSeq(text, "\n") {
		b.WriteString(strings.TrimRight(prefix+line, " ") + "\n")
	}
}

// tomlValue formats a field's value as TOML.
func tomlValue(p any) (string, error) {
	switch p := p.(type) {
	case *bool:
		return strconv.FormatBool(*p), nil
	case *int:
		return strconv.Itoa(*p), nil
	case *string:
		return tomlQuote(*p)
	case *Duration:
		return tomlQuote(p.String())
	case *Size:
		if *p < 0 {
			// Not a valid size, but written so that reading it back
			// reports the problem rather than a different one.
			return strconv.FormatInt(int64(*p), 10), nil
		}
		return tomlQuote(p.String())
	case *[]string:
		parts := make([]string, len(*p))
		for i, e := range *p {
			q, err := tomlQuote(e)
			if err != nil {
				return "", fmt.Errorf("element %d: %w", i, err)
			}
			parts[i] = q
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	default:
		panic(fmt.Sprintf("BUG: config field of unsupported type %T", p))
	}
}

// tomlQuote writes s as a TOML basic string. TOML's escapes are a subset of
// Go's (no \x, \a, \v), so strconv.Quote will not do.
func tomlQuote(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w %q: not valid UTF-8", ErrInvalidValue, s)
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}
