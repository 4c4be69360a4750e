package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/cespare/xxhash/v2"
)

// DefaultQueries is the number of queries run per type.
const DefaultQueries = 20

// QueryConfig configures a query run.
type QueryConfig struct {
	// URL is the server's base URL (DefaultURL when empty).
	URL string
	// Database holds the data set (DefaultDatabase when empty).
	Database string
	// Types are the query types to run, in order; nil means QueryTypes().
	Types []string
	// PerType is the number of queries of each type (DefaultQueries when 0).
	PerType int
	// Timeout bounds one query (default 5 minutes).
	Timeout time.Duration
	// Progress receives one line per query type; nil for none.
	Progress io.Writer
	// Client overrides the HTTP client (tests).
	Client *http.Client
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// QueryOutcome is the result of one query.
type QueryOutcome struct {
	Statement string        `json:"q"`
	Latency   time.Duration `json:"latency_ns"`
	Status    int           `json:"status"`
	Rows      int           `json:"rows"`
	Hash      string        `json:"hash"`
	Error     string        `json:"error,omitempty"`
}

// QueryTypeResult summarises the queries of one type. Latency covers the
// queries that succeeded; Rows and Hash cover every query in order (a
// failed query hashes its error), so two servers agree on Hash exactly
// when they gave the same answers to every query.
type QueryTypeResult struct {
	Type        string         `json:"type"`
	Description string         `json:"description"`
	Queries     int            `json:"queries"`
	Errors      int            `json:"errors"`
	FirstError  string         `json:"first_error,omitempty"`
	Latency     Latency        `json:"latency"`
	Rows        int64          `json:"rows"`
	Hash        string         `json:"hash"`
	Outcomes    []QueryOutcome `json:"outcomes"`
}

// QueryResult is the outcome of a query run.
type QueryResult struct {
	URL           string            `json:"url"`
	Database      string            `json:"database"`
	ServerVersion string            `json:"server_version"`
	Dataset       Dataset           `json:"dataset"`
	Types         []QueryTypeResult `json:"types"`
}

// RunQueries runs the query set for ds against the server, one query at a
// time so that each latency is the server's alone. It returns an error only
// when the run cannot start; failed queries (non-2xx, an error in the
// result, a malformed body, a timeout) are counted in the result.
func RunQueries(ctx context.Context, cfg QueryConfig, ds Dataset) (*QueryResult, error) {
	if cfg.URL == "" {
		cfg.URL = DefaultURL
	}
	if cfg.Database == "" {
		cfg.Database = DefaultDatabase
	}
	if cfg.PerType == 0 {
		cfg.PerType = DefaultQueries
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Minute
	}
	if cfg.Types == nil {
		cfg.Types = QueryTypes()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PerType < 1 {
		return nil, fmt.Errorf("%w: queries per type must be positive, got %d", ErrInvalidConfig, cfg.PerType)
	}
	sets := make([][]Query, len(cfg.Types))
	for i, typ := range cfg.Types {
		qs, err := Queries(ds, typ, cfg.PerType)
		if err != nil {
			return nil, err
		}
		sets[i] = qs
	}
	client := cfg.Client
	if client == nil {
		client = newClient(1)
		defer client.CloseIdleConnections()
	}
	res := &QueryResult{URL: cfg.URL, Database: cfg.Database, Dataset: ds}
	var err error
	if res.ServerVersion, err = ServerVersion(ctx, client, cfg.URL); err != nil {
		return nil, err
	}
	for i, typ := range cfg.Types {
		tr := QueryTypeResult{Type: typ, Description: QueryDescription(typ)}
		h := xxhash.New()
		var lats []time.Duration
		for _, q := range sets[i] {
			if ctx.Err() != nil {
				break
			}
			o := runQuery(ctx, client, cfg, q.Statement)
			tr.Queries++
			tr.Rows += int64(o.Rows)
			_, _ = h.WriteString(o.Hash)
			if o.Error != "" {
				tr.Errors++
				if tr.FirstError == "" {
					tr.FirstError = o.Error
				}
			} else {
				lats = append(lats, o.Latency)
			}
			tr.Outcomes = append(tr.Outcomes, o)
		}
		tr.Latency = Summarize(lats)
		tr.Hash = hashText(h.Sum64())
		res.Types = append(res.Types, tr)
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "%-22s %3d queries  p50 %9s  p99 %9s  rows %8d  hash %16s  errors %d%s\n",
				typ, tr.Queries, fmtDuration(tr.Latency.P50), fmtDuration(tr.Latency.P99), tr.Rows, tr.Hash, tr.Errors,
				firstErrorSuffix(tr.FirstError))
		}
	}
	return res, nil
}

func firstErrorSuffix(msg string) string {
	if msg == "" {
		return ""
	}
	return " (first: " + msg + ")"
}

// runQuery runs one statement with epoch=ns (integer times, so no two
// servers differ in RFC 3339 formatting) and digests the answer.
func runQuery(ctx context.Context, client *http.Client, cfg QueryConfig, stmt string) QueryOutcome {
	o := QueryOutcome{Statement: stmt}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	u := endpoint(cfg.URL, "/query", url.Values{"db": {cfg.Database}, "q": {stmt}, "epoch": {"ns"}})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		o.Error = err.Error()
		o.Hash = "error"
		return o
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		o.Latency = time.Since(start)
		o.Error = err.Error()
		o.Hash = "transport-error"
		return o
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	o.Latency = time.Since(start)
	o.Status = resp.StatusCode
	if err != nil {
		o.Error = "read response: " + err.Error()
		o.Hash = "transport-error"
		return o
	}
	if resp.StatusCode/100 != 2 {
		o.Error = "status " + strconv.Itoa(resp.StatusCode) + ": " + truncate(body)
		o.Hash = "status-" + strconv.Itoa(resp.StatusCode)
		return o
	}
	rows, sum, msg, err := DigestResponse(body)
	o.Rows, o.Hash = rows, hashText(sum)
	switch {
	case err != nil:
		o.Error = err.Error() + ": " + truncate(body)
		o.Hash = "malformed"
	case msg != "":
		o.Error = msg
	}
	return o
}

// hashText formats a hash with a fixed width, so tables line up.
func hashText(h uint64) string { return fmt.Sprintf("%016x", h) }
