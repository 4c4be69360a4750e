// Command stratad is the Strata server: an InfluxDB 1.x compatible
// time-series database.
//
//	stratad [run] [-config FILE] [-pidfile FILE]   start the server
//	stratad config [-config FILE]                  print the complete configuration as TOML
//	stratad version                                print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/stratadb/strata/internal/config"
	"github.com/stratadb/strata/internal/server"
)

// shutdownTimeout bounds a graceful stop: in-flight requests get this long.
const shutdownTimeout = 30 * time.Second

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "run":
		return runServer(args, stderr)
	case "config":
		return printConfig(args, stdout, stderr)
	case "version":
		fmt.Fprintf(stdout, "Strata v%s (InfluxDB 1.x API; %s)\n", server.Version, runtime.Version())
		return 0
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "stratad: unknown command %q\n", cmd)
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: stratad [command] [flags]

Commands:
  run      start the server (the default)
  config   print the complete configuration, with every key explained
  version  print the version

Flags of run and config:
  -config FILE   configuration file (influxdb.conf format); environment
                 variables INFLUXDB_<SECTION>_<KEY> and STRATA_<SECTION>_<KEY>
                 override it
  -data-root DIR put meta, data and wal under DIR (default: $HOME/.strata)
  -pidfile FILE  write the process id to FILE (run only)
`)
}

func loadConfig(path, dataRoot string, stderr io.Writer) (*config.Config, bool) {
	if path == "" {
		path = os.Getenv("INFLUXDB_CONFIG_PATH")
	}
	var (
		cfg      *config.Config
		warnings []string
		err      error
	)
	if path != "" {
		cfg, warnings, err = config.Load(path)
	} else {
		cfg = config.NewConfig()
		if err = cfg.ApplyEnv(os.Environ()); err == nil {
			err = cfg.Validate()
		}
	}
	for _, w := range warnings {
		fmt.Fprintf(stderr, "stratad: warning: %s\n", w)
	}
	if err != nil {
		fmt.Fprintf(stderr, "stratad: %v\n", err)
		return nil, false
	}
	if dataRoot != "" {
		cfg.SetDataRoot(dataRoot)
	}
	return cfg, true
}

func printConfig(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file")
	dataRoot := fs.String("data-root", "", "put meta, data and wal under this directory")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, ok := loadConfig(*path, *dataRoot, stderr)
	if !ok {
		return 1
	}
	if err := cfg.WriteTOML(stdout); err != nil {
		fmt.Fprintf(stderr, "stratad: %v\n", err)
		return 1
	}
	return 0
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	switch strings.ToLower(cfg.Logging.Level) {
	case "debug":
		level = slog.LevelDebug
	case "warn", "warning":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(cfg.Logging.Format, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func runServer(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file")
	pidfile := fs.String("pidfile", "", "write the process id to this file")
	dataRoot := fs.String("data-root", "", "put meta, data and wal under this directory")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, ok := loadConfig(*path, *dataRoot, stderr)
	if !ok {
		return 1
	}
	logger := newLogger(cfg, stderr)
	if *pidfile != "" {
		if err := os.WriteFile(*pidfile, fmt.Appendf(nil, "%d\n", os.Getpid()), 0o644); err != nil {
			logger.Error("cannot write pid file", "err", err)
			return 1
		}
		defer os.Remove(*pidfile)
	}

	logger.Info("Strata starting", "version", server.Version, "go", runtime.Version(),
		"meta", cfg.Meta.Dir, "data", cfg.Data.Dir, "wal", cfg.Data.WALDir)
	srv := server.New(cfg, logger)
	if err := srv.Open(); err != nil {
		logger.Error("cannot start", "err", err)
		return 1
	}
	logger.Info("Listening on HTTP", "addr", srv.HTTPAddr())

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	sig := <-sigs
	logger.Info("Signal received, shutting down", "signal", sig.String())
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			logger.Error("shutdown", "err", err)
			return 1
		}
		logger.Info("Server shut down")
		return 0
	case sig := <-sigs:
		logger.Warn("Second signal received, exiting at once", "signal", sig.String())
		return 1
	}
}
