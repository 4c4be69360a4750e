package server

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	"github.com/stratadb/strata/internal/config"
	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/query"
	"github.com/stratadb/strata/internal/services/continuousquery"
	"github.com/stratadb/strata/internal/services/monitor"
	"github.com/stratadb/strata/internal/services/precreator"
	"github.com/stratadb/strata/internal/services/retention"
	"github.com/stratadb/strata/internal/services/subscriber"
	"github.com/stratadb/strata/internal/stats"
	"github.com/stratadb/strata/internal/vfs"
)

// service is the lifecycle every background service shares. Close stops
// the service's goroutines and waits for them; it may be called on a
// service whose Open failed or never ran.
type service interface {
	Open() error
	Close() error
}

// serviceSet holds the background services (Server.services).
type serviceSet struct {
	subscriber *subscriber.Service
	precreator *precreator.Service
	retention  *retention.Service
	// continuousQueries runs through the statement executor; it opens
	// after the subscriber (its INTO writes are forwarded like any other
	// write) and before the monitor (whose statistics include its own).
	continuousQueries *continuousquery.Service
	monitor           *monitor.Monitor

	// opened lists the services in the order they were opened;
	// closeServices closes them in reverse.
	opened []namedService

	// sink is the subscriber while it runs; forwardPoints reads it on the
	// write path, so it is an atomic rather than a field read under a lock.
	sink atomic.Pointer[subscriber.Service]
}

type namedService struct {
	name string
	svc  service
}

// reporterFunc adapts a function to stats.Reporter.
type reporterFunc func(tags map[string]string) []stats.Statistic

func (f reporterFunc) Statistics(tags map[string]string) []stats.Statistic { return f(tags) }

// openServices starts the background services after storage and meta are
// open and before HTTP serves, in this order: subscriber (so that every
// later write is forwarded), shard precreation, retention, [continuous
// queries], monitor (last: it writes through everything else).
// closeServices stops them in reverse order after HTTP has stopped.
func (s *Server) openServices() error {
	c := s.cfg
	sv := &s.services
	subCfg := subscriberConfig(c)

	sv.subscriber = subscriber.New(subCfg, s.meta, subscriber.Options{Logger: s.logger.With("service", "subscriber")})
	sv.precreator = precreator.New(precreator.Config{
		Enabled:       c.ShardPrecreation.Enabled,
		CheckInterval: time.Duration(c.ShardPrecreation.CheckInterval),
		AdvancePeriod: time.Duration(c.ShardPrecreation.AdvancePeriod),
	}, s.meta, s.store, precreator.Options{Logger: s.logger.With("service", "shard-precreation")})
	sv.retention = retention.New(retention.Config{
		Enabled:       c.Retention.Enabled,
		CheckInterval: time.Duration(c.Retention.CheckInterval),
	}, s.meta, s.store, retention.Options{Logger: s.logger.With("service", "retention")})
	sv.continuousQueries = continuousquery.New(continuousquery.Config{
		Enabled:           c.ContinuousQueries.Enabled,
		LogEnabled:        c.ContinuousQueries.LogEnabled,
		QueryStatsEnabled: c.ContinuousQueries.QueryStatsEnabled && c.Monitor.StoreEnabled,
		RunInterval:       time.Duration(c.ContinuousQueries.RunInterval),
	}, s.meta, s.executor, continuousquery.Options{
		Logger:       s.logger.With("service", "continuous_querier"),
		FS:           vfs.Default,
		StatePath:    filepath.Join(c.Meta.Dir, continuousQueryStateFile),
		OnQueryStats: s.writeCQStats,
	})
	sv.monitor = monitor.New(monitor.Config{
		StoreEnabled:  c.Monitor.StoreEnabled,
		StoreDatabase: c.Monitor.StoreDatabase,
		StoreInterval: time.Duration(c.Monitor.StoreInterval),
	}, s.meta, s.writer, monitor.Options{
		Logger:           s.logger.With("service", "monitor"),
		Build:            monitor.BuildInfo{Version: Version},
		Config:           c,
		ExtraDiagnostics: map[string]map[string]any{"config-subscriber": subCfg.Diagnostics()},
	})
	sv.monitor.AddReporter(reporterFunc(func(map[string]string) []stats.Statistic { return s.allStatistics() }))

	for _, ns := range []namedService{
		{"subscriber", sv.subscriber},
		{"shard precreation", sv.precreator},
		{"retention", sv.retention},
		{"continuous queries", sv.continuousQueries},
		{"monitor", sv.monitor},
	} {
		if err := ns.svc.Open(); err != nil {
			return fmt.Errorf("open %s service: %w", ns.name, err)
		}
		sv.opened = append(sv.opened, ns)
	}
	sv.sink.Store(sv.subscriber)
	s.executor.Stats = func(module string) []*query.Row { return queryRows(sv.monitor.StatsRows(module)) }
	s.executor.Diagnostics = func(module string) []*query.Row { return queryRows(sv.monitor.Diagnostics(module)) }
	return nil
}

