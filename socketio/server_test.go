package socketio_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldrt/herald/engineio"
	"github.com/heraldrt/herald/socketio"
)

// waitFor bounds every wait in these tests.
const waitFor = 5 * time.Second

// ---------------------------------------------------------------- harness

// harness runs a real socketio.Server behind httptest at /socket.io/;
// tests speak raw Engine.IO and Socket.IO packets to it.
type harness struct {
	t    *testing.T
	io   *socketio.Server
	ts   *httptest.Server
	http *http.Client

	sockets     chan *socketio.Socket // from the OnConnection of track'ed namespaces
	disconnects chan disconnect
	seen        map[string]string // disconnect reasons received so far, by socket id
}

// disconnect is one OnDisconnect call.
type disconnect struct{ id, nsp, reason string }

func newHarness(t *testing.T, opts *socketio.Options) *harness {
	t.Helper()
	srv, err := socketio.NewServer(opts)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	h := &harness{
		t: t, io: srv,
		sockets:     make(chan *socketio.Socket, 256),
		disconnects: make(chan disconnect, 256),
		seen:        map[string]string{},
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	h.ts = httptest.NewServer(mux)
	h.http = &http.Client{Transport: h.ts.Client().Transport, Timeout: waitFor}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		h.ts.Close()
	})
	return h
}

// track makes nsp's OnConnection run setup (if any) for each socket,
// record its disconnect reason, and hand it to the test (nextSocket).
func (h *harness) track(nsp *socketio.Namespace, setup func(*socketio.Socket)) {
	nsp.OnConnection(func(s *socketio.Socket) {
		s.OnDisconnect(func(reason string) {
			h.disconnects <- disconnect{s.ID(), s.Namespace().Name(), reason}
		})
		if setup != nil {
			setup(s)
		}
		h.sockets <- s
	})
}

func (h *harness) nextSocket() *socketio.Socket {
	h.t.Helper()
	select {
	case s := <-h.sockets:
		return s
	case <-time.After(waitFor):
		h.t.Fatal("OnConnection did not run")
		return nil
	}
}

// expectDisconnect waits for the OnDisconnect of socket id.
func (h *harness) expectDisconnect(id, reason string) {
	h.t.Helper()
	deadline := time.After(waitFor)
	for {
		if got, ok := h.seen[id]; ok {
			if got != reason {
				h.t.Fatalf("socket %s: OnDisconnect(%q), want %q", id, got, reason)
			}
			return
		}
		select {
		case d := <-h.disconnects:
			if _, dup := h.seen[d.id]; dup {
				h.t.Fatalf("OnDisconnect ran twice for socket %s", d.id)
			}
			h.seen[d.id] = d.reason
		case <-deadline:
			h.t.Fatalf("socket %s: OnDisconnect not called", id)
		}
	}
}

// expectNoDisconnect fails if an OnDisconnect has run.
func (h *harness) expectNoDisconnect() {
	h.t.Helper()
	for id, r := range h.seen {
		h.t.Fatalf("unexpected OnDisconnect(%q) of %s", r, id)
	}
	select {
	case d := <-h.disconnects:
		h.t.Fatalf("unexpected OnDisconnect(%q) of %s", d.reason, d.id)
	default:
	}
}

