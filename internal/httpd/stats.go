package httpd

import (
	"maps"
	"sync/atomic"

	"github.com/stratadb/strata/internal/stats"
)

// handlerStats are the counters of the "httpd" statistic.
type handlerStats struct {
	req                  atomic.Int64
	reqActive            atomic.Int64
	reqDurationNs        atomic.Int64
	queryReq             atomic.Int64
	queryReqActive       atomic.Int64
	queryReqDurationNs   atomic.Int64
	queryRespBytes       atomic.Int64
	writeReq             atomic.Int64
	writeReqActive       atomic.Int64
	writeReqBytes        atomic.Int64
	writeReqDurationNs   atomic.Int64
	pointsWrittenOK      atomic.Int64
	pointsWrittenDropped atomic.Int64
	pointsWrittenFail    atomic.Int64
	pingReq              atomic.Int64
	statusReq            atomic.Int64
	authFail             atomic.Int64
	clientError          atomic.Int64
	serverError          atomic.Int64
	recoveredPanics      atomic.Int64
}

// Statistics returns the "httpd" statistic under 1.x's value names. The
// Prometheus, Flux and CQ counters that 1.x also reports are kept at zero
// so that dashboards built on 1.x's schema still find them.
func (h *Handler) Statistics(tags map[string]string) []stats.Statistic {
	s := &h.stats
	return []stats.Statistic{{
		Name: "httpd",
		Tags: maps.Clone(tags),
		Values: map[string]any{
			"req":                    s.req.Load(),
			"reqActive":              s.reqActive.Load(),
			"reqDurationNs":          s.reqDurationNs.Load(),
			"queryReq":               s.queryReq.Load(),
			"queryReqActive":         s.queryReqActive.Load(),
			"queryReqDurationNs":     s.queryReqDurationNs.Load(),
			"queryRespBytes":         s.queryRespBytes.Load(),
			"writeReq":               s.writeReq.Load(),
			"writeReqActive":         s.writeReqActive.Load(),
			"writeReqBytes":          s.writeReqBytes.Load(),
			"writeReqDurationNs":     s.writeReqDurationNs.Load(),
			"pointsWrittenOK":        s.pointsWrittenOK.Load(),
			"pointsWrittenDropped":   s.pointsWrittenDropped.Load(),
			"pointsWrittenFail":      s.pointsWrittenFail.Load(),
			"pingReq":                s.pingReq.Load(),
			"statusReq":              s.statusReq.Load(),
			"authFail":               s.authFail.Load(),
			"clientError":            s.clientError.Load(),
			"serverError":            s.serverError.Load(),
			"recoveredPanics":        s.recoveredPanics.Load(),
			"cqReq":                  int64(0),
			"promWriteReq":           int64(0),
			"promReadReq":            int64(0),
			"fluxQueryReq":           int64(0),
			"fluxQueryReqDurationNs": int64(0),
		},
	}}
}
