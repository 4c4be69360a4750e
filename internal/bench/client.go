package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// maxBodyKept bounds the part of an error response kept for the report.
const maxBodyKept = 512

// newClient returns an HTTP client that keeps one idle connection per
// worker, so every batch after the first reuses a connection (keep-alive),
// as a real collector does.
func newClient(workers int) *http.Client {
	tr := &http.Transport{
		Proxy:               nil, // loopback benchmarks must never go through a proxy
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        workers + 4,
		MaxIdleConnsPerHost: workers + 4,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true, // measure the server, not transparent gzip of responses
	}
	return &http.Client{Transport: tr}
}

// endpoint joins base (http://host:port, maybe with a path prefix) and a
// path with query parameters.
func endpoint(base, path string, params url.Values) string {
	u := strings.TrimRight(base, "/") + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	return u
}

// ServerVersion asks base's /ping and returns the X-Influxdb-Version it
// sends ("" if none). An unreachable server or a non-2xx answer is an
// error.
func ServerVersion(ctx context.Context, client *http.Client, base string) (string, error) {
	if client == nil {
		client = newClient(1)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint(base, "/ping", nil), nil)
	if err != nil {
		return "", fmt.Errorf("%w: url %q: %v", ErrInvalidConfig, base, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("ping %s: %w", base, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("ping %s: status %d", base, resp.StatusCode)
	}
	return resp.Header.Get("X-Influxdb-Version"), nil
}

// WaitReady polls base's /ping every few milliseconds until it answers
// 2xx, and returns how long that took. It gives up at the context's end.
func WaitReady(ctx context.Context, base string) (time.Duration, error) {
	start := time.Now()
	client := newClient(1)
	client.Timeout = time.Second
	defer client.CloseIdleConnections()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		_, err := ServerVersion(ctx, client, base)
		if err == nil {
			return time.Since(start), nil
		}
		last = err
		select {
		case <-ctx.Done():
			return time.Since(start), fmt.Errorf("%s not ready after %v: %w (last: %v)", base, time.Since(start).Round(time.Millisecond), ctx.Err(), last)
		case <-tick.C:
		}
	}
}

// execute POSTs one InfluxQL statement and returns an error carrying the
// status and body for a non-2xx answer or an error in the result.
func execute(ctx context.Context, client *http.Client, base, db, stmt string) error {
	params := url.Values{"q": {stmt}}
	if db != "" {
		params.Set("db", db)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint(base, "/query", params), nil)
	if err != nil {
		return fmt.Errorf("%w: url %q: %v", ErrInvalidConfig, base, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", stmt, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s: read response: %w", stmt, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: status %d: %s", stmt, resp.StatusCode, truncate(body))
	}
	if _, _, msg, err := DigestResponse(body); err != nil {
		return fmt.Errorf("%s: %w", stmt, err)
	} else if msg != "" {
		return fmt.Errorf("%s: %s", stmt, msg)
	}
	return nil
}

// truncate returns the start of an error body as text for a report.
func truncate(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > maxBodyKept {
		s = s[:maxBodyKept] + "…"
	}
	return s
}

// download saves the body of a GET of u into file.
func download(ctx context.Context, client *http.Client, u, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("get %s: %w", u, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, maxBodyKept))
		return fmt.Errorf("get %s: status %d: %s", u, resp.StatusCode, truncate(msg))
	}
	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("get %s: %w", u, err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("get %s into %s: %w", u, file, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	return nil
}