// awaitConnections waits until the server counts n Engine.IO connections.
func (h *harness) awaitConnections(n int) {
	h.t.Helper()
	deadline := time.Now().Add(waitFor)
	for h.io.ConnectionCount() != n {
		if time.Now().After(deadline) {
			h.t.Fatalf("ConnectionCount() = %d, want %d", h.io.ConnectionCount(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// ------------------------------------------------------- WebSocket client

// client is a raw WebSocket client on /socket.io/: it sends masked frames
// and returns the server's frames one by one, without answering pings.
type client struct {
	t   *testing.T
	nc  net.Conn
	br  *bufio.Reader
	sid string // Engine.IO session id
}

const (
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
)

func dialConn(addr string) (net.Conn, *bufio.Reader, error) {
	nc, err := net.DialTimeout("tcp", addr, waitFor)
	if err != nil {
		return nil, nil, err
	}
	var k [16]byte
	_, _ = rand.Read(k[:])
	key := base64.StdEncoding.EncodeToString(k[:])
	req := "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: " + addr +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
		"\r\nSec-WebSocket-Version: 13\r\n\r\n"
	_ = nc.SetDeadline(time.Now().Add(waitFor))
	if _, err := io.WriteString(nc, req); err != nil {
		nc.Close()
		return nil, nil, err
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.StatusCode != http.StatusSwitchingProtocols ||
		resp.Header.Get("Sec-Websocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		nc.Close()
		return nil, nil, fmt.Errorf("upgrade refused: %s", resp.Status)
	}
	_ = nc.SetDeadline(time.Time{})
	return nc, br, nil
}

// dial opens a WebSocket and reads the Engine.IO open packet.
func (h *harness) dial() *client {
	h.t.Helper()
	nc, br, err := dialConn(h.ts.Listener.Addr().String())
	if err != nil {
		h.t.Fatalf("dial: %v", err)
	}
	h.t.Cleanup(func() { nc.Close() })
	c := &client{t: h.t, nc: nc, br: br}
	op, p := c.next()
	if op != opText || !strings.HasPrefix(string(p), "0{") {
		h.t.Fatalf("open packet: op %#x %q", op, p)
	}
	var o struct{ Sid string }
	if err := json.Unmarshal(p[1:], &o); err != nil || o.Sid == "" {
		h.t.Fatalf("open packet %q: %v", p, err)
	}
	c.sid = o.Sid
	return c
}

// frame encodes a masked, final client frame.
func frame(op byte, payload []byte) []byte {
	out := []byte{0x80 | op}
	switch n := len(payload); {
	case n < 126:
		out = append(out, 0x80|byte(n))
	case n <= 0xffff:
		out = append(out, 0x80|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, 0x80|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	var key [4]byte
	_, _ = rand.Read(key[:])
	out = append(out, key[:]...)
	for i, c := range payload {
		out = append(out, c^key[i&3])
	}
	return out
}

func (c *client) write(b []byte) {
	c.t.Helper()
	_ = c.nc.SetWriteDeadline(time.Now().Add(waitFor))
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// send writes Engine.IO text packets, one frame each ("40", "42[...]").
func (c *client) send(packets ...string) {
	c.t.Helper()
	for _, p := range packets {
		c.write(frame(opText, []byte(p)))
	}
}

func (c *client) sendBinary(b []byte) { c.t.Helper(); c.write(frame(opBinary, b)) }

func readFrame(br *bufio.Reader) (op byte, payload []byte, err error) {
	var hdr [2]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return 0, nil, err
	}
	if hdr[0]&0x80 == 0 || hdr[1]&0x80 != 0 {
		return 0, nil, fmt.Errorf("unexpected frame header %x", hdr)
	}
	n := uint64(hdr[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(br, ext[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(br, ext[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if n > 1<<24 {
		return 0, nil, fmt.Errorf("frame of %d bytes", n)
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(br, payload)
	return hdr[0] & 0x0f, payload, err
}

// next returns the server's next frame.
func (c *client) next() (byte, []byte) {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(waitFor))
	op, p, err := readFrame(c.br)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return op, p
}

// expect reads the next frame: text packets must equal the strings given,
// in order.
func (c *client) expect(packets ...string) {
	c.t.Helper()
	for _, want := range packets {
		op, p := c.next()
		if op != opText || string(p) != want {
			c.t.Fatalf("got op %#x %q, want %q", op, p, want)
		}
	}
}

func (c *client) expectBinary(want []byte) {
	c.t.Helper()
	op, p := c.next()
	if op != opBinary || !bytes.Equal(p, want) {
		c.t.Fatalf("got op %#x %q, want binary %x", op, p, want)
	}
}

// expectClosed reads until the server ends the connection (skipping data
// frames, such as the "1" close packet).
func (c *client) expectClosed() {
	c.t.Helper()
	for range 10000 {
		_ = c.nc.SetReadDeadline(time.Now().Add(waitFor))
		op, _, err := readFrame(c.br)
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			c.t.Fatal("the server did not close the connection")
		case err != nil, op == opClose:
			return
		}
	}
	c.t.Fatal("the server did not close the connection")
}

// connect joins nsp ("/" or "/admin") with an optional auth JSON and
// returns the socket id from the CONNECT reply, checking that the reply
// holds only "sid".
func (c *client) connect(nsp, auth string) string {
	c.t.Helper()
	c.send("40" + nspPrefix(nsp) + auth)
	return c.expectConnect(nsp)
}

func nspPrefix(nsp string) string {
	if nsp == "/" {
		return ""
	}
	return nsp + ","
}

func (c *client) expectConnect(nsp string) string {
	c.t.Helper()
	op, p := c.next()
	for op == opText && string(p) == "2" { // a ping on a slow machine
		c.send("3")
		op, p = c.next()
	}
	prefix := "40" + nspPrefix(nsp)
	if op != opText || !strings.HasPrefix(string(p), prefix) {
		c.t.Fatalf("CONNECT reply %q, want prefix %q", p, prefix)
	}
	var body map[string]any
	if err := json.Unmarshal(p[len(prefix):], &body); err != nil {
		c.t.Fatalf("CONNECT reply %q: %v", p, err)
	}
	sid, ok := body["sid"].(string)
	if !ok || len(body) != 1 || sid == "" {
		c.t.Fatalf("CONNECT reply %q: want exactly a string sid", p)
	}
	if sid == c.sid {
		c.t.Errorf("the socket id is the Engine.IO id %q", sid)
	}
	return sid
}

// ------------------------------------------------------- polling client

type reply struct {
	status int
	body   string
}

func (h *harness) polling(method, query, body string) reply {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.ts.URL+"/socket.io/?"+query, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	resp, err := h.http.Do(req)
	if err != nil {
		h.t.Fatalf("%s ?%s: %v", method, query, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return reply{resp.StatusCode, string(b)}
}

func expectReply(t *testing.T, r reply, status int, body string) {
	t.Helper()
	if r.status != status || r.body != body {
		t.Fatalf("got %d %q, want %d %q", r.status, r.body, status, body)
	}
}

// ---------------------------------------------------------------- tests

func emitAuth(s *socketio.Socket) { _ = s.Emit("auth", s.Auth()) }

func TestConnectMainNamespace(t *testing.T) {
	h := newHarness(t, nil)
	h.track(h.io.Of("/"), emitAuth)

	c := h.dial()
	sid := c.connect("/", "")
	c.expect(`42["auth",{}]`)
	s := h.nextSocket()
	if s.ID() != sid || s.Namespace().Name() != "/" || s.Transport() != "websocket" {
		t.Errorf("socket %q in %q over %q; client was told %q", s.ID(), s.Namespace().Name(), s.Transport(), sid)
	}
	if got := h.io.Of("/").Socket(sid); got != s {
		t.Errorf("Namespace.Socket(%q) = %v", sid, got)
	}

	c2 := h.dial()
	c2.connect("/", `{"token":"123"}`)
	c2.expect(`42["auth",{"token":"123"}]`)
	if s2 := h.nextSocket(); string(s2.Auth()) != `{"token":"123"}` {
		t.Errorf("Auth() = %s", s2.Auth())
	}
	if n := h.io.Of("/").SocketCount(); n != 2 {
		t.Errorf("SocketCount() = %d", n)
	}
	if n := h.io.ConnectionCount(); n != 2 {
		t.Errorf("ConnectionCount() = %d", n)
	}
}

func TestConnectCustomNamespace(t *testing.T) {
	h := newHarness(t, nil)
	h.track(h.io.Of("/custom"), emitAuth)
	h.track(h.io.Of("/"), emitAuth)

	c := h.dial()
	c.connect("/custom", "")
	c.expect(`42/custom,["auth",{}]`)
	if s := h.nextSocket(); s.Namespace().Name() != "/custom" {
		t.Errorf("namespace %q", s.Namespace().Name())
	}
	c2 := h.dial()
	c2.connect("/custom", `{"token":"abc"}`)
	c2.expect(`42/custom,["auth",{"token":"abc"}]`)
	h.nextSocket()

	// "40/custom" without the comma names the namespace too; and one
	// connection may join several namespaces.
	c3 := h.dial()
	c3.send("40/custom")
	c3.expectConnect("/custom")
	c3.expect(`42/custom,["auth",{}]`)
	c3.connect("/", "")
	c3.expect(`42["auth",{}]`)
	h.nextSocket()
	h.nextSocket()
	if n := h.io.Of("/custom").SocketCount(); n != 3 {
		t.Errorf("/custom SocketCount() = %d", n)
	}
}

func TestConnectInvalidNamespace(t *testing.T) {
	h := newHarness(t, nil)
	c := h.dial()
	c.send("40/random")
	c.expect(`44/random,{"message":"Invalid namespace"}`)
	c.send("40/random,{}")
	c.expect(`44/random,{"message":"Invalid namespace"}`)
	// The connection stays usable.
	c.connect("/", "")
	if h.io.Of("/").SocketCount() != 1 {
		t.Error("the socket did not join /")
	}
}

func TestMiddlewareConnectError(t *testing.T) {
	h := newHarness(t, nil)
	auth := func(s *socketio.Socket) error {
		var a struct{ Token string }
		_ = json.Unmarshal(s.Auth(), &a)
		switch a.Token {
		case "good":
			s.SetData("user-1")
			return nil
		case "plain":
			return errors.New("plain failure")
		}
		return &socketio.ConnectError{Message: "not authorized", Data: map[string]any{"code": 401}}
	}
	h.io.Of("/").Use(auth)
	h.io.Of("/admin").Use(auth)
	h.track(h.io.Of("/"), nil)
	h.track(h.io.Of("/admin"), nil)

	c := h.dial()
	c.send(`40{"token":"bad"}`)
	c.expect(`44{"message":"not authorized","data":{"code":401}}`)
	c.send(`40{"token":"plain"}`)
	c.expect(`44{"message":"plain failure"}`)
	c.send(`40/admin,`)
	c.expect(`44/admin,{"message":"not authorized","data":{"code":401}}`)
	if h.io.Of("/").SocketCount() != 0 || h.io.Of("/admin").SocketCount() != 0 {
		t.Fatal("a refused socket joined its namespace")
	}
	// A refusal is not the end of the connection: the client may retry.
	c.connect("/", `{"token":"good"}`)
	if s := h.nextSocket(); s.Data() != "user-1" {
		t.Errorf("Data() = %v, want what the middleware set", s.Data())
	}
}

func TestMiddlewareOrderAndShortCircuit(t *testing.T) {
	h := newHarness(t, nil)
	var calls []string
	var mu sync.Mutex
	record := func(name string, err error) socketio.Middleware {
		return func(*socketio.Socket) error {
			mu.Lock()
			calls = append(calls, name)
			mu.Unlock()
			return err
		}
	}
	h.io.Of("/").Use(record("first", nil))
	h.io.Of("/").Use(record("second", errors.New("stop")))
	h.io.Of("/").Use(record("third", nil))
	c := h.dial()
	c.send("40")
	c.expect(`44{"message":"stop"}`)
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(calls, []string{"first", "second"}) {
		t.Errorf("middleware ran %q", calls)
	}
}

func TestMiddlewarePanic(t *testing.T) {
	h := newHarness(t, nil)
	h.io.Of("/").Use(func(s *socketio.Socket) error {
		if string(s.Auth()) == `{"panic":true}` {
			panic("bug in the application")
		}
		return nil
	})
	h.track(h.io.Of("/"), nil)
	c := h.dial()
	c.send(`40{"panic":true}`)
	c.expect(`44{"message":"server error"}`)
	// The server carries on, for this client and others.
	c.connect("/", "")
	h.nextSocket()
	h.dial().connect("/", "")
	h.nextSocket()
}

func TestMiddlewareBlockingDoesNotBlockOthers(t *testing.T) {
	h := newHarness(t, nil)
	release, unblock := gate(t) // the middleware's goroutine must end
	entered := make(chan struct{}, 1)
	h.io.Of("/").Use(func(s *socketio.Socket) error {
		if string(s.Auth()) == `{"slow":true}` {
			entered <- struct{}{}
			release()
		}
		return nil
	})
	h.track(h.io.Of("/"), nil)

	slow := h.dial()
	slow.send(`40{"slow":true}`)
	select {
	case <-entered:
	case <-time.After(waitFor):
		t.Fatal("middleware not called")
	}
	// While it waits, other clients connect.
	for range 3 {
		h.dial().connect("/", "")
		h.nextSocket()
	}
	unblock()
	slow.expectConnect("/")
	h.nextSocket()
}

func TestConnectTimeout(t *testing.T) {
	const timeout = 100 * time.Millisecond
	h := newHarness(t, &socketio.Options{ConnectTimeout: timeout})
	start := time.Now()
	c := h.dial()
	c.expectClosed() // no CONNECT sent
	if d := time.Since(start); d < timeout-20*time.Millisecond {
		t.Errorf("closed after %v, before the %v connect timeout", d, timeout)
	}
	h.awaitConnections(0)
}

func TestConnectTimeoutCancelledByConnect(t *testing.T) {
	// A client that has connected and left its namespace keeps its
	// connection past the connect timeout: the next frame is a ping.
	h := newHarness(t, &socketio.Options{
		ConnectTimeout: 150 * time.Millisecond,
		EngineIO:       engineio.Options{PingInterval: 500 * time.Millisecond, PingTimeout: time.Second},
	})
	h.track(h.io.Of("/"), nil)
	c := h.dial()
	c.connect("/", "")
	s := h.nextSocket()
	c.send("41")
	h.expectDisconnect(s.ID(), socketio.ReasonClientDisconnect)
	c.expect("2")
	c.send("3")
	c.connect("/", "") // and may join again
	h.nextSocket()
}

func TestClientDisconnectKeepsConnection(t *testing.T) {
	h := newHarness(t, &socketio.Options{
		EngineIO: engineio.Options{PingInterval: 200 * time.Millisecond, PingTimeout: time.Second},
	})
	h.track(h.io.Of("/"), nil)
	c := h.dial()
	c.connect("/", "")
	s := h.nextSocket()
	c.send("41")
	// Nothing answers a DISCONNECT; the next frame is the ping.
	c.expect("2")
	h.expectDisconnect(s.ID(), socketio.ReasonClientDisconnect)
	if h.io.Of("/").SocketCount() != 0 || h.io.ConnectionCount() != 1 {
		t.Errorf("SocketCount %d ConnectionCount %d, want 0 and 1", h.io.Of("/").SocketCount(), h.io.ConnectionCount())
	}
	if err := s.Emit("late"); err != nil && !errors.Is(err, engineio.ErrClosed) {
		t.Errorf("Emit on a disconnected socket: %v", err)
	}
}

func TestCustomNamespaceDisconnect(t *testing.T) {
	h := newHarness(t, nil)
	h.track(h.io.Of("/"), func(s *socketio.Socket) {
		s.On("message", func(e *socketio.Event) {
			args, _ := e.Values()
			_ = s.Emit("message-back", args...)
		})
	})
	h.track(h.io.Of("/custom"), nil)
	c := h.dial()
	c.connect("/", "")
	main := h.nextSocket()
	c.connect("/custom", "")
	custom := h.nextSocket()
	c.send("41/custom,")
	h.expectDisconnect(custom.ID(), socketio.ReasonClientDisconnect)
	c.send(`42["message","message to main namespace"]`)
	c.expect(`42["message-back","message to main namespace"]`)
	// Events for a namespace the client left are dropped.
	c.send(`42/custom,["message","dropped"]`, `42["message","still here"]`)
	c.expect(`42["message-back","still here"]`)
	if h.io.Of("/").Socket(main.ID()) != main {
		t.Error("the main namespace socket was disconnected")
	}
}

func TestDisconnectReasons(t *testing.T) {
	t.Run("server namespace disconnect", func(t *testing.T) {
		h := newHarness(t, nil)
		h.track(h.io.Of("/"), nil)
		h.track(h.io.Of("/admin"), nil)
		c := h.dial()
		c.connect("/", "")
		s := h.nextSocket()
		c.connect("/admin", "")
		a := h.nextSocket()
		a.Disconnect(false)
		c.expect("41/admin,")
		h.expectDisconnect(a.ID(), socketio.ReasonServerDisconnect)
		// The connection and the other namespace carry on.
		if err := s.Emit("still"); err != nil {
			t.Fatal(err)
		}
		c.expect(`42["still"]`)
		if err := a.EmitWithAck("x", time.Second, func(*socketio.Event, error) {}); !errors.Is(err, socketio.ErrDisconnected) {
			t.Errorf("EmitWithAck on a disconnected socket: %v", err)
		}
	})
	t.Run("transport close", func(t *testing.T) {
		h := newHarness(t, nil)
		h.track(h.io.Of("/"), nil)
		h.track(h.io.Of("/admin"), nil)
		c := h.dial()
		c.connect("/", "")
		s := h.nextSocket()
		c.connect("/admin", "")
		a := h.nextSocket()
		c.nc.Close()
		h.expectDisconnect(s.ID(), engineio.ReasonTransportClose)
		h.expectDisconnect(a.ID(), engineio.ReasonTransportClose)
		h.awaitConnections(0)
	})
	t.Run("ping timeout", func(t *testing.T) {
		h := newHarness(t, &socketio.Options{
			EngineIO: engineio.Options{PingInterval: 50 * time.Millisecond, PingTimeout: 50 * time.Millisecond},
		})
		h.track(h.io.Of("/"), nil)
		c := h.dial()
		c.connect("/", "")
		s := h.nextSocket()
		// The client never answers the pings.
		h.expectDisconnect(s.ID(), engineio.ReasonPingTimeout)
		c.expectClosed()
	})
	t.Run("disconnect with close", func(t *testing.T) {
		h := newHarness(t, nil)
		h.track(h.io.Of("/"), nil)
		c := h.dial()
		c.connect("/", "")
		s := h.nextSocket()
		s.Disconnect(true)
		// The DISCONNECT comes first, so that socket.io-client does not
		// reconnect; the server closes the connection after a grace.
		c.expect("41")
		h.expectDisconnect(s.ID(), socketio.ReasonServerDisconnect)
		c.expectClosed()
		h.awaitConnections(0)
	})
}

func TestEvents(t *testing.T) {
	h := newHarness(t, nil)
	events := make(chan *socketio.Event, 16)
	h.track(h.io.Of("/"), func(s *socketio.Socket) {
		s.On("message", func(e *socketio.Event) {
			events <- e
			args, err := e.Values()
			if err == nil {
				_ = s.Emit("message-back", args...)
			}
		})
		s.On("message-with-ack", func(e *socketio.Event) {
			args, _ := e.Values()
			if err := e.Ack(args...); err != nil {
				t.Errorf("Ack: %v", err)
			}
			if err := e.Ack(); !errors.Is(err, socketio.ErrNoAck) {
				t.Errorf("second Ack: %v, want ErrNoAck", err)
			}
		})
		s.On("1", func(e *socketio.Event) { events <- e })
	})
	c := h.dial()
	c.connect("/", "")
	h.nextSocket()

	c.send(`42["message",1,"2",{"3":[true]}]`)
	c.expect(`42["message-back",1,"2",{"3":[true]}]`)
	e := <-events
	if e.Name != "message" || len(e.Args) != 3 || string(e.Args[2]) != `{"3":[true]}` || e.WantsAck() {
		t.Errorf("event %q args %q wantsAck %v", e.Name, e.Args, e.WantsAck())
	}
	var n int
	if err := e.Decode(0, &n); err != nil || n != 1 {
		t.Errorf("Decode(0) = %d, %v", n, err)
	}
	if err := e.Ack(); !errors.Is(err, socketio.ErrNoAck) {
		t.Errorf("Ack without an ack id: %v", err)
	}

	c.send(`42456["message-with-ack",1,"2",{"3":[false]}]`)
	c.expect(`43456[1,"2",{"3":[false]}]`)

	// A numeric event name is an event too.
	c.send(`42[1,"x"]`)
	if e := <-events; e.Name != "1" || len(e.Args) != 1 {
		t.Errorf("numeric event: %q %q", e.Name, e.Args)
	}
	// Events without a handler are ignored.
	c.send(`42["nobody"]`, `42["message"]`)
	c.expect(`42["message-back"]`)
}

func TestServerEmitWithAck(t *testing.T) {
	h := newHarness(t, nil)
	h.track(h.io.Of("/"), nil)
	c := h.dial()
	c.connect("/", "")
	s := h.nextSocket()

	type ack struct {
		e   *socketio.Event
		err error
	}
	acks := make(chan ack, 4)
	fn := func(e *socketio.Event, err error) { acks <- ack{e, err} }
	next := func() ack {
		t.Helper()
		select {
		case a := <-acks:
			return a
		case <-time.After(waitFor):
			t.Fatal("ack callback not called")
			return ack{}
		}
	}

	if err := s.EmitWithAck("question", waitFor, fn, "q", 1); err != nil {
		t.Fatal(err)
	}
	c.expect(`420["question","q",1]`)
	c.send(`430["answer",42]`)
	if a := next(); a.err != nil || len(a.e.Args) != 2 || string(a.e.Args[0]) != `"answer"` || string(a.e.Args[1]) != "42" {
		t.Fatalf("ack %+v", a)
	}

	// No answer in time: ErrAckTimeout, once; a late answer is ignored.
	if err := s.EmitWithAck("slow", 50*time.Millisecond, fn); err != nil {
		t.Fatal(err)
	}
	c.expect(`421["slow"]`)
	if a := next(); !errors.Is(a.err, socketio.ErrAckTimeout) || a.e != nil {
		t.Fatalf("ack %+v, want ErrAckTimeout", a)
	}
	c.send(`431["too late"]`)
	// An answer to an id never used is ignored as well.
	c.send(`4399[]`)

	// The socket goes: pending acks get ErrDisconnected.
	if err := s.EmitWithAck("never", waitFor, fn); err != nil {
		t.Fatal(err)
	}
	c.expect(`422["never"]`)
	c.send("41")
	if a := next(); !errors.Is(a.err, socketio.ErrDisconnected) {
		t.Fatalf("ack %+v, want ErrDisconnected", a)
	}
	select {
	case a := <-acks:
		t.Fatalf("extra ack callback %+v", a)
	default:
	}
}

func TestBinaryEvents(t *testing.T) {
	h := newHarness(t, nil)
	events := make(chan *socketio.Event, 4)
	h.track(h.io.Of("/"), func(s *socketio.Socket) {
		s.On("message", func(e *socketio.Event) {
			events <- e
			args, err := e.Values()
			if err == nil {
				_ = s.Emit("message-back", args...)
			}
		})
		s.On("message-with-ack", func(e *socketio.Event) {
			args, _ := e.Values()
			_ = e.Ack(args...)
		})
	})
	c := h.dial()
	c.connect("/", "")
	s := h.nextSocket()

	c.send(`452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	c.sendBinary([]byte{1, 2, 3})
	c.sendBinary([]byte{4, 5, 6})
	c.expect(`452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	c.expectBinary([]byte{1, 2, 3})
	c.expectBinary([]byte{4, 5, 6})
	e := <-events
	if len(e.Attachments) != 2 || !bytes.Equal(e.Attachments[1], []byte{4, 5, 6}) ||
		string(e.Args[0]) != `{"_placeholder":true,"num":0}` {
		t.Errorf("event args %q attachments %v", e.Args, e.Attachments)
	}

	c.send(`452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	c.sendBinary([]byte{1, 2, 3})
	c.sendBinary([]byte{4, 5, 6})
	c.expect(`462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	c.expectBinary([]byte{1, 2, 3})
	c.expectBinary([]byte{4, 5, 6})

	// Server to client: []byte anywhere in the arguments is an attachment,
	// numbered in order.
	if err := s.Emit("file", []byte{0xca, 0xfe}, map[string]any{"a": []byte{7}, "name": "f"}, []any{1, []byte{}}); err != nil {
		t.Fatal(err)
	}
	c.expect(`453-["file",{"_placeholder":true,"num":0},{"a":{"_placeholder":true,"num":1},"name":"f"},[1,{"_placeholder":true,"num":2}]]`)
	c.expectBinary([]byte{0xca, 0xfe})
	c.expectBinary([]byte{7})
	c.expectBinary([]byte{})

	// A binary answer to a server ack.
	got := make(chan *socketio.Event, 1)
	if err := s.EmitWithAck("need-bytes", waitFor, func(e *socketio.Event, err error) { got <- e }); err != nil {
		t.Fatal(err)
	}
	c.expect(`420["need-bytes"]`)
	c.send(`461-0[{"_placeholder":true,"num":0}]`)
	c.sendBinary([]byte{9})
	select {
	case e := <-got:
		if e == nil || len(e.Attachments) != 1 || !bytes.Equal(e.Attachments[0], []byte{9}) {
			t.Errorf("binary ack %+v", e)
		}
	case <-time.After(waitFor):
		t.Fatal("binary ack not delivered")
	}
}

func TestBinaryOverPolling(t *testing.T) {
	h := newHarness(t, nil)
	events := make(chan *socketio.Event, 1)
	h.track(h.io.Of("/"), func(s *socketio.Socket) {
		s.On("up", func(e *socketio.Event) { events <- e })
	})
	r := h.polling("GET", "EIO=4&transport=polling", "")
	var o struct{ Sid string }
	if r.status != http.StatusOK || json.Unmarshal([]byte(r.body[1:]), &o) != nil {
		t.Fatalf("handshake %d %q", r.status, r.body)
	}
	q := "EIO=4&transport=polling&sid=" + o.Sid
	expectReply(t, h.polling("POST", q, "40"), http.StatusOK, "ok")
	r = h.polling("GET", q, "")
	if !strings.HasPrefix(r.body, `40{"sid":"`) {
		t.Fatalf("CONNECT reply %q", r.body)
	}
	s := h.nextSocket()
	if s.Transport() != "polling" {
		t.Errorf("Transport() = %q", s.Transport())
	}
	// Attachments are "b" + base64 records.
	expectReply(t, h.polling("POST", q, `451-["up",{"_placeholder":true,"num":0}]`+"\x1ebAQI="), http.StatusOK, "ok")
	select {
	case e := <-events:
		if len(e.Attachments) != 1 || !bytes.Equal(e.Attachments[0], []byte{1, 2}) {
			t.Errorf("attachments %v", e.Attachments)
		}
	case <-time.After(waitFor):
		t.Fatal("binary event not delivered")
	}
	if err := s.Emit("down", []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	expectReply(t, h.polling("GET", q, ""), http.StatusOK, `451-["down",{"_placeholder":true,"num":0}]`+"\x1ebAQI=")
}

func TestPollingEventsAndAcks(t *testing.T) {
	h := newHarness(t, nil)
	h.track(h.io.Of("/"), func(s *socketio.Socket) {
		emitAuth(s)
		s.On("message-with-ack", func(e *socketio.Event) {
			args, _ := e.Values()
			_ = e.Ack(args...)
		})
	})
	r := h.polling("GET", "EIO=4&transport=polling", "")
	var o struct{ Sid string }
	if err := json.Unmarshal([]byte(r.body[1:]), &o); err != nil {
		t.Fatal(err)
	}
	q := "EIO=4&transport=polling&sid=" + o.Sid
	expectReply(t, h.polling("POST", q, `40{"token":"x"}`), http.StatusOK, "ok")
	s := h.nextSocket()
	// The CONNECT reply and the event sent on connection come in one batch.
	expectReply(t, h.polling("GET", q, ""), http.StatusOK, `40{"sid":"`+s.ID()+`"}`+"\x1e"+`42["auth",{"token":"x"}]`)
	expectReply(t, h.polling("POST", q, `421["message-with-ack","a"]`+"\x1e"+`422["message-with-ack","b"]`), http.StatusOK, "ok")
	expectReply(t, h.polling("GET", q, ""), http.StatusOK, `431["a"]`+"\x1e"+`432["b"]`)
}

func TestProtocolViolationsCloseConnection(t *testing.T) {
	cases := []struct {
		name   string
		frames []any // string: text frame; []byte: binary frame
	}{
		{"unknown packet type", []any{"4abc"}},
		{"event without array", []any{"42{}"}},
		{"invalid ack id", []any{`42abc["message-with-ack",1]`}},
		{"reserved event name", []any{`42["disconnect"]`}},
		{"empty event", []any{`42[]`}},
		{"CONNECT_ERROR from a client", []any{`44{"message":"x"}`}},
		{"ack without id", []any{`43["x"]`}},
		{"text while attachments are awaited", []any{`451-["ev",{"_placeholder":true,"num":0}]`, `42["ev"]`}},
		{"attachment without a binary packet", []any{[]byte{1, 2}}},
		{"more attachments than MaxAttachments", []any{`453-["ev",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]`}},
		{"attachment count garbage", []any{`45x-["ev"]`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, &socketio.Options{MaxAttachments: 2})
			h.track(h.io.Of("/"), nil)
			c := h.dial()
			c.connect("/", "")
			s := h.nextSocket()
			for _, f := range tc.frames {
				switch f := f.(type) {
				case string:
					c.send(f)
				case []byte:
					c.sendBinary(f)
				}
			}
			c.expectClosed()
			h.awaitConnections(0)
			select {
			case d := <-h.disconnects:
				if d.id != s.ID() {
					t.Errorf("OnDisconnect of %s", d.id)
				}
			case <-time.After(waitFor):
				t.Error("OnDisconnect not called")
			}
		})
	}
	t.Run("default MaxAttachments is 10", func(t *testing.T) {
		h := newHarness(t, nil)
		c := h.dial()
		c.connect("/", "")
		c.send(`4511-["ev"]`)
		c.expectClosed()
	})
}

// rooms sets up four clients on "/" for the room tests: a in r1; b in r1
// and r2; c in r2; d in none.
type roomsFixture struct {
	h       *harness
	clients map[string]*client
	sockets map[string]*socketio.Socket
	names   map[string]string // socket id -> client name
}

func newRooms(t *testing.T) *roomsFixture {
	h := newHarness(t, nil)
	h.track(h.io.Of("/"), nil)
	f := &roomsFixture{h: h, clients: map[string]*client{}, sockets: map[string]*socketio.Socket{}, names: map[string]string{}}
	for _, name := range []string{"a", "b", "c", "d"} {
		c := h.dial()
		c.connect("/", "")
		s := h.nextSocket()
		f.clients[name], f.sockets[name], f.names[s.ID()] = c, s, name
	}
	f.sockets["a"].Join("r1")
	f.sockets["b"].Join("r1", "r2")
	f.sockets["c"].Join("r2")
	return f
}

// reached emits with emit, then a marker to everyone, and returns the
// names of the clients whose next event was the emitted one: over one
// connection, order is kept, so those that were not reached see the
// marker first.
func (f *roomsFixture) reached(t *testing.T, emit func() error) []string {
	t.Helper()
	if err := emit(); err != nil {
		t.Fatal(err)
	}
	if err := f.h.io.Of("/").Emit("marker"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, name := range []string{"a", "b", "c", "d"} {
		c := f.clients[name]
		op, p := c.next()
		switch {
		case op == opText && string(p) == `42["ev"]`:
			got = append(got, name)
			c.expect(`42["marker"]`)
		case op == opText && string(p) == `42["marker"]`:
		default:
			t.Fatalf("client %s got %q", name, p)
		}
	}
	return got
}

func (f *roomsFixture) namesOf(ss []*socketio.Socket) []string {
	var out []string
	for _, s := range ss {
		out = append(out, f.names[s.ID()])
	}
	slices.Sort(out)
	return out
}

func TestRooms(t *testing.T) {
	f := newRooms(t)
	nsp := f.h.io.Of("/")
	a, b, c := f.sockets["a"], f.sockets["b"], f.sockets["c"]
	emit := func(op *socketio.BroadcastOperator) func() error { return func() error { return op.Emit("ev") } }

	for _, tc := range []struct {
		name string
		op   *socketio.BroadcastOperator
		want []string
	}{
		{"To(r1)", nsp.To("r1"), []string{"a", "b"}},
		{"To(r1).Except(r2)", nsp.To("r1").Except("r2"), []string{"a"}},
		{"To(r1, r2) reaches b once", nsp.To("r1", "r2"), []string{"a", "b", "c"}},
		{"To(r1).To(r2)", nsp.To("r1").To("r2"), []string{"a", "b", "c"}},
		{"Except(r1)", nsp.Except("r1"), []string{"c", "d"}},
		{"socket id room", nsp.To(c.ID()), []string{"c"}},
		{"Except(socket id)", nsp.Except(a.ID(), c.ID()), []string{"b", "d"}},
		{"Socket.To excludes the sender", b.To("r1"), []string{"a"}},
		{"Socket.To(r2) from b", b.To("r2"), []string{"c"}},
		{"unknown room", nsp.To("nobody"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := f.reached(t, emit(tc.op)); !slices.Equal(got, tc.want) {
				t.Errorf("reached %q, want %q", got, tc.want)
			}
			if got := f.namesOf(tc.op.Sockets()); !slices.Equal(got, tc.want) {
				t.Errorf("Sockets() = %q, want %q", got, tc.want)
			}
		})
	}
	if got := f.reached(t, func() error { return nsp.Emit("ev") }); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Errorf("Namespace.Emit reached %q", got)
	}
	n, err := nsp.To("r2").EmitCount("ev")
	if err != nil || n != 2 {
		t.Errorf("EmitCount = %d, %v", n, err)
	}
	f.reached(t, func() error { return nil })

	if got := b.Rooms(); !slices.Equal(got, []string{"r1", "r2"}) {
		t.Errorf("b.Rooms() = %q", got)
	}
	b.Leave("r1")
	b.Leave("never-joined")
	if got := f.reached(t, emit(nsp.To("r1"))); !slices.Equal(got, []string{"a"}) {
		t.Errorf("after Leave: reached %q", got)
	}
}

func TestBroadcastSocketsJoinLeaveDisconnect(t *testing.T) {
	f := newRooms(t)
	nsp := f.h.io.Of("/")
	emit := func(op *socketio.BroadcastOperator) func() error { return func() error { return op.Emit("ev") } }

	nsp.To("r2").SocketsJoin("r3", "r4")
	if got := f.reached(t, emit(nsp.To("r3"))); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("after SocketsJoin: r3 reached %q", got)
	}
	nsp.To("r1").SocketsLeave("r3")
	if got := f.reached(t, emit(nsp.To("r3"))); !slices.Equal(got, []string{"c"}) {
		t.Errorf("after SocketsLeave: r3 reached %q", got)
	}
	if got := f.sockets["b"].Rooms(); !slices.Equal(got, []string{"r1", "r2", "r4"}) {
		t.Errorf("b.Rooms() = %q", got)
	}

	nsp.To("r4").DisconnectSockets(false)
	for _, name := range []string{"b", "c"} {
		f.clients[name].expect("41")
		f.h.expectDisconnect(f.sockets[name].ID(), socketio.ReasonServerDisconnect)
	}
	// They left every room; a and d are untouched; b and c keep their
	// connections and may join again.
	if got := f.namesOf(nsp.To("r1", "r2", "r3", "r4").Sockets()); !slices.Equal(got, []string{"a"}) {
		t.Errorf("rooms now hold %q", got)
	}
	if nsp.SocketCount() != 2 || f.h.io.ConnectionCount() != 4 {
		t.Errorf("SocketCount %d ConnectionCount %d", nsp.SocketCount(), f.h.io.ConnectionCount())
	}
	f.clients["b"].connect("/", "")
	f.h.nextSocket()
}

func TestShutdownDisconnectsSockets(t *testing.T) {
	h := newHarness(t, nil)
	h.track(h.io.Of("/"), nil)
	c := h.dial()
	c.connect("/", "")
	s := h.nextSocket()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := h.io.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	c.expect("1")
	c.expectClosed()
	h.expectDisconnect(s.ID(), engineio.ReasonServerShutdown)
	r := h.polling("GET", "EIO=4&transport=polling", "")
	if r.status != http.StatusServiceUnavailable {
		t.Errorf("after Shutdown: %d %q, want 503", r.status, r.body)
	}
}

// TestConcurrentUse drives emits, broadcasts, joins and disconnects from
// many goroutines at once; run with -race.
func TestConcurrentUse(t *testing.T) {
	h := newHarness(t, nil)
	h.track(h.io.Of("/"), func(s *socketio.Socket) {
		s.On("ping", func(e *socketio.Event) { _ = e.Ack("pong") })
	})
	const n = 8
	clients := make([]*client, n)
	socks := make([]*socketio.Socket, n)
	for i := range clients {
		clients[i] = h.dial()
		clients[i].connect("/", "")
		socks[i] = h.nextSocket()
	}
	// Readers drain every client until it closes.
	var readers sync.WaitGroup
	var pongs atomic.Int64
	for _, c := range clients {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				_ = c.nc.SetReadDeadline(time.Now().Add(waitFor))
				op, p, err := readFrame(c.br)
				if err != nil || op == opClose {
					return
				}
				if strings.HasPrefix(string(p), "43") {
					pongs.Add(1)
				}
			}
		}()
	}
	var wg sync.WaitGroup
	nsp := h.io.Of("/")
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := socks[i]
			for j := range 50 {
				room := fmt.Sprintf("room%d", j%3)
				s.Join(room)
				_ = s.Emit("direct", j)
				_ = nsp.To(room).Except("room1").Emit("fan", i, j)
				_ = s.To(room).Emit("others", []byte{byte(j)})
				_ = s.EmitWithAck("ask", time.Second, func(*socketio.Event, error) {})
				_ = nsp.To(room).Sockets()
				s.Leave(room)
			}
		}()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				_, _ = clients[i].nc.Write(frame(opText, []byte(fmt.Sprintf(`42%d["ping"]`, j))))
			}
		}()
	}
	wg.Wait()
	nsp.To("room0").DisconnectSockets(false)
	for _, c := range clients {
		c.nc.Close()
	}
	readers.Wait()
	h.awaitConnections(0)
	if nsp.SocketCount() != 0 {
		t.Errorf("SocketCount() = %d after every client left", nsp.SocketCount())
	}
	t.Logf("%d acks read", pongs.Load())
}

// ---------------------------------------------------------------- benchmark

// holdFDsEnv marks the helper process of BenchmarkBroadcast10k (see
// TestMain).
const holdFDsEnv = "SOCKETIO_TEST_HOLD_FDS"

// BenchmarkBroadcast10k emits one event to rooms of 100, 1,000 and 10,000
// of 10,000 sockets. The packet is encoded once; per recipient the server
// should allocate nothing, so allocs/op must not grow with the number of
// recipients beyond the slice of targets (and the de-duplication set of a
// room broadcast).
//
// "websocket" uses real loopback WebSocket connections, the production
// path: the client ends are handed to helper processes, so that this
// process does not run out of file descriptors. "polling" drives
// long-polling sessions in-process through ServeHTTP; their queues are
// drained between operations with the timer stopped.
func BenchmarkBroadcast10k(b *testing.B) {
	const n = 10_000
	b.Run("websocket", func(b *testing.B) {
		nsp := websocketFleet(b, n)
		benchRooms(b, nsp, nil)
	})
	b.Run("polling", func(b *testing.B) {
		nsp, drain := pollingFleet(b, n)
		benchRooms(b, nsp, drain)
	})
}

// benchRooms runs the broadcast sub-benchmarks on a fleet whose sockets
// are in room "all", the first 1,000 in "k1" and the first 100 in "h100".
func benchRooms(b *testing.B, nsp *socketio.Namespace, drain func(lo, hi int)) {
	for _, bc := range []struct {
		name   string
		op     *socketio.BroadcastOperator
		lo, hi int // the sockets reached, by join order
	}{
		{"room=100", nsp.To("h100"), 0, 100},
		{"room=1k", nsp.To("k1"), 0, 1000},
		{"room=10k", nsp.To("all"), 0, 10_000},
		{"namespace=10k", nsp.Except(), 0, 10_000},
		{"room=10k-except-1k", nsp.To("all").Except("k1"), 1000, 10_000},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				got, err := bc.op.EmitCount("tick", i)
				if err != nil || got != bc.hi-bc.lo {
					b.Fatalf("EmitCount = %d, %v; want %d", got, err, bc.hi-bc.lo)
				}
				if drain != nil {
					b.StopTimer()
					drain(bc.lo, bc.hi)
					b.StartTimer()
				}
			}
		})
	}
}

func joinFleetRooms(s *socketio.Socket, i int) {
	s.Join("all")
	if i < 1000 {
		s.Join("k1")
	}
	if i < 100 {
		s.Join("h100")
	}
}

// websocketFleet connects n WebSocket clients and returns their namespace.
func websocketFleet(b *testing.B, n int) *socketio.Namespace {
	srv, err := socketio.NewServer(&socketio.Options{
		EngineIO: engineio.Options{PingInterval: time.Hour, PingTimeout: time.Hour, MaxWriteBuffer: 64 << 20},
	})
	if err != nil {
		b.Fatal(err)
	}
	var joined atomic.Int64
	nsp := srv.Of("/")
	nsp.OnConnection(func(s *socketio.Socket) {
		joinFleetRooms(s, int(joined.Add(1)-1))
	})
	ts := httptest.NewServer(srv)
	var holders []*exec.Cmd
	var stdins []io.Closer
	b.Cleanup(func() {
		for _, w := range stdins {
			w.Close() // the helpers exit, closing the client ends
		}
		for _, cmd := range holders {
			_ = cmd.Wait()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			b.Error(err)
		}
		ts.Close()
	})
	addr := ts.Listener.Addr().String()
	const batch = 2000
	for done := 0; done < n; done += batch {
		var files []*os.File
		for range min(batch, n-done) {
			nc, br, err := dialConn(addr)
			if err != nil {
				b.Fatal(err)
			}
			_ = nc.SetDeadline(time.Now().Add(waitFor))
			if op, p, err := readFrame(br); err != nil || op != opText || p[0] != '0' {
				b.Fatalf("open packet: %q %v", p, err)
			}
			if _, err := nc.Write(frame(opText, []byte("40"))); err != nil {
				b.Fatal(err)
			}
			if _, p, err := readFrame(br); err != nil || !bytes.HasPrefix(p, []byte("40{")) {
				b.Fatalf("CONNECT reply: %q %v", p, err)
			}
			f, err := nc.(*net.TCPConn).File()
			nc.Close()
			if err != nil {
				b.Fatal(err)
			}
			files = append(files, f)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), holdFDsEnv+"=1")
		cmd.ExtraFiles = files
		stdin, err := cmd.StdinPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		holders, stdins = append(holders, cmd), append(stdins, stdin)
		for _, f := range files {
			f.Close()
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for nsp.SocketCount() != n || joined.Load() != int64(n) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d sockets connected", nsp.SocketCount(), n)
		}
		time.Sleep(time.Millisecond)
	}
	return nsp
}

// pollingFleet opens n long-polling sessions through ServeHTTP, without
// sockets, and returns their namespace and a function that empties the
// queues of sessions lo to hi-1 (by join order).
func pollingFleet(b *testing.B, n int) (*socketio.Namespace, func(lo, hi int)) {
	srv, err := socketio.NewServer(&socketio.Options{
		EngineIO: engineio.Options{PingInterval: time.Hour, PingTimeout: time.Hour},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			b.Error(err)
		}
	})
	var joined atomic.Int64
	nsp := srv.Of("/")
	nsp.OnConnection(func(s *socketio.Socket) { joinFleetRooms(s, int(joined.Add(1)-1)) })
	serve := func(method, target, body string) string {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest(method, target, rd))
		if w.Code != http.StatusOK {
			b.Fatalf("%s %s: %d %q", method, target, w.Code, w.Body)
		}
		return w.Body.String()
	}
	targets := make([]string, n)
	for i := range targets {
		var o struct{ Sid string }
		if err := json.Unmarshal([]byte(serve("GET", "/socket.io/?EIO=4&transport=polling", "")[1:]), &o); err != nil {
			b.Fatal(err)
		}
		targets[i] = "/socket.io/?EIO=4&transport=polling&sid=" + o.Sid
		serve("POST", targets[i], "40")
		if r := serve("GET", targets[i], ""); !strings.HasPrefix(r, "40{") {
			b.Fatalf("CONNECT reply %q", r)
		}
	}
	if nsp.SocketCount() != n {
		b.Fatalf("%d of %d sockets connected", nsp.SocketCount(), n)
	}
	drain := func(lo, hi int) {
		for _, target := range targets[lo:hi] {
			serve("GET", target, "")
		}
	}
	return nsp, drain
}

// TestRepeatedConnectRunsMiddlewareOnce: a client repeating CONNECT while
// the middleware (say, a database lookup) runs cannot make the server run
// it again and again; it is connected once.
func TestRepeatedConnectRunsMiddlewareOnce(t *testing.T) {
	h := newHarness(t, nil)
	release, unblock := gate(t)
	var calls atomic.Int32
	h.io.Of("/").Use(func(*socketio.Socket) error {
		calls.Add(1)
		release()
		return nil
	})
	h.track(h.io.Of("/"), nil)

	c := h.dial()
	for range 50 {
		c.send("40")
	}
	time.Sleep(100 * time.Millisecond) // let the server read them all
	unblock()
	c.expectConnect("/")
	h.nextSocket()
	c.send("40") // connected already: ignored too
	time.Sleep(50 * time.Millisecond)
	if n := calls.Load(); n != 1 {
		t.Fatalf("middleware ran %d times for one connection, want 1", n)
	}
}

// Shutdown waits for middleware under way, up to its context: a blocked
// middleware makes Shutdown report it instead of returning as if done.
func TestShutdownWaitsForMiddleware(t *testing.T) {
	h := newHarness(t, nil)
	release, unblock := gate(t)
	entered := make(chan struct{}, 1)
	var returned atomic.Bool
	h.io.Of("/").Use(func(s *socketio.Socket) error {
		entered <- struct{}{}
		release()
		returned.Store(true)
		return nil
	})
	h.dial().send("40")
	select {
	case <-entered:
	case <-time.After(waitFor):
		t.Fatal("middleware not called")
	}
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := h.io.Shutdown(short); err == nil || !strings.Contains(err.Error(), "middleware still running") {
		t.Fatalf("Shutdown with the middleware blocked = %v, want a middleware error", err)
	}
	go func() { time.Sleep(50 * time.Millisecond); unblock() }()
	ctx, cancel2 := context.WithTimeout(context.Background(), waitFor)
	defer cancel2()
	if err := h.io.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown once the middleware can return = %v", err)
	}
	if !returned.Load() {
		t.Fatal("Shutdown returned before the middleware did")
	}
}

// After middleware, a client may send its first event as soon as it reads
// the CONNECT ack. As in Node, that event must find the handlers the
// connection handler sets, even when the handler is slow to set them.
func TestFirstEventAfterMiddlewareFindsItsHandler(t *testing.T) {
	h := newHarness(t, nil)
	h.io.Of("/").Use(func(*socketio.Socket) error { return nil })
	h.track(h.io.Of("/"), func(s *socketio.Socket) {
		time.Sleep(100 * time.Millisecond) // the client has its CONNECT ack by now
		s.On("ping", func(e *socketio.Event) { _ = e.Ack("pong") })
	})
	c := h.dial()
	c.connect("/", "")
	c.send(`421["ping"]`)
	c.expect(`431["pong"]`)
	h.nextSocket()
}

// gate returns a barrier the test opens once; cleanup opens it too, so a
// goroutine waiting at it always ends.
func gate(t *testing.T) (wait, open func()) {
	ch := make(chan struct{})
	var once sync.Once
	open = func() { once.Do(func() { close(ch) }) }
	t.Cleanup(open)
	return func() { <-ch }, open
}
