//go:build linux

package evloop

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// harness runs an Engine that hands each connection's bytes and close to
// the test.
type harness struct {
	t      *testing.T
	e      *Engine
	ln     net.Listener
	data   chan []byte
	closed chan error
	onData func(c *Conn, b []byte)
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, data: make(chan []byte, 1024), closed: make(chan error, 64)}
	cfg.OnData = func(c *Conn, b []byte) {
		if h.onData != nil {
			h.onData(c, b)
			return
		}
		h.data <- append([]byte(nil), b...)
	}
	cfg.OnClose = func(c *Conn, err error) { h.closed <- err }
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.e, h.ln = e, ln
	t.Cleanup(func() { _ = ln.Close(); e.Stop() })
	return h
}

// pair returns a client connection and the server side on the loop.
func (h *harness) pair() (net.Conn, *Conn) {
	h.t.Helper()
	client, err := net.Dial("tcp", h.ln.Addr().String())
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = client.Close() })
	server, err := h.ln.Accept()
	if err != nil {
		h.t.Fatal(err)
	}
	c, err := h.e.Add(server, "session")
	if err != nil {
		h.t.Fatal(err)
	}
	return client, c
}

func (h *harness) waitClosed() error {
	h.t.Helper()
	select {
	case err := <-h.closed:
		return err
	case <-time.After(5 * time.Second):
		h.t.Fatal("OnClose did not run")
		return nil
	}
}

func readN(t *testing.T, r io.Reader, n int) []byte {
	t.Helper()
	if c, ok := r.(net.Conn); ok {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		t.Fatalf("reading %d bytes: %v", n, err)
	}
	return b
}

func TestEchoBothWays(t *testing.T) {
	h := newHarness(t, Config{})
	h.onData = func(c *Conn, b []byte) { _, _ = c.Write(b) }
	client, c := h.pair()
	if c.Session() != "session" {
		t.Fatalf("Session() = %v", c.Session())
	}
	for _, msg := range []string{"hello", "", "a longer message, twice", "x"} {
		if msg == "" {
			continue
		}
		if _, err := client.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		if got := readN(t, client, len(msg)); string(got) != msg {
			t.Fatalf("echo = %q, want %q", got, msg)
		}
	}
}

