// Package server is the composition root: it builds every component of
// stratad from the configuration and owns the order in which they open and
// close. No other package knows about all of them.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/stratadb/strata/internal/config"
	"github.com/stratadb/strata/internal/coordinator"
	"github.com/stratadb/strata/internal/httpd"
	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/query"
	"github.com/stratadb/strata/internal/services/monitor"
	"github.com/stratadb/strata/internal/stats"
	"github.com/stratadb/strata/internal/storage"
	"github.com/stratadb/strata/internal/storage/engine"
	"github.com/stratadb/strata/internal/storage/index"
	"github.com/stratadb/strata/internal/vfs"
)

// Version is the server version reported in X-Influxdb-Version; the build
// sets it with -ldflags.
var Version = "1.12.4-strata"

// Server is a running stratad.
type Server struct {
	cfg    *config.Config
	logger *slog.Logger

	meta      *meta.Store
	store     *storage.Store
	writer    *coordinator.PointsWriter
	queries   *query.Engine
	executor  *coordinator.StatementExecutor
	handler   *httpd.Handler
	http      *httpd.Service
	accessLog *os.File
	services  serviceSet // the background services (services.go)
}

// New builds a server from cfg; nothing is opened until Open.
func New(cfg *config.Config, logger *slog.Logger) *Server {
	return &Server{cfg: cfg, logger: logger}
}

// Open opens every component in dependency order: meta, storage, the write
// and query paths, and last the HTTP listener, so that nothing is served
// before it can be answered.
func (s *Server) Open() (err error) {
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	c := s.cfg
	s.meta, err = meta.Open(vfs.Default, c.Meta.Dir, meta.Options{
		RetentionAutoCreate: c.Meta.RetentionAutoCreate,
		Logger:              s.logger.With("service", "meta"),
	})
	if err != nil {
		return fmt.Errorf("open meta store: %w", err)
	}
	compactor := engine.NewCompactor(c.Data.MaxConcurrentCompactions,
		int64(c.Data.CompactThroughput), int64(c.Data.CompactThroughputBurst))
	s.store, err = storage.Open(vfs.Default, c.Data.Dir, c.Data.WALDir, storage.Options{
		Engine: engine.Options{
			CacheMaxMemorySize:             int64(c.Data.CacheMaxMemorySize),
			CacheSnapshotMemorySize:        int64(c.Data.CacheSnapshotMemorySize),
			CacheSnapshotWriteColdDuration: time.Duration(c.Data.CacheSnapshotWriteColdDuration),
			CompactFullWriteColdDuration:   time.Duration(c.Data.CompactFullWriteColdDuration),
			WALFsyncDelay:                  time.Duration(c.Data.WALFsyncDelay),
			Compactor:                      compactor,
		},
		Index: index.Options{
			MaxSeriesPerDatabase: c.Data.MaxSeriesPerDatabase,
			MaxValuesPerTag:      c.Data.MaxValuesPerTag,
		},
		Logger: s.logger.With("service", "store"),
	})
	if err != nil {
		return fmt.Errorf("open storage: %w", err)
	}
	s.dropOrphanShards()

	s.writer = coordinator.NewPointsWriter(metaClient{s.meta}, s.store, coordinator.PointsWriterOptions{
		WriteTimeout: time.Duration(c.Coordinator.WriteTimeout),
		AfterWrite:   s.forwardPoints, // subscriptions; a no-op until the subscriber opens
	})
	s.queries = query.NewEngine(query.EngineOptions{
		MaxSelectPointN:      c.Coordinator.MaxSelectPoint,
		MaxSelectSeriesN:     c.Coordinator.MaxSelectSeries,
		MaxSelectBucketsN:    c.Coordinator.MaxSelectBuckets,
		QueryTimeout:         time.Duration(c.Coordinator.QueryTimeout),
		MaxConcurrentQueries: c.Coordinator.MaxConcurrentQueries,
		LogQueriesAfter:      time.Duration(c.Coordinator.LogQueriesAfter),
		PointsWriter:         s.writer, // SELECT … INTO
		Logger:               s.logger.With("service", "query"),
	}, &query.LocalShardMapper{Meta: s.meta, Store: s.store}, s.meta)
	s.executor = &coordinator.StatementExecutor{
		Meta:        s.meta,
		Store:       s.store,
		AuthEnabled: c.HTTP.AuthEnabled,
		Select:      s.queries.Select,
		Explain:     s.queries.Explain,
		ShowQueries: func() *query.Row { return s.queries.Registry().ShowQueries() },
		KillQuery:   func(id uint64) error { return s.queries.Registry().Kill(id) },
		Attach: func(ctx context.Context, text, db string) (context.Context, func(), error) {
			ctx, _, detach, err := s.queries.Registry().Attach(ctx, text, db)
			return ctx, detach, err
		},
		Logger:         s.logger.With("service", "query"),
		RecoveredPanic: s.queries.Registry().RecoveredPanic,
	}
	if err := s.openServices(); err != nil {
		return err
	}

	if !c.HTTP.Enabled {
		return nil
	}
	var users httpd.UserStore
	if c.HTTP.AuthEnabled {
		users = userStore{s.meta}
	}
	opts := httpd.Options{
		AuthEnabled:             c.HTTP.AuthEnabled,
		Realm:                   c.HTTP.Realm,
		LogEnabled:              c.HTTP.LogEnabled,
		SuppressWriteLog:        c.HTTP.SuppressWriteLog,
		AccessLogStatusFilters:  c.HTTP.AccessLogStatusFilters,
		WriteTracing:            c.HTTP.WriteTracing,
		PprofEnabled:            c.HTTP.PprofEnabled,
		PprofAuthEnabled:        c.HTTP.PprofAuthEnabled,
		PingAuthEnabled:         c.HTTP.PingAuthEnabled,
		SharedSecret:            c.HTTP.SharedSecret,
		MaxRowLimit:             c.HTTP.MaxRowLimit,
		MaxBodySize:             c.HTTP.MaxBodySize,
		MaxConcurrentWriteLimit: c.HTTP.MaxConcurrentWriteLimit,
		MaxEnqueuedWriteLimit:   c.HTTP.MaxEnqueuedWriteLimit,
		EnqueuedWriteTimeout:    time.Duration(c.HTTP.EnqueuedWriteTimeout),
		Version:                 Version,
	}
	if c.HTTP.LogEnabled && c.HTTP.AccessLogPath != "" {
		s.accessLog, err = os.OpenFile(c.HTTP.AccessLogPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("open access log: %w", err)
		}
		opts.AccessLog = s.accessLog
	}
	httpLogger := s.logger
	if s.services.monitor != nil {
		opts.Metrics = monitor.MetricsHandler(func() []stats.Statistic { return s.services.monitor.Statistics(nil) })
	}
	s.handler = httpd.NewHandler(opts, pointsWriter{s.writer}, s.executor, users, s, httpLogger)
	s.registerHTTPStatistics()
	s.http = httpd.NewService(httpd.ServiceOptions{
		BindAddress:        c.HTTP.BindAddress,
		HTTPSEnabled:       c.HTTP.HTTPSEnabled,
		HTTPSCertificate:   c.HTTP.HTTPSCertificate,
		HTTPSPrivateKey:    c.HTTP.HTTPSPrivateKey,
		UnixSocketEnabled:  c.HTTP.UnixSocketEnabled,
		BindSocket:         c.HTTP.BindSocket,
		MaxConnectionLimit: c.HTTP.MaxConnectionLimit,
	}, s.handler, httpLogger)
	if err := s.http.Open(); err != nil {
		return fmt.Errorf("open http service: %w", err)
	}
	return nil
}

