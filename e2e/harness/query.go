package harness

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/tinylib/msgp/msgp"
)

// The query-side tests run against Strata by default. Two environment
// variables point them at a real InfluxDB 1.x instead, to show parity with
// the same test data:
//
//	STRATA_E2E_URL=http://127.0.0.1:8086   any running server; tests that
//	                                       need a config of their own skip
//	STRATA_E2E_INFLUXD=/usr/bin/influxd    an influxd started per test with
//	                                       the test's config, like stratad
const (
	EnvURL     = "STRATA_E2E_URL"
	EnvInfluxd = "STRATA_E2E_INFLUXD"
)

// ParityMode reports whether the tests talk to a reference InfluxDB 1.x
// rather than to Strata (EnvURL or EnvInfluxd is set).
func ParityMode() bool {
	return os.Getenv(EnvURL) != "" || os.Getenv(EnvInfluxd) != ""
}

// Target returns the server a query test talks to: stratad started with
// config (TOML, sections as in influxdb.conf), or, in parity mode, the
// reference server. With EnvURL a test that needs a config skips, since
// the running server's config cannot be changed.
func Target(t testing.TB, config string) *Server {
	t.Helper()
	if u := os.Getenv(EnvURL); u != "" {
		if strings.TrimSpace(config) != "" {
			t.Skipf("needs its own config, which %s=%s cannot take; use %s", EnvURL, u, EnvInfluxd)
		}
		return Attach(t, u)
	}
	if bin := os.Getenv(EnvInfluxd); bin != "" {
		return StartInfluxDB(t, bin, config)
	}
	return Start(t, Options{Config: config})
}

// Attach returns a Server for a server the harness did not start, at
// rawURL. Do, Query, MustQuery, Write and HostPort work; PID, Stop, Kill,
// Restart and Log must not be called (External reports such a server).
func Attach(t testing.TB, rawURL string) *Server {
	t.Helper()
	u, err := url.Parse(strings.TrimRight(rawURL, "/"))
	if err != nil || u.Host == "" {
		t.Fatalf("bad server URL %q: %v", rawURL, err)
	}
	return &Server{t: t, URL: u.Scheme + "://" + u.Host, Addr: u.Host, done: make(chan struct{})}
}

// External reports whether the server was attached rather than started.
func (s *Server) External() bool { return s.cmd == nil }

// influxdListenRE finds the HTTP address in influxd's logfmt start-up log.
var influxdListenRE = regexp.MustCompile(`msg="Listening on HTTP".*\baddr=(\S+)`)

