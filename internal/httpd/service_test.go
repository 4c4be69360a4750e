package httpd_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/httpd"
	"github.com/stratadb/strata/internal/query"
)

func openService(t *testing.T, e *env, opts httpd.ServiceOptions) *httpd.Service {
	t.Helper()
	if opts.BindAddress == "" {
		opts.BindAddress = "127.0.0.1:0"
	}
	s := httpd.NewService(opts, e.h, newTextLogger(e.log))
	if err := s.Open(); err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestServiceTCP(t *testing.T) {
	e := newEnv(t, httpd.Options{})
	s := httpd.NewService(httpd.ServiceOptions{BindAddress: "127.0.0.1:0"}, e.h, nil)
	if s.Addr() != nil {
		t.Fatalf("Addr before Open = %v", s.Addr())
	}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	if err := s.Open(); err == nil {
		t.Fatal("a second Open succeeded")
	}
	resp, err := http.Get("http://" + s.Addr().String() + "/ping")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("X-Influxdb-Version") != testVersion {
		t.Fatalf("ping: %d %v", resp.StatusCode, resp.Header)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := http.Get("http://" + s.Addr().String() + "/ping"); err == nil {
		t.Fatal("still serving after Close")
	}
}

func TestServiceBindError(t *testing.T) {
	e := newEnv(t, httpd.Options{})
	s := httpd.NewService(httpd.ServiceOptions{BindAddress: "256.0.0.1:0"}, e.h, nil)
	if err := s.Open(); err == nil {
		_ = s.Close()
		t.Fatal("Open on a bad address succeeded")
	}
}

// writeCert writes a self-signed certificate and its key as PEM files.
func writeCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "strata-test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile = filepath.Join(dir, "cert.pem")
	keyFile = filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestServiceHTTPS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := writeCert(t, dir)
	e := newEnv(t, httpd.Options{})
	s := openService(t, e, httpd.ServiceOptions{HTTPSEnabled: true, HTTPSCertificate: certFile, HTTPSPrivateKey: keyFile})
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	defer client.CloseIdleConnections()
	resp, err := client.Get("https://" + s.Addr().String() + "/ping")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status %d", resp.StatusCode)
	}

	// The key may live in the certificate file, as 1.x allows.
	both := filepath.Join(dir, "both.pem")
	cb, _ := os.ReadFile(certFile)
	kb, _ := os.ReadFile(keyFile)
	if err := os.WriteFile(both, append(cb, kb...), 0o600); err != nil {
		t.Fatal(err)
	}
	openService(t, e, httpd.ServiceOptions{HTTPSEnabled: true, HTTPSCertificate: both})

	bad := httpd.NewService(httpd.ServiceOptions{BindAddress: "127.0.0.1:0", HTTPSEnabled: true, HTTPSCertificate: filepath.Join(dir, "none.pem")}, e.h, nil)
	if err := bad.Open(); err == nil {
		_ = bad.Close()
		t.Fatal("Open with a missing certificate succeeded")
	}
}

func TestServiceUnixSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "strata.sock")
	if err := os.WriteFile(sock, nil, 0o600); err != nil { // a stale file from an earlier run
		t.Fatal(err)
	}
	e := newEnv(t, httpd.Options{})
	s := openService(t, e, httpd.ServiceOptions{UnixSocketEnabled: true, BindSocket: sock, UnixSocketPermissions: 0o770})
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o770 || fi.Mode().Type() != os.ModeSocket {
		t.Fatalf("socket mode %v", fi.Mode())
	}
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("http://unix/ping")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Fatalf("socket left behind: %v", err)
	}
}

func TestServiceMaxConnectionLimit(t *testing.T) {
	e := newEnv(t, httpd.Options{})
	s := openService(t, e, httpd.ServiceOptions{MaxConnectionLimit: 1})
	held, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = held.Close() }()
	// Make sure the first connection was accepted before dialing again.
	if _, err := io.WriteString(held, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 12)
	if _, err := io.ReadFull(held, buf); err != nil || string(buf) != "HTTP/1.1 204" {
		t.Fatalf("first connection: %q %v", buf, err)
	}
	extra, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = extra.Close() }()
	_ = extra.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(extra, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
	if n, err := extra.Read(buf); err == nil {
		t.Fatalf("the connection over the limit was served: %q", buf[:n])
	}
	// Once the first closes, a new one is served.
	_ = held.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + s.Addr().String() + "/ping")
		if err == nil {
			_ = resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection served after the first closed: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// blockingQuery makes the executor hold a query until release, or until
// its context ends.
func blockingQuery(e *env, started, release chan struct{}, canceled chan<- struct{}) {
	e.q.fn = func(ctx context.Context, _ *influxql.Query, _ query.ExecutionOptions) <-chan *query.Result {
		ch := make(chan *query.Result)
		go func() {
			defer close(ch)
			close(started)
			select {
			case <-release:
				ch <- &query.Result{StatementID: 0}
			case <-ctx.Done():
				close(canceled)
			}
		}()
		return ch
	}
}

func TestServiceGracefulShutdown(t *testing.T) {
	e := newEnv(t, httpd.Options{})
	s := openService(t, e, httpd.ServiceOptions{ShutdownTimeout: 10 * time.Second})
	started, release, canceled := make(chan struct{}), make(chan struct{}), make(chan struct{})
	blockingQuery(e, started, release, canceled)
	type result struct {
		code int
		body string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + s.Addr().String() + "/query?q=SHOW+DATABASES")
		if err != nil {
			done <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		done <- result{code: resp.StatusCode, body: string(b)}
	}()
	<-started
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case <-closed:
		t.Fatal("Close returned while a request was in flight")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	r := <-done
	if r.err != nil || r.code != http.StatusOK || r.body != `{"results":[{"statement_id":0}]}`+"\n" {
		t.Fatalf("in-flight request: %+v", r)
	}
}

func TestServiceShutdownTimeout(t *testing.T) {
	e := newEnv(t, httpd.Options{})
	s := openService(t, e, httpd.ServiceOptions{ShutdownTimeout: 50 * time.Millisecond})
	started, release, canceled := make(chan struct{}), make(chan struct{}), make(chan struct{})
	defer close(release)
	blockingQuery(e, started, release, canceled)
	errc := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + s.Addr().String() + "/query?q=SHOW+DATABASES")
		if err == nil {
			_ = resp.Body.Close()
		}
		errc <- err
	}()
	<-started
	start := time.Now()
	_ = s.Close() // reports the forced close; what matters is that it returns
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %v", d)
	}
	select {
	case <-canceled:
	case <-time.After(5 * time.Second):
		t.Fatal("the stuck request's context was not canceled")
	}
	if err := <-errc; err == nil {
		t.Fatal("the stuck request completed")
	}
}
