package config_test

import (
	"errors"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/config"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want config.Size
		bad  bool
	}{
		{in: "0", want: 0},
		{in: "1024", want: 1024},
		{in: "1k", want: 1024},
		{in: "1K", want: 1024},
		{in: "1024k", want: 1 << 20},
		{in: "25m", want: 25 << 20},
		{in: "25M", want: 25 << 20},
		{in: "1g", want: 1 << 30},
		{in: "2G", want: 2 << 30},
		{in: "0g", want: 0},
		{in: "007", want: 7},
		{in: "8589934591g", want: 8589934591 << 30}, // the largest that fits
		{in: strconv.FormatInt(math.MaxInt64, 10), want: math.MaxInt64},
		{in: "8589934592g", bad: true}, // overflows int64
		{in: "9223372036854775808", bad: true},
		{in: "", bad: true},
		{in: "k", bad: true},
		{in: "12q", bad: true},
		{in: "1t", bad: true},
		{in: "1kb", bad: true},
		{in: "1.5g", bad: true},
		{in: "-1", bad: true},
		{in: "-1k", bad: true},
		{in: "+1", bad: true},
		{in: " 1k", bad: true},
		{in: "1 k", bad: true},
		{in: "1_000", bad: true},
		{in: "0x10", bad: true},
	} {
		got, err := config.ParseSize(tc.in)
		switch {
		case tc.bad && err == nil:
			t.Errorf("ParseSize(%q) = %d, want an error", tc.in, got)
		case tc.bad && !errors.Is(err, config.ErrInvalidSize):
			t.Errorf("ParseSize(%q) error %v does not wrap ErrInvalidSize", tc.in, err)
		case !tc.bad && err != nil:
			t.Errorf("ParseSize(%q): %v", tc.in, err)
		case !tc.bad && got != tc.want:
			t.Errorf("ParseSize(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
	if _, err := config.ParseSize("12q"); err == nil || err.Error() != `invalid size "12q": unknown suffix "q" (want k, m or g)` {
		t.Errorf("error text: %v", err)
	}
}

func TestSizeString(t *testing.T) {
	for _, tc := range []struct {
		in   config.Size
		want string
	}{
		{0, "0"},
		{1, "1"},
		{1000, "1000"},
		{1024, "1k"},
		{1536, "1536"},
		{25 << 20, "25m"},
		{1 << 30, "1g"},
		{1<<30 + 1<<20, "1025m"},
		{math.MaxInt64, "9223372036854775807"},
	} {
		if got := tc.in.String(); got != tc.want {
			t.Errorf("Size(%d).String() = %q, want %q", int64(tc.in), got, tc.want)
		}
		b, _ := tc.in.MarshalText()
		var back config.Size
		if err := back.UnmarshalText(b); err != nil || back != tc.in {
			t.Errorf("Size(%d) round trip through %q gave %d, %v", int64(tc.in), b, int64(back), err)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "0", want: 0},
		{in: "0s", want: 0},
		{in: "10s", want: 10 * time.Second},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "100ms", want: 100 * time.Millisecond},
		{in: "1.5h", want: 90 * time.Minute},
		{in: "5us", want: 5 * time.Microsecond},
		{in: "5µs", want: 5 * time.Microsecond},
		{in: "-1s", want: -time.Second}, // parses; Validate rejects it where it matters
		{in: "10", bad: true},
		{in: "10x", bad: true},
		{in: "1d", bad: true},
		{in: "s", bad: true},
		{in: "", bad: true},
	} {
		got, err := config.ParseDuration(tc.in)
		switch {
		case tc.bad && !errors.Is(err, config.ErrInvalidDuration):
			t.Errorf("ParseDuration(%q) = %v, %v; want an ErrInvalidDuration", tc.in, got, err)
		case !tc.bad && err != nil:
			t.Errorf("ParseDuration(%q): %v", tc.in, err)
		case !tc.bad && time.Duration(got) != tc.want:
			t.Errorf("ParseDuration(%q) = %v, want %v", tc.in, time.Duration(got), tc.want)
		}
	}
}

func TestDurationText(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{10 * time.Second, "10s"},
		{10 * time.Minute, "10m"},
		{4 * time.Hour, "4h"},
		{90 * time.Minute, "1h30m"},
		{time.Hour + time.Second, "1h0m1s"},
		{1500 * time.Millisecond, "1.5s"},
		{50 * time.Millisecond, "50ms"},
		{-time.Minute, "-1m"},
	} {
		d := config.Duration(tc.in)
		if got := d.String(); got != tc.want {
			t.Errorf("Duration(%v).String() = %q, want %q", tc.in, got, tc.want)
		}
		b, _ := d.MarshalText()
		var back config.Duration
		if err := back.UnmarshalText(b); err != nil || back != d {
			t.Errorf("Duration(%v) round trip through %q gave %v, %v", tc.in, b, time.Duration(back), err)
		}
	}
	// Empty text keeps the value, as 1.x's toml.Duration does.
	d := config.Duration(time.Minute)
	if err := d.UnmarshalText(nil); err != nil || d != config.Duration(time.Minute) {
		t.Errorf("UnmarshalText(empty) changed the value to %v, %v", time.Duration(d), err)
	}
}