func TestPeerCloseRunsOnCloseOnceWithEOF(t *testing.T) {
	h := newHarness(t, Config{})
	client, c := h.pair()
	_ = client.Close()
	if err := h.waitClosed(); !errors.Is(err, io.EOF) {
		t.Fatalf("OnClose err = %v, want io.EOF", err)
	}
	_ = c.Close() // already closed: no second OnClose
	if _, err := c.Write([]byte("late")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after close = %v, want ErrClosed", err)
	}
	select {
	case err := <-h.closed:
		t.Fatalf("second OnClose (%v)", err)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestCloseEndsTheClientsStream(t *testing.T) {
	h := newHarness(t, Config{})
	client, c := h.pair()
	if _, err := c.Write([]byte("bye")); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	if err := h.waitClosed(); err != nil {
		t.Fatalf("OnClose err = %v, want nil", err)
	}
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(client)
	if err != nil || string(got) != "bye" {
		t.Fatalf("client read %q, %v; want \"bye\" then EOF", got, err)
	}
}

// A client that reads slowly still gets every byte, in order: what the
// socket does not take waits in the backlog.
func TestBacklogIsDeliveredInOrder(t *testing.T) {
	h := newHarness(t, Config{MaxWriteBuffer: 64 << 20})
	client, c := h.pair()
	var want bytes.Buffer
	for i := range 4000 {
		chunk := bytes.Repeat([]byte{byte(i)}, 1000)
		want.Write(chunk)
		if _, err := c.Write(chunk); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	c.mu.Lock()
	backlog := len(c.pending)
	c.mu.Unlock()
	if backlog == 0 {
		t.Fatal("4 MB went out without a backlog: the test does not exercise it")
	}
	if got := readN(t, client, want.Len()); !bytes.Equal(got, want.Bytes()) {
		t.Fatal("bytes differ from what was written")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		drained := c.pending == nil
		c.mu.Unlock()
		if drained {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("backlog not released after it was written")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOverflowClosesTheConnection(t *testing.T) {
	h := newHarness(t, Config{MaxWriteBuffer: 256 << 10})
	_, c := h.pair()
	chunk := make([]byte, 64<<10)
	var err error
	for i := 0; i < 1000 && err == nil; i++ {
		_, err = c.Write(chunk)
	}
	if !errors.Is(err, ErrOverflow) {
		t.Fatalf("Write = %v, want ErrOverflow", err)
	}
	if err := h.waitClosed(); !errors.Is(err, ErrOverflow) {
		t.Fatalf("OnClose err = %v, want ErrOverflow", err)
	}
}

func TestStopClosesEveryConnection(t *testing.T) {
	h := newHarness(t, Config{Loops: 2})
	var clients []net.Conn
	for range 10 {
		client, _ := h.pair()
		clients = append(clients, client)
	}
	h.e.Stop()
	for range clients {
		if err := h.waitClosed(); err != nil {
			t.Fatalf("OnClose err = %v, want nil", err)
		}
	}
	for _, client := range clients {
		_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := client.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
			t.Fatalf("client read after Stop = %v, want EOF", err)
		}
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() { c, _ := net.Dial("tcp", ln.Addr().String()); time.Sleep(100 * time.Millisecond); _ = c.Close() }()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.Add(server, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Add after Stop = %v, want ErrClosed", err)
	}
	// A failed Add leaves the conn to its owner, open.
	if _, err := server.Write([]byte("still mine")); err != nil {
		t.Fatalf("conn after a failed Add: %v", err)
	}
	_ = server.Close()
}

// Many connections written to from many goroutines at once, while their
// clients write too: every byte arrives, each stream in order.
func TestConcurrentWritersAndReaders(t *testing.T) {
	h := newHarness(t, Config{Loops: 2})
	var mu sync.Mutex
	received := map[*Conn]int{}
	h.onData = func(c *Conn, b []byte) {
		mu.Lock()
		received[c] += len(b)
		mu.Unlock()
	}
	const conns, writes, size = 20, 200, 100
	var wg sync.WaitGroup
	for range conns {
		client, c := h.pair()
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range writes {
				if _, err := c.Write(bytes.Repeat([]byte{byte(i)}, size)); err != nil {
					t.Errorf("write: %v", err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			got := readN(t, client, writes*size)
			for i := range writes {
				if got[i*size] != byte(i) || got[i*size+size-1] != byte(i) {
					t.Errorf("write %d arrived out of order", i)
					return
				}
			}
			if _, err := client.Write(make([]byte, 5000)); err != nil {
				t.Errorf("client write: %v", err)
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		total := 0
		for _, n := range received {
			total += n
		}
		mu.Unlock()
		if total == conns*5000 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server read %d bytes, want %d", total, conns*5000)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A detached connection is the Go runtime's again: it reads what the
// client sends next, writes reach the client, and the loop forgets it
// (no OnClose).
func TestDetachHandsTheSocketBack(t *testing.T) {
	h := newHarness(t, Config{})
	client, c := h.pair()
	if _, err := client.Write([]byte("first")); err != nil {
		t.Fatal(err)
	}
	if got := <-h.data; string(got) != "first" {
		t.Fatalf("OnData got %q", got)
	}
	c.SetSession("replaced")
	if c.Session() != "replaced" {
		t.Fatalf("Session() = %v after SetSession", c.Session())
	}
	nc, err := c.Detach()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := client.Write([]byte("second")); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, nc, len("second")); string(got) != "second" {
		t.Fatalf("detached conn read %q", got)
	}
	if _, err := nc.Write([]byte("reply")); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, client, len("reply")); string(got) != "reply" {
		t.Fatalf("client read %q", got)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Detach = %v, want ErrClosed", err)
	}
	select {
	case b := <-h.data:
		t.Fatalf("the loop still read %q after Detach", b)
	case err := <-h.closed:
		t.Fatalf("OnClose(%v) after Detach", err)
	case <-time.After(100 * time.Millisecond):
	}
}

// Connections closed by other goroutines while Stop runs: every OnClose
// runs once, and Stop returns after those under way (run with -race).
func TestCloseRacingStop(t *testing.T) {
	h := newHarness(t, Config{Loops: 2})
	const n = 20
	conns := make([]*Conn, n)
	for i := range conns {
		_, conns[i] = h.pair()
	}
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() { defer wg.Done(); _ = c.Close() }()
	}
	h.e.Stop()
	wg.Wait()
	for range n {
		_ = h.waitClosed()
	}
	select {
	case err := <-h.closed:
		t.Fatalf("an extra OnClose (%v)", err)
	case <-time.After(50 * time.Millisecond):
	}
}
