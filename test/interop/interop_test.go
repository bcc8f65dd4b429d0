//go:build unix

// Package interop_test runs the official socket.io-client (Node.js, pinned in
// package.json) against herald's interop server (./server).
//
// It needs node and test/interop/node_modules; without them it skips. Install:
//
//	cd test/interop && npm ci
//
// (scripts/test.sh does that for you.)
//
// Protocol between this harness and client.test.mjs for the "server restart"
// test: the Node test writes "restart" into $HERALD_RESTART_FILE; the harness
// notices (polling every 50 ms), kills the server, truncates the file, starts
// the server again on the same address, and writes "restarted".
package interop_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/testenv"
)

const (
	buildTimeout   = 5 * time.Minute
	nodeRunTimeout = 60 * time.Second // the whole `node --test` run
	healthTimeout  = 15 * time.Second // server start until GET /healthz == 200
	restartTimeout = 15 * time.Second // kill + start again (with retries) during a restart
	killTimeout    = 5 * time.Second
	pollEvery      = 50 * time.Millisecond
)

func TestSocketIOClientInterop(t *testing.T) {
	if testing.Short() {
		t.Skip("interop test skipped in -short mode")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Skip(t, "node not found in PATH: install Node.js >= 18 (e.g. apt-get install nodejs npm), "+
			"then run `npm ci` in test/interop (or just run scripts/test.sh)")
	}
	if _, err := os.Stat(filepath.Join("node_modules", "socket.io-client", "package.json")); err != nil {
		testenv.Skip(t, "test/interop/node_modules is missing: run `npm ci` in test/interop (or just run scripts/test.sh)")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go command not found in PATH: %v", err)
	}

	dir := t.TempDir()
	bin := filepath.Join(dir, "server")
	{
		ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
		out, err := exec.CommandContext(ctx, goBin, "build", "-o", bin, "./server").CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("go build ./test/interop/server: %v\n%s", err, out)
		}
	}

	srv := &server{bin: bin, addr: freeAddr(t), log: newLineLogger(t, "server: ")}
	defer srv.stop() // also on t.Fatal
	if err := srv.start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("interop server listening on %s", srv.addr)

	restartFile := filepath.Join(dir, "restart")
	if err := os.WriteFile(restartFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	// The watcher owns srv while node runs: it handles restart requests and
	// notices unexpected server exits.
	stopWatch := make(chan struct{})
	watchErrs := make(chan error, 16)
	var watchWG sync.WaitGroup
	watchWG.Add(1)
	go func() {
		defer watchWG.Done()
		watch(srv, restartFile, stopWatch, watchErrs)
	}()

	ctx, cancel := context.WithTimeout(context.Background(), nodeRunTimeout)
	defer cancel()
	nodeLog := newLineLogger(t, "node: ")
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "client.test.mjs")
	cmd.Env = append(os.Environ(),
		"HERALD_URL=http://"+srv.addr,
		"HERALD_RESTART_FILE="+restartFile,
		"NO_COLOR=1",
		"FORCE_COLOR=0",
	)
	cmd.Stdout = nodeLog
	cmd.Stderr = nodeLog
	// node --test runs the file in a child process: kill the whole group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	runErr := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // leftovers, if any
	}
	nodeLog.flush()

	close(stopWatch)
	watchWG.Wait()
	close(watchErrs)
	for err := range watchErrs {
		t.Error(err)
	}

	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		t.Fatalf("node --test did not finish within %v (killed)", nodeRunTimeout)
	case runErr != nil:
		t.Fatalf("node --test client.test.mjs failed: %v (see the node: lines above)", runErr)
	}
}

// watch polls restartFile and restarts srv on request, until stop is closed.
func watch(srv *server, restartFile string, stop <-chan struct{}, errs chan<- error) {
	report := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-srv.exited():
			report(fmt.Errorf("interop server exited unexpectedly: %v", srv.proc.err))
			srv.proc = nil
		case <-tick.C:
			b, err := os.ReadFile(restartFile)
			if err != nil || strings.TrimSpace(string(b)) != "restart" {
				continue
			}
			srv.log.printf("harness: restart requested")
			srv.kill()
			if err := os.Truncate(restartFile, 0); err != nil {
				report(fmt.Errorf("truncating %s: %v", restartFile, err))
			}
			if err := srv.startRetrying(restartTimeout); err != nil {
				report(fmt.Errorf("restarting the interop server: %v", err))
				continue
			}
			if err := writeFileAtomic(restartFile, "restarted"); err != nil {
				report(err)
				continue
			}
			srv.log.printf("harness: server restarted on %s", srv.addr)
		}
	}
}

// server is the interop server process; restarted in place on the same addr.
type server struct {
	bin, addr string
	log       *lineLogger

	proc *proc // the running process, nil when none
}

type proc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has been waited for
	err  error         // cmd.Wait's result, valid once done is closed
}

// exited is closed when the running process exits; nil (blocks forever in a
// select) when there is none.
func (s *server) exited() <-chan struct{} {
	if s.proc == nil {
		return nil
	}
	return s.proc.done
}

func (s *server) start() error {
	cmd := exec.Command(s.bin, "-listen", s.addr)
	cmd.Stdout = s.log
	cmd.Stderr = s.log
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting interop server: %v", err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	s.proc = p
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(healthTimeout)
	var lastErr error
	for {
		select {
		case <-p.done:
			s.proc = nil
			return fmt.Errorf("interop server exited before answering /healthz: %v", p.err)
		default:
		}
		resp, err := client.Get("http://" + s.addr + "/healthz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /healthz: %s", resp.Status)
		}
		lastErr = err
		if time.Now().After(deadline) {
			s.kill()
			return fmt.Errorf("interop server on %s not healthy after %v: %v", s.addr, healthTimeout, lastErr)
		}
		time.Sleep(pollEvery)
	}
}

// startRetrying retries start (e.g. while the port is still being released).
func (s *server) startRetrying(total time.Duration) error {
	deadline := time.Now().Add(total)
	for {
		err := s.start()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		s.log.printf("harness: start failed, retrying: %v", err)
		time.Sleep(100 * time.Millisecond)
	}
}

// kill stops the server abruptly (SIGKILL, like a crash) and waits for it.
func (s *server) kill() {
	p := s.proc
	if p == nil {
		return
	}
	s.proc = nil
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
	case <-time.After(killTimeout):
		s.log.printf("harness: server pid %d did not exit within %v", p.cmd.Process.Pid, killTimeout)
	}
}

func (s *server) stop() {
	s.kill()
	s.log.flush()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func writeFileAtomic(name, content string) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

// lineLogger forwards whole lines written to it to t.Log.
type lineLogger struct {
	t      *testing.T
	prefix string
	mu     sync.Mutex
	buf    []byte
}

func newLineLogger(t *testing.T, prefix string) *lineLogger {
	return &lineLogger{t: t, prefix: prefix}
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.t.Log(l.prefix + strings.TrimRight(string(l.buf[:i]), "\r"))
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

func (l *lineLogger) printf(format string, args ...any) {
	fmt.Fprintf(l, format+"\n", args...)
}

func (l *lineLogger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.t.Log(l.prefix + string(l.buf))
		l.buf = nil
	}
}