// queryRows converts the monitor's rows into result rows.
func queryRows(rows []*monitor.Row) []*query.Row {
	out := make([]*query.Row, len(rows))
	for i, r := range rows {
		out[i] = &query.Row{Name: r.Name, Tags: r.Tags, Columns: r.Columns, Values: r.Values}
	}
	return out
}

// closeServices stops forwarding writes, then closes the opened services
// in reverse order, joining their errors.
func (s *Server) closeServices() error {
	sv := &s.services
	sv.sink.Store(nil)
	var errs []error
	for _, ns := range slices.Backward(sv.opened) {
		if err := ns.svc.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s service: %w", ns.name, err))
		}
	}
	sv.opened = nil
	return errors.Join(errs...)
}

// subscriberConfig is [subscriber], with the settings 1.x has no key for
// (byte bound of a destination's queue, UDP payload size) at their
// defaults.
func subscriberConfig(c *config.Config) subscriber.Config {
	sc := subscriber.NewConfig()
	sc.Enabled = c.Subscriber.Enabled
	sc.HTTPTimeout = time.Duration(c.Subscriber.HTTPTimeout)
	sc.InsecureSkipVerify = c.Subscriber.InsecureSkipVerify
	sc.CACerts = c.Subscriber.CACerts
	sc.WriteConcurrency = c.Subscriber.WriteConcurrency
	sc.WriteBufferSize = c.Subscriber.WriteBufferSize
	return sc
}

// forwardPoints hands an accepted write to the subscriber (see
// subscriber.PointsSink: call it after a successful or partial write with
// the points that were stored; it copies what it keeps before returning).
// It does nothing while the services are not open.
func (s *Server) forwardPoints(db, rp string, points []models.Point) {
	if sub := s.services.sink.Load(); sub != nil {
		sub.ForwardPoints(db, rp, points)
	}
}

// serviceStatistics returns the background services' statistics: the
// subscriber's and the continuous queries' (the others have none).
func (s *Server) serviceStatistics() []stats.Statistic {
	var out []stats.Statistic
	if s.services.subscriber != nil {
		out = append(out, s.services.subscriber.Statistics(map[string]string{})...)
	}
	if s.services.continuousQueries != nil {
		out = append(out, s.services.continuousQueries.Statistics(map[string]string{})...)
	}
	return out
}

// continuousQueryStateFile, in the meta directory, holds the last run of
// each continuous query, so that a restart catches up what it missed.
const continuousQueryStateFile = "cq_state.json"

// writeCQStats stores one continuous query run as 1.x's "cq_query" point
// in the monitor's database ([continuous_queries] query-stats-enabled).
func (s *Server) writeCQStats(st continuousquery.QueryStats) {
	stat := stats.Statistic{
		Name: "cq_query",
		Tags: map[string]string{"db": st.Database, "cq": st.Name},
		Values: map[string]any{
			"durationNs":      st.Duration.Nanoseconds(),
			"startTime":       st.Start.UnixNano(),
			"endTime":         st.End.UnixNano(),
			"pointsWrittenOK": st.PointsWritten,
		},
	}
	timeout := time.Duration(s.cfg.Coordinator.WriteTimeout)
	if timeout <= 0 {
		timeout = 10 * time.Second // 1.x's default write-timeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	points := monitor.Points([]stats.Statistic{stat}, time.Now())
	if err := s.writer.WritePoints(ctx, s.cfg.Monitor.StoreDatabase, monitor.RetentionPolicyName, points); err != nil {
		s.logger.Warn("cannot store continuous query statistics", "err", err)
	}
}

// allStatistics is what the monitor stores and shows: the components'
// statistics (Server.Statistics) and the services'. The HTTP handler's
// are added by registerHTTPStatistics, and runtime by the monitor itself.
func (s *Server) allStatistics() []stats.Statistic {
	return append(s.Statistics(), s.serviceStatistics()...)
}

// registerHTTPStatistics adds the HTTP handler's "httpd" statistic to the
// monitor. The handler is built after the services open, so Open calls
// this once it exists.
func (s *Server) registerHTTPStatistics() {
	if s.services.monitor != nil && s.handler != nil {
		s.services.monitor.AddReporter(s.handler)
	}
}
