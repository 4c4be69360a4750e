package config_test

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/stratadb/strata/internal/config"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(c *config.Config)
		want   string // "" for valid
	}{
		{"defaults", func(*config.Config) {}, ""},
		{"ipv6 address", func(c *config.Config) { c.HTTP.BindAddress = "[::1]:8086" }, ""},
		{"port 0", func(c *config.Config) { c.HTTP.BindAddress = "127.0.0.1:0" }, ""},
		{"host name", func(c *config.Config) { c.BindAddress = "backup.example.com:8088" }, ""},
		{"missing port", func(c *config.Config) { c.HTTP.BindAddress = "127.0.0.1" }, "[http] bind-address"},
		{"empty port", func(c *config.Config) { c.HTTP.BindAddress = "127.0.0.1:" }, "[http] bind-address"},
		{"port too big", func(c *config.Config) { c.HTTP.BindAddress = ":65536" }, "[http] bind-address"},
		{"space in host", func(c *config.Config) { c.BindAddress = "a b:1" }, "bind-address"},
		{"empty meta dir", func(c *config.Config) { c.Meta.Dir = " " }, "[meta] dir"},
		{"empty data dir", func(c *config.Config) { c.Data.Dir = "" }, "[data] dir"},
		{"negative size", func(c *config.Config) { c.Data.CacheMaxMemorySize = -1 }, "[data] cache-max-memory-size"},
		{"negative compactions", func(c *config.Config) { c.Data.MaxConcurrentCompactions = -1 }, "[data] max-concurrent-compactions"},
		{"negative cache", func(c *config.Config) { c.Data.SeriesIDSetCacheSize = -1 }, "[data] series-id-set-cache-size"},
		{"negative fsync delay", func(c *config.Config) { c.Data.WALFsyncDelay = -1 }, "[data] wal-fsync-delay"},
		{"negative queries", func(c *config.Config) { c.Coordinator.MaxConcurrentQueries = -1 }, "[coordinator] max-concurrent-queries"},
		{"negative body size", func(c *config.Config) { c.HTTP.MaxBodySize = -1 }, "[http] max-body-size"},
		{"negative write timeout", func(c *config.Config) { c.HTTP.EnqueuedWriteTimeout = -1 }, "[http] enqueued-write-timeout"},
		{"disabled service may have 0 interval", func(c *config.Config) { c.Retention.Enabled = false; c.Retention.CheckInterval = 0 }, ""},
		{"enabled service needs an interval", func(c *config.Config) { c.ShardPrecreation.AdvancePeriod = 0 }, "[shard-precreation] advance-period"},
		{"negative interval even when disabled", func(c *config.Config) { c.ContinuousQueries.Enabled = false; c.ContinuousQueries.RunInterval = -1 }, "[continuous_queries] run-interval"},
		{"subscriber writers", func(c *config.Config) { c.Subscriber.WriteConcurrency = 0 }, "[subscriber] write-concurrency"},
		{"subscriber buffer", func(c *config.Config) { c.Subscriber.WriteBufferSize = -1 }, "[subscriber] write-buffer-size"},
		{"subscriber timeout", func(c *config.Config) { c.Subscriber.HTTPTimeout = 0 }, "[subscriber] http-timeout"},
		{"monitor database", func(c *config.Config) { c.Monitor.StoreDatabase = "" }, "[monitor] store-database"},
		{"monitor off needs no database", func(c *config.Config) { c.Monitor.StoreEnabled = false; c.Monitor.StoreDatabase = "" }, ""},
		{"unix socket path", func(c *config.Config) { c.HTTP.UnixSocketEnabled = true; c.HTTP.BindSocket = "" }, "[http] bind-socket"},
		{"status filters ok", func(c *config.Config) { c.HTTP.AccessLogStatusFilters = []string{"1xx", "20X", "404", "5XX"} }, ""},
		{"status filter digit after x", func(c *config.Config) { c.HTTP.AccessLogStatusFilters = []string{"4x4"} }, "[http] access-log-status-filters"},
		{"status filter too long", func(c *config.Config) { c.HTTP.AccessLogStatusFilters = []string{"5xxx"} }, "[http] access-log-status-filters"},
		{"log format console is not 1.x's", func(c *config.Config) { c.Logging.Format = "console" }, "[logging] format"},
		{"log format empty means auto", func(c *config.Config) { c.Logging.Format = "" }, ""},
		{"zap's fatal level", func(c *config.Config) { c.Logging.Level = "FATAL" }, ""},
		{"tls ok", func(c *config.Config) {
			c.TLS = config.TLSConfig{Ciphers: []string{"TLS_RSA_WITH_AES_128_CBC_SHA"}, MinVersion: "1.2", MaxVersion: "tls1.3"}
		}, ""},
		{"tls version", func(c *config.Config) { c.TLS.MaxVersion = "tls1.4" }, "[tls] max-version"},
		{"utf-8", func(c *config.Config) { c.HTTP.Realm = "\xff" }, "[http] realm"},
		{"utf-8 in a list", func(c *config.Config) { c.TLS.Ciphers = []string{"\xff"} }, "[tls] ciphers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.NewConfig()
			tc.mutate(c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.want+": ") {
				t.Fatalf("got %v, want an error about %s", err, tc.want)
			}
			if !errors.Is(err, config.ErrInvalidValue) {
				t.Fatalf("%v does not wrap ErrInvalidValue", err)
			}
			var e *config.Error
			if !errors.As(err, &e) || e.File != "" || e.Env != "" || e.Line != 0 {
				t.Fatalf("a Config built in code has no location: %#v", e)
			}
		})
	}
}

func TestValidateJoinsAll(t *testing.T) {
	c := config.NewConfig()
	c.Meta.Dir = ""
	c.HTTP.MaxRowLimit = -1
	c.Logging.Level = "loud"
	err := c.Validate()
	if err == nil || strings.Count(err.Error(), "\n") != 2 {
		t.Fatalf("want three problems, got %v", err)
	}
}

func TestTLSConfig(t *testing.T) {
	cfg, err := config.TLSConfig{
		Ciphers:    []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_RC4_128_SHA"},
		MinVersion: "TLS1.1", MaxVersion: "1.3",
	}.Config()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.CipherSuites) != 2 || cfg.CipherSuites[0] != tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 ||
		cfg.CipherSuites[1] != tls.TLS_RSA_WITH_RC4_128_SHA {
		t.Errorf("cipher suites %v", cfg.CipherSuites)
	}
	if cfg.MinVersion != tls.VersionTLS11 || cfg.MaxVersion != tls.VersionTLS13 {
		t.Errorf("versions %x %x", cfg.MinVersion, cfg.MaxVersion)
	}
	empty, err := config.TLSConfig{}.Config()
	if err != nil || empty.MinVersion != 0 || empty.CipherSuites != nil {
		t.Errorf("empty [tls] should leave Go's defaults: %+v %v", empty, err)
	}
	for _, bad := range []config.TLSConfig{{Ciphers: []string{"nope"}}, {MinVersion: "ssl3.0"}, {MaxVersion: "2"}} {
		if _, err := bad.Config(); !errors.Is(err, config.ErrInvalidValue) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

func TestSlogLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{
		"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "": slog.LevelInfo, "warn": slog.LevelWarn,
		"error": slog.LevelError, "panic": slog.LevelError, "bogus": slog.LevelInfo,
	} {
		if got := (config.LoggingConfig{Level: in}).SlogLevel(); got != want {
			t.Errorf("SlogLevel(%q) = %v, want %v", in, got, want)
		}
	}
}
