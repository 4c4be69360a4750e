package subscriber

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"sync"
	"time"
)

// maxDatagram is the largest UDP payload over IPv4.
const maxDatagram = 65507

// batch is one accepted write, encoded once and shared, read-only, by
// every destination it is offered to.
type batch struct {
	db, rp string
	data   []byte // line protocol, one point per '\n'-terminated line
	points int
}

// writer sends batches to one destination. write is called concurrently.
type writer interface {
	write(ctx context.Context, b *batch) error
	close()
}

// newWriter returns the writer of a destination URL.
func newWriter(dest string, cfg Config) (writer, error) {
	u, err := url.Parse(dest)
	if err != nil {
		return nil, fmt.Errorf("subscriber: parse destination %q: %w", dest, err)
	}
	switch u.Scheme {
	case "udp":
		return &udpWriter{addr: u.Host, maxPayload: cfg.UDPPayloadSize}, nil
	case "http":
		return newHTTPWriter(u, cfg, nil), nil
	case "https":
		tc, err := loadTLSConfig(cfg)
		if err != nil {
			return nil, err
		}
		return newHTTPWriter(u, cfg, tc), nil
	}
	return nil, fmt.Errorf("%w %q in %q", ErrUnknownScheme, u.Scheme, dest)
}

// loadTLSConfig builds the TLS settings of https destinations.
func loadTLSConfig(cfg Config) (*tls.Config, error) {
	tc := &tls.Config{InsecureSkipVerify: cfg.InsecureSkipVerify} //nolint:gosec // the operator's choice ([subscriber] insecure-skip-verify)
	if cfg.CACerts == "" {
		return tc, nil
	}
	pem, err := os.ReadFile(cfg.CACerts)
	if err != nil {
		return nil, fmt.Errorf("subscriber: read ca-certs: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%w: ca-certs %s holds no PEM certificate", ErrInvalidConfig, cfg.CACerts)
	}
	tc.RootCAs = pool
	return tc, nil
}

// udpWriter packs lines into datagrams on one connected socket.
type udpWriter struct {
	addr       string
	maxPayload int

	mu   sync.Mutex
	conn net.Conn // guarded by mu; dialled on first use, dropped on error
}

func (w *udpWriter) getConn() (net.Conn, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn == nil {
		c, err := net.Dial("udp", w.addr)
		if err != nil {
			return nil, fmt.Errorf("subscriber: dial udp %s: %w", w.addr, err)
		}
		w.conn = c
	}
	return w.conn, nil
}

// dropConn forgets a socket that failed, so that the next write dials
// again (the address may resolve elsewhere by then).
func (w *udpWriter) dropConn(c net.Conn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn == c {
		w.conn = nil
		c.Close()
	}
}

func (w *udpWriter) write(_ context.Context, b *batch) error {
	c, err := w.getConn()
	if err != nil {
		return err
	}
	var tooLarge error
	for data := b.data; len(data) > 0; {
		n := datagramEnd(data, w.maxPayload)
		if n > maxDatagram {
			// One line larger than any datagram: skip it, send the rest.
			tooLarge = fmt.Errorf("%w: %d bytes to %s", ErrDatagramTooLarge, n, w.addr)
			data = data[n:]
			continue
		}
		if _, err := c.Write(data[:n]); err != nil {
			w.dropConn(c)
			return fmt.Errorf("subscriber: send to udp %s: %w", w.addr, err)
		}
		data = data[n:]
	}
	return tooLarge
}

// datagramEnd returns the length of the longest run of whole lines at the
// start of data that fits in max bytes, or of the first line when it alone
// is longer.
func datagramEnd(data []byte, max int) int {
	if len(data) <= max {
		return len(data)
	}
	end := bytes.LastIndexByte(data[:max], '\n')
	if end >= 0 {
		return end + 1
	}
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1
	}
	return len(data)
}

func (w *udpWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}

// httpWriter posts batches to a /write endpoint.
type httpWriter struct {
	base   string // scheme://host[:port]/path/write, without query
	user   *url.Userinfo
	client *http.Client
	tr     *http.Transport
}

func newHTTPWriter(u *url.URL, cfg Config, tlsConf *tls.Config) *httpWriter {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = max(cfg.WriteConcurrency, 2)
	if u.Scheme == "https" && tlsConf != nil {
		tr.TLSClientConfig = tlsConf.Clone()
	}
	base := *u
	base.User = nil
	base.RawQuery, base.Fragment = "", ""
	base.Path = path.Join("/", u.Path, "write")
	base.RawPath = ""
	return &httpWriter{
		base:   base.String(),
		user:   u.User,
		client: &http.Client{Transport: tr, Timeout: cfg.HTTPTimeout},
		tr:     tr,
	}
}

func (w *httpWriter) write(ctx context.Context, b *batch) error {
	q := url.Values{"db": {b.db}, "rp": {b.rp}}
	target := w.base + "?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(b.data))
	if err != nil {
		return fmt.Errorf("subscriber: build request to %s: %w", w.base, err)
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	req.Header.Set("User-Agent", "strata-subscriber")
	if w.user != nil {
		pw, _ := w.user.Password()
		req.SetBasicAuth(w.user.Username(), pw)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("subscriber: post to %s: %w", w.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		// Drain a little so that the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return &StatusError{URL: w.base, Status: resp.StatusCode, Body: strings.TrimSpace(string(body))}
}

func (w *httpWriter) close() { w.tr.CloseIdleConnections() }

// logLimiter lets one message through per interval.
type logLimiter struct {
	mu   sync.Mutex
	last time.Time
}

func (l *logLimiter) allow(now time.Time, every time.Duration) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < every {
		return false
	}
	l.last = now
	return true
}
