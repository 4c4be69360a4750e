package httpd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of the service.
const (
	// DefaultShutdownTimeout bounds how long Close waits for in-flight
	// requests before it closes their connections.
	DefaultShutdownTimeout = 30 * time.Second
	// DefaultReadHeaderTimeout bounds how long a client may take to send
	// its request headers, so idle half-open connections cannot pile up.
	DefaultReadHeaderTimeout = 30 * time.Second
)

// ServiceOptions configure the listeners of the HTTP service.
type ServiceOptions struct {
	// BindAddress is the TCP address (bind-address); port 0 picks a free
	// port, which Addr reports.
	BindAddress string

	// HTTPSEnabled serves TLS on BindAddress with HTTPSCertificate and
	// HTTPSPrivateKey (PEM files; an empty key means the certificate file
	// holds the key too, as in 1.x).
	HTTPSEnabled     bool
	HTTPSCertificate string
	HTTPSPrivateKey  string
	// TLS is the base TLS configuration ([tls] section); nil uses Go's
	// defaults with TLS 1.2 as the minimum.
	TLS *tls.Config

	// UnixSocketEnabled also serves on the unix socket BindSocket, created
	// with UnixSocketPermissions (0 → 0777, as in 1.x).
	UnixSocketEnabled     bool
	BindSocket            string
	UnixSocketPermissions os.FileMode

	// MaxConnectionLimit bounds the open TCP connections; connections
	// beyond it are closed at once (0 = unlimited).
	MaxConnectionLimit int

	// ShutdownTimeout bounds the graceful part of Close (0 → 30s).
	ShutdownTimeout time.Duration
	// ReadHeaderTimeout bounds the reading of request headers (0 → 30s,
	// negative = no limit).
	ReadHeaderTimeout time.Duration
}

// Service serves a Handler on a TCP listener (plain or TLS) and optionally
// on a unix socket.
type Service struct {
	opts ServiceOptions
	h    *Handler
	log  *slog.Logger

	mu      sync.Mutex // guards the fields below
	servers []*http.Server
	addr    net.Addr
	opened  bool
	closed  bool
	wg      sync.WaitGroup // one per Serve goroutine
}

// NewService returns a Service for h. A nil logger discards.
func NewService(opts ServiceOptions, h *Handler, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{opts: opts, h: h, log: logger.With(slog.String("service", "httpd"))}
}

// Open binds the listeners and starts serving. It returns once the
// listeners are bound, so Addr is valid when it returns.
func (s *Service) Open() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opened {
		return errors.New("httpd: service already opened")
	}
	s.opened = true

	ln, err := net.Listen("tcp", s.opts.BindAddress)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.opts.BindAddress, err)
	}
	if s.opts.MaxConnectionLimit > 0 {
		ln = &limitListener{Listener: ln, max: int64(s.opts.MaxConnectionLimit)}
	}
	proto := "http"
	if s.opts.HTTPSEnabled {
		cfg, err := s.tlsConfig()
		if err != nil {
			_ = ln.Close() // already failing; the listener error adds nothing
			return err
		}
		ln = tls.NewListener(ln, cfg)
		proto = "https"
	}
	s.addr = ln.Addr()
	s.serve(ln)
	s.log.Info("listening on HTTP", slog.String("addr", s.addr.String()), slog.Bool("https", proto == "https"))

	if s.opts.UnixSocketEnabled {
		uln, err := s.listenUnix()
		if err != nil {
			s.closeLocked(context.Background())
			return err
		}
		s.serve(uln)
		s.log.Info("listening on unix socket", slog.String("path", s.opts.BindSocket))
	}
	return nil
}

func (s *Service) tlsConfig() (*tls.Config, error) {
	keyFile := s.opts.HTTPSPrivateKey
	if keyFile == "" {
		keyFile = s.opts.HTTPSCertificate
	}
	cert, err := tls.LoadX509KeyPair(s.opts.HTTPSCertificate, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load https certificate %s: %w", s.opts.HTTPSCertificate, err)
	}
	var cfg *tls.Config
	if s.opts.TLS != nil {
		cfg = s.opts.TLS.Clone()
	} else {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	cfg.Certificates = []tls.Certificate{cert}
	return cfg, nil
}

func (s *Service) listenUnix() (net.Listener, error) {
	path := s.opts.BindSocket
	// A socket file left by an earlier run would make Listen fail.
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale unix socket %s: %w", path, err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on unix socket %s: %w", path, err)
	}
	perm := s.opts.UnixSocketPermissions
	if perm == 0 {
		perm = 0o777
	}
	if err := os.Chmod(path, perm); err != nil {
		_ = ln.Close() // already failing
		return nil, fmt.Errorf("chmod unix socket %s: %w", path, err)
	}
	return ln, nil
}

// serve starts an http.Server on ln. s.mu is held.
func (s *Service) serve(ln net.Listener) {
	rht := s.opts.ReadHeaderTimeout
	switch {
	case rht == 0:
		rht = DefaultReadHeaderTimeout
	case rht < 0:
		rht = 0
	}
	srv := &http.Server{
		Handler:           s.h,
		ReadHeaderTimeout: rht,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.servers = append(s.servers, srv)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("HTTP server stopped", slog.Any("error", err))
		}
	}()
}

// Addr returns the bound TCP address, nil before Open.
func (s *Service) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Close stops accepting connections, lets in-flight requests finish for up
// to ShutdownTimeout, then closes the connections still open (which
// cancels their requests' contexts), and finally closes the handler. It is
// safe to call more than once.
func (s *Service) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	timeout := s.opts.ShutdownTimeout
	if timeout <= 0 {
		timeout = DefaultShutdownTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return s.closeLocked(ctx)
}

func (s *Service) closeLocked(ctx context.Context) error {
	s.closed = true
	var errs []error
	for _, srv := range s.servers {
		if err := srv.Shutdown(ctx); err != nil {
			s.log.Warn("graceful shutdown timed out; closing connections", slog.Any("error", err))
			errs = append(errs, srv.Close())
		}
	}
	s.wg.Wait()
	if s.opts.UnixSocketEnabled && s.opts.BindSocket != "" {
		if err := os.Remove(s.opts.BindSocket); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove unix socket %s: %w", s.opts.BindSocket, err))
		}
	}
	errs = append(errs, s.h.Close())
	return errors.Join(errs...)
}

// limitListener closes connections beyond max at once, as 1.x's
// max-connection-limit does, rather than leaving them queued.
type limitListener struct {
	net.Listener
	max  int64
	open atomic.Int64
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) > l.max {
			l.open.Add(-1)
			_ = c.Close() // refused: nothing to report to anyone
			continue
		}
		return &limitConn{Conn: c, l: l}, nil
	}
}

type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.open.Add(-1) })
	return err
}
