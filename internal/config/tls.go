package config

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"strings"
)

// Config returns the crypto/tls settings of [tls]: cipher suites and
// version bounds, Go's defaults where a value is empty. The caller adds
// certificates. Errors are those of Validate for [tls].
func (c TLSConfig) Config() (*tls.Config, error) {
	cfg := &tls.Config{}
	for _, name := range c.Ciphers {
		id, ok := cipherSuiteID(name)
		if !ok {
			return nil, &Error{Section: "tls", Key: "ciphers", Err: fmt.Errorf("%w: unknown cipher suite %q", ErrInvalidValue, name)}
		}
		cfg.CipherSuites = append(cfg.CipherSuites, id)
	}
	for _, x := range [...]struct {
		key, val string
		dst      *uint16
	}{{"min-version", c.MinVersion, &cfg.MinVersion}, {"max-version", c.MaxVersion, &cfg.MaxVersion}} {
		if x.val == "" {
			continue
		}
		n, ok := parseTLSVersion(x.val)
		if !ok {
			return nil, &Error{Section: "tls", Key: x.key, Err: fmt.Errorf("%w: unknown TLS version %q", ErrInvalidValue, x.val)}
		}
		*x.dst = n
	}
	return cfg, nil
}

// cipherSuiteID looks a suite up by its crypto/tls name. Suites Go marks
// insecure are allowed too: naming one is a deliberate choice, and 1.x
// allowed them.
func cipherSuiteID(name string) (uint16, bool) {
	for _, list := range [...][]*tls.CipherSuite{tls.CipherSuites(), tls.InsecureCipherSuites()} {
		for _, s := range list {
			if s.Name == name {
				return s.ID, true
			}
		}
	}
	return 0, false
}

// parseTLSVersion accepts "tls1.2" (any case) and "1.2", as 1.x did. SSL 3.0,
// which 1.x also named, is gone from Go and is rejected.
func parseTLSVersion(s string) (uint16, bool) {
	v := strings.TrimPrefix(strings.ToLower(s), "tls")
	switch v {
	case "1.0":
		return tls.VersionTLS10, true
	case "1.1":
		return tls.VersionTLS11, true
	case "1.2":
		return tls.VersionTLS12, true
	case "1.3":
		return tls.VersionTLS13, true
	}
	return 0, false
}

// SlogLevel returns the level as a log/slog level. 1.x's zap levels above
// error (dpanic, panic, fatal) are accepted and map to slog.LevelError.
// An invalid level (which Validate rejects) gives slog.LevelInfo.
func (c LoggingConfig) SlogLevel() slog.Level {
	l, _ := parseLevel(c.Level)
	return l
}

func parseLevel(s string) (slog.Level, bool) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, true
	case "", "info":
		return slog.LevelInfo, true
	case "warn", "warning":
		return slog.LevelWarn, true
	case "error", "dpanic", "panic", "fatal":
		return slog.LevelError, true
	}
	return slog.LevelInfo, false
}