// dropOrphanShards removes shards whose meta entry is gone (dropped while
// the server was down, or in the middle of a drop when it crashed).
func (s *Server) dropOrphanShards() {
	data := s.meta.Data()
	for _, id := range s.store.ShardIDs() {
		if _, _, sg := data.ShardOwner(id); sg == nil || sg.Deleted() {
			s.logger.Info("removing shard not in meta", "shard", id)
			if err := s.store.DeleteShard(id); err != nil {
				s.logger.Error("removing shard", "shard", id, "err", err)
			}
		}
	}
}

// HTTPAddr returns the address the HTTP service listens on.
func (s *Server) HTTPAddr() string {
	if s.http == nil {
		return ""
	}
	if a := s.http.Addr(); a != nil {
		return a.String()
	}
	return ""
}

// Close stops the components in reverse order: first the listener (no new
// requests; in-flight ones finish within ctx), then storage and meta.
func (s *Server) Close() error {
	return s.Shutdown(context.Background())
}

// Shutdown is Close bounded by ctx for in-flight HTTP requests.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	if s.http != nil {
		errs = append(errs, s.http.Close())
	}
	errs = append(errs, s.closeServices())
	if s.queries != nil {
		errs = append(errs, s.queries.Close()) // kills running queries
	}
	if s.store != nil {
		// Flush caches into data files while the shutdown deadline allows,
		// so the next start needs no WAL replay. What is not flushed is
		// safe in the WAL.
		if err := s.store.Flush(ctx); err != nil {
			s.logger.Warn("flush at shutdown incomplete; the WAL covers the rest", "err", err)
		}
		errs = append(errs, s.store.Close())
	}
	if s.meta != nil {
		errs = append(errs, s.meta.Close())
	}
	if s.accessLog != nil {
		errs = append(errs, s.accessLog.Close())
	}
	return errors.Join(errs...)
}

// Statistics gathers every component's statistics for /debug/vars.
func (s *Server) Statistics() []stats.Statistic {
	tags := map[string]string{}
	var out []stats.Statistic
	out = append(out, s.writer.Statistics(maps.Clone(tags))...)
	out = append(out, s.store.Statistics(maps.Clone(tags))...)
	out = append(out, s.queries.Registry().Statistics(maps.Clone(tags))...)
	slices.SortStableFunc(out, func(a, b stats.Statistic) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}
