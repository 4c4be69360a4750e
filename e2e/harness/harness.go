// Package harness builds the real stratad binary once per test process and
// runs it: on a free loopback port, with a temporary data directory and a
// config file, stopped by PID either gracefully (SIGTERM) or by kill -9 for
// crash tests. Every end-to-end test in the project goes through it.
package harness

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// moduleRoot finds the repository root from this file's location.
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Binary returns the path of a stratad built for this test process, with
// the race detector when the tests themselves run with it. Set
// STRATAD_BINARY to test a prebuilt binary instead.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("STRATAD_BINARY"); p != "" {
		return p
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "stratad-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "stratad")
		args := []string{"build", "-o", buildPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		args = append(args, "./cmd/stratad")
		cmd := exec.Command("go", args...)
		cmd.Dir = moduleRoot()
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build stratad: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// Options configure a server start.
type Options struct {
	// Dir holds meta, data and wal; empty means a new t.TempDir(). Pass the
	// Dir of a stopped server to restart it on the same data.
	Dir string
	// Config is extra TOML written to the config file (sections as in
	// influxdb.conf). The directories and bind address are set by
	// environment variables, which take precedence over the file.
	Config string
	// Env adds environment variables (KEY=VALUE).
	Env []string
	// StartTimeout bounds the wait for /ping (default 60 s).
	StartTimeout time.Duration
}

// Server is one running stratad.
type Server struct {
	t      testing.TB
	Dir    string
	URL    string // http://127.0.0.1:port
	Addr   string // 127.0.0.1:port
	cmd    *exec.Cmd
	done   chan struct{}
	exit   error
	logMu  sync.Mutex
	logBuf bytes.Buffer
}

var listenRE = regexp.MustCompile(`msg="Listening on HTTP" addr=(\S+)`)

// Start starts stratad and waits until /ping answers.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := start(t, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func start(t testing.TB, opts Options) (*Server, error) {
	bin := Binary(t)
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 60 * time.Second
	}
	cfgPath := filepath.Join(opts.Dir, "strata.conf")
	if err := os.WriteFile(cfgPath, []byte(opts.Config), 0o644); err != nil {
		return nil, err
	}
	s := &Server{t: t, Dir: opts.Dir, done: make(chan struct{})}
	cmd := exec.Command(bin, "run", "-config", cfgPath)
	cmd.Env = append(os.Environ(),
		"STRATA_META_DIR="+filepath.Join(opts.Dir, "meta"),
		"STRATA_DATA_DIR="+filepath.Join(opts.Dir, "data"),
		"STRATA_DATA_WAL_DIR="+filepath.Join(opts.Dir, "wal"),
		"STRATA_HTTP_BIND_ADDRESS=127.0.0.1:0",
		"STRATA_MONITOR_STORE_ENABLED=false",
	)
	cmd.Env = append(cmd.Env, opts.Env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s.cmd = cmd
	addrCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			line := sc.Text()
			s.logMu.Lock()
			s.logBuf.WriteString(line)
			s.logBuf.WriteByte('\n')
			s.logMu.Unlock()
			if m := listenRE.FindStringSubmatch(line); m != nil {
				select {
				case addrCh <- m[1]:
				default:
				}
			}
		}
	}()
	go func() {
		s.exit = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			s.Kill()
		}
		if t.Failed() {
			t.Logf("stratad log:\n%s", s.Log())
		}
	})

	deadline := time.After(opts.StartTimeout)
	select {
	case addr := <-addrCh:
		s.Addr = addr
		s.URL = "http://" + addr
	case <-s.done:
		return nil, fmt.Errorf("stratad exited during start-up (%v):\n%s", s.exit, s.Log())
	case <-deadline:
		s.Kill()
		return nil, fmt.Errorf("stratad did not report its address within %s:\n%s", opts.StartTimeout, s.Log())
	}
	for {
		resp, err := http.Get(s.URL + "/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				return s, nil
			}
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("stratad exited during start-up (%v):\n%s", s.exit, s.Log())
		case <-deadline:
			s.Kill()
			return nil, fmt.Errorf("/ping did not answer within %s:\n%s", opts.StartTimeout, s.Log())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Log returns everything stratad wrote to stderr so far.
func (s *Server) Log() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.logBuf.String()
}

// PID returns the process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Stop sends SIGTERM and waits for a clean exit (status 0).
func (s *Server) Stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatalf("signal stratad: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		s.Kill()
		s.t.Fatalf("stratad did not stop within 60s after SIGTERM:\n%s", s.Log())
	}
	if s.exit != nil {
		s.t.Fatalf("stratad exited with %v after SIGTERM:\n%s", s.exit, s.Log())
	}
}

// Kill sends SIGKILL (a crash) and waits for the process to go.
func (s *Server) Kill() {
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// Restart starts a new stratad on the same directory (after Stop or Kill).
func (s *Server) Restart(opts Options) *Server {
	s.t.Helper()
	opts.Dir = s.Dir
	return Start(s.t, opts)
}

// Response is an HTTP answer with its body read.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Do sends a request and reads the whole answer.
func (s *Server) Do(method, path string, header http.Header, body io.Reader) Response {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// Write posts line protocol to /write with the given query parameters
// (db, rp, precision, …).
func (s *Server) Write(params url.Values, body string) Response {
	s.t.Helper()
	return s.Do(http.MethodPost, "/write?"+params.Encode(), nil, strings.NewReader(body))
}

// Query runs q with POST /query and the given extra parameters.
func (s *Server) Query(q string, params url.Values) Response {
	s.t.Helper()
	if params == nil {
		params = url.Values{}
	}
	params.Set("q", q)
	return s.Do(http.MethodPost, "/query", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		strings.NewReader(params.Encode()))
}

// MustQuery runs q and fails the test unless the answer is 200.
func (s *Server) MustQuery(q string, params url.Values) string {
	s.t.Helper()
	r := s.Query(q, params)
	if r.Status != http.StatusOK {
		s.t.Fatalf("query %q: status %d: %s", q, r.Status, r.Body)
	}
	return r.Body
}

// HostPort splits Addr for clients that take them apart.
func (s *Server) HostPort() (host, port string) {
	host, port, _ = net.SplitHostPort(s.Addr)
	return host, port
}