// StartInfluxDB starts a real InfluxDB 1.x influxd (bin) on a free
// loopback port with a temporary meta, data and wal directory, reporting
// and the monitor's store off, and extra (TOML) merged over that, then
// waits until /ping answers. The server is killed when the test ends.
func StartInfluxDB(t testing.TB, bin, extra string) *Server {
	t.Helper()
	dir := t.TempDir()
	cfg := map[string]any{}
	if _, err := toml.Decode(extra, &cfg); err != nil {
		t.Fatalf("config for influxd: %v", err)
	}
	base := map[string]map[string]any{
		"meta":    {"dir": filepath.Join(dir, "meta")},
		"data":    {"dir": filepath.Join(dir, "data"), "wal-dir": filepath.Join(dir, "wal")},
		"http":    {"bind-address": "127.0.0.1:0"},
		"monitor": {"store-enabled": false},
	}
	for section, keys := range base {
		m, _ := cfg[section].(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		for k, v := range keys {
			m[k] = v
		}
		cfg[section] = m
	}
	cfg["reporting-disabled"] = true
	cfg["bind-address"] = "127.0.0.1:0"
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(cfg); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "influxdb.conf")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	s := &Server{t: t, Dir: dir, done: make(chan struct{})}
	cmd := exec.Command(bin, "run", "-config", path)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
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
			if m := influxdListenRE.FindStringSubmatch(line); m != nil {
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
			t.Logf("influxd log:\n%s", s.Log())
		}
	})
	select {
	case addr := <-addrCh:
		s.Addr, s.URL = addr, "http://"+addr
	case <-s.done:
		t.Fatalf("influxd exited during start-up (%v):\n%s", s.exit, s.Log())
	case <-time.After(60 * time.Second):
		t.Fatalf("influxd did not report its address:\n%s", s.Log())
	}
	for deadline := time.Now().Add(60 * time.Second); ; {
		resp, err := http.Get(s.URL + "/ping")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("influxd's /ping did not answer:\n%s", s.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stream sends a request and returns the response with its body unread,
// for tests that read a chunked answer as it arrives or hang up early.
// The caller closes the body; cancelling ctx aborts the request.
func (s *Server) Stream(ctx context.Context, method, path string, header http.Header, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, body)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	// A transport of its own: a hung-up connection must not go back to
	// the shared pool, and a test that waits on a blocked server must not
	// hold the connection other requests would reuse.
	tr := &http.Transport{DisableKeepAlives: true, DisableCompression: true}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// QueryForm returns the body and header of a POST /query with the form
// parameters q and params.
func QueryForm(q string, params url.Values) (io.Reader, http.Header) {
	v := url.Values{}
	for k, vs := range params {
		v[k] = vs
	}
	v.Set("q", q)
	return strings.NewReader(v.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
}

// JSONDocuments splits a chunked JSON response into its documents, each
// checked to be one complete JSON value; whitespace between them is
// skipped.
func JSONDocuments(body []byte) ([]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var docs []json.RawMessage
	for {
		var doc json.RawMessage
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return docs, fmt.Errorf("document %d at byte %d: %w", len(docs), dec.InputOffset(), err)
		}
		docs = append(docs, doc)
	}
}

// MsgpackText renders a msgpack response (one document, or the stream of
// documents of a chunked answer) as text, one document a line, in the
// order the server wrote the map keys: maps and arrays as in JSON, strings
// JSON-quoted, floats always with a '.' or an exponent (2.0, not 2) so they
// differ from integers, unsigned integers with a "u" suffix, and msgpack's
// time extension as @ and the RFC 3339 time in UTC.
func MsgpackText(body []byte) (string, error) {
	r := msgp.NewReader(bytes.NewReader(body))
	var out strings.Builder
	for n := 0; ; n++ {
		if _, err := r.NextType(); err != nil {
			if errors.Is(err, io.EOF) {
				return out.String(), nil
			}
			return out.String(), fmt.Errorf("document %d: %w", n, err)
		}
		if n > 0 {
			out.WriteByte('\n')
		}
		if err := msgpackValue(&out, r); err != nil {
			return out.String(), fmt.Errorf("document %d: %w", n, err)
		}
	}
}

func msgpackValue(out *strings.Builder, r *msgp.Reader) error {
	typ, err := r.NextType()
	if err != nil {
		return err
	}
	switch typ {
	case msgp.MapType:
		n, err := r.ReadMapHeader()
		if err != nil {
			return err
		}
		out.WriteByte('{')
		for i := range n {
			if i > 0 {
				out.WriteByte(',')
			}
			k, err := r.ReadString()
			if err != nil {
				return err
			}
			out.WriteString(strconv.Quote(k))
			out.WriteByte(':')
			if err := msgpackValue(out, r); err != nil {
				return err
			}
		}
		out.WriteByte('}')
	case msgp.ArrayType:
		n, err := r.ReadArrayHeader()
		if err != nil {
			return err
		}
		out.WriteByte('[')
		for i := range n {
			if i > 0 {
				out.WriteByte(',')
			}
			if err := msgpackValue(out, r); err != nil {
				return err
			}
		}
		out.WriteByte(']')
	case msgp.StrType:
		v, err := r.ReadString()
		if err != nil {
			return err
		}
		out.WriteString(strconv.Quote(v))
	case msgp.IntType:
		v, err := r.ReadInt64()
		if err != nil {
			return err
		}
		out.WriteString(strconv.FormatInt(v, 10))
	case msgp.UintType:
		v, err := r.ReadUint64()
		if err != nil {
			return err
		}
		out.WriteString(strconv.FormatUint(v, 10) + "u")
	case msgp.Float64Type, msgp.Float32Type:
		v, err := r.ReadFloat64()
		if err != nil {
			return err
		}
		s := strconv.FormatFloat(v, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEIN") {
			s += ".0"
		}
		out.WriteString(s)
	case msgp.BoolType:
		v, err := r.ReadBool()
		if err != nil {
			return err
		}
		out.WriteString(strconv.FormatBool(v))
	case msgp.NilType:
		if err := r.ReadNil(); err != nil {
			return err
		}
		out.WriteString("null")
	case msgp.TimeType:
		v, err := r.ReadTime()
		if err != nil {
			return err
		}
		out.WriteString("@" + v.UTC().Format(time.RFC3339Nano))
	default:
		return fmt.Errorf("unexpected msgpack type %v", typ)
	}
	return nil
}

// ProcMemory is a process's resident memory from /proc/PID/status, in
// bytes: RSS now and its high-water mark since the process started.
type ProcMemory struct {
	RSS, HWM int64
}

// Memory reads the server's resident memory (Linux only).
func (s *Server) Memory() (ProcMemory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.PID()))
	if err != nil {
		return ProcMemory{}, err
	}
	var m ProcMemory
	for line := range strings.SplitSeq(string(b), "\n") {
		key, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var dst *int64
		switch key {
		case "VmRSS":
			dst = &m.RSS
		case "VmHWM":
			dst = &m.HWM
		default:
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return m, fmt.Errorf("/proc/%d/status %s: %w", s.PID(), key, err)
		}
		*dst = kb << 10
	}
	return m, nil
}

// RunningQuery is one row of SHOW QUERIES.
type RunningQuery struct {
	ID       uint64
	Query    string
	Database string
}

// RunningQueries answers SHOW QUERIES.
func (s *Server) RunningQueries() []RunningQuery {
	s.t.Helper()
	body := s.MustQuery("SHOW QUERIES", nil)
	var resp struct {
		Results []struct {
			Error  string
			Series []struct {
				Columns []string
				Values  [][]any
			}
		}
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&resp); err != nil || len(resp.Results) != 1 || resp.Results[0].Error != "" {
		s.t.Fatalf("SHOW QUERIES answered %s (%v)", body, err)
	}
	var out []RunningQuery
	for _, row := range resp.Results[0].Series {
		col := map[string]int{}
		for i, c := range row.Columns {
			col[c] = i
		}
		for _, v := range row.Values {
			var q RunningQuery
			if n, ok := v[col["qid"]].(json.Number); ok {
				id, err := strconv.ParseUint(n.String(), 10, 64)
				if err != nil {
					s.t.Fatalf("SHOW QUERIES qid %v: %v", n, err)
				}
				q.ID = id
			}
			q.Query, _ = v[col["query"]].(string)
			q.Database, _ = v[col["database"]].(string)
			out = append(out, q)
		}
	}
	return out
}

// CPUTime returns the user and system CPU time the server has used, from
// /proc/PID/stat (Linux only).
func (s *Server) CPUTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.PID()))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; the fields after its
	// closing parenthesis start with the state (field 3).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", s.PID())
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", s.PID(), len(f))
	}
	// utime and stime are fields 14 and 15, in clock ticks of 1/100 s
	// (USER_HZ is 100 on every Linux architecture Go supports).
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", s.PID(), err)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}
