package engineio_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald/engineio"
)

// waitFor bounds every wait in these tests: a read, a request, a callback.
const waitFor = 5 * time.Second

// ---------------------------------------------------------------- harness

// harness runs a real engineio.Server behind httptest at /engine.io/ and
// records what its callbacks see. Tests then speak the raw protocol to it:
// HTTP requests for long-polling, a hand-written WebSocket client (wsClient)
// for WebSocket.
type harness struct {
	t    *testing.T
	srv  *engineio.Server
	ts   *httptest.Server
	http *http.Client
	tls  bool

	conns  chan *engineio.Session
	msgs   chan message
	closes chan closeEvent
	gets   chan string // sid of each polling GET as it reaches the server

	closed     map[string]string // OnClose reasons seen so far, by sid
	transports chan string       // Transport() as the connection callback saw it
}

// message is one OnMessage call.
type message struct {
	sid    string
	data   string
	binary bool
}

// closeEvent is one OnClose call.
type closeEvent struct{ sid, reason string }

// newHarness starts a server with opts; with echo, every message a session
// receives is sent back to it, as the conformance suite's server does.
func newHarness(t *testing.T, opts *engineio.Options, echo bool) *harness {
	return startHarness(t, opts, echo, false)
}

func startHarness(t *testing.T, opts *engineio.Options, echo, useTLS bool) *harness {
	t.Helper()
	srv, err := engineio.NewServer(opts)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	h := &harness{
		t: t, srv: srv, tls: useTLS,
		conns:  make(chan *engineio.Session, 256),
		msgs:   make(chan message, 4096),
		closes: make(chan closeEvent, 256),
		gets:   make(chan string, 64),

		transports: make(chan string, 64),
		closed:     map[string]string{},
	}
	srv.OnConnection(func(s *engineio.Session) {
		s.OnMessage(func(data []byte, bin bool) {
			h.msgs <- message{s.ID(), string(data), bin}
			if echo {
				_ = s.Send(engineio.NewMessage(bytes.Clone(data), bin))
			}
		})
		s.OnClose(func(reason string) { h.closes <- closeEvent{s.ID(), reason} })
		select {
		case h.transports <- s.Transport():
		default:
		}
		h.conns <- s
	})
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.Method == http.MethodGet && q.Get("transport") == "polling" && q.Get("sid") != "" {
			select {
			case h.gets <- q.Get("sid"):
			default:
			}
		}
		srv.ServeHTTP(w, r)
	}))
	if useTLS {
		h.ts = httptest.NewTLSServer(mux)
	} else {
		// As herald serves: WebSocket upgrades on the event loop from
		// their first byte, everything else handed to net/http. (The
		// TLS harness, and the socketio package's, test the upgrade
		// hijacked from net/http.)
		h.ts = httptest.NewUnstartedServer(mux)
		h.ts.Listener = srv.Listen(h.ts.Listener, "/engine.io/")
		h.ts.Start()
	}
	h.http = &http.Client{Transport: h.ts.Client().Transport, Timeout: waitFor}
	t.Cleanup(func() {
		// Shutdown first: it releases pending long polls, which
		// httptest.Server.Close would otherwise wait for.
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		h.ts.Close()
	})
	return h
}

// nextSession returns the next session OnConnection saw.
func (h *harness) nextSession() *engineio.Session {
	h.t.Helper()
	select {
	case s := <-h.conns:
		return s
	case <-time.After(waitFor):
		h.t.Fatal("no new session")
		return nil
	}
}

// nextMessage returns the next OnMessage call.
func (h *harness) nextMessage() message {
	h.t.Helper()
	select {
	case m := <-h.msgs:
		return m
	case <-time.After(waitFor):
		h.t.Fatal("no message reached OnMessage")
		return message{}
	}
}

// expectClose waits for sid's OnClose and checks its reason.
func (h *harness) expectClose(sid string, reasons ...string) {
	h.t.Helper()
	deadline := time.After(waitFor)
	for {
		if reason, ok := h.closed[sid]; ok {
			if !slices.Contains(reasons, reason) {
				h.t.Fatalf("OnClose(%q), want one of %q", reason, reasons)
			}
			return
		}
		select {
		case c := <-h.closes:
			if _, dup := h.closed[c.sid]; dup {
				h.t.Fatalf("OnClose ran twice for session %s", c.sid)
			}
			h.closed[c.sid] = c.reason
		case <-deadline:
			h.t.Fatalf("session %s: OnClose not called within %v", sid, waitFor)
		}
	}
}

// expectNoClose fails if some OnClose has run.
func (h *harness) expectNoClose() {
	h.t.Helper()
	for sid, reason := range h.closed {
		h.t.Fatalf("unexpected OnClose(%q) of session %s", reason, sid)
	}
	select {
	case c := <-h.closes:
		h.t.Fatalf("unexpected OnClose(%q) of session %s", c.reason, c.sid)
	default:
	}
}

// awaitCount waits until the server counts n sessions.
func (h *harness) awaitCount(n int) {
	h.t.Helper()
	deadline := time.Now().Add(waitFor)
	for h.srv.Count() != n {
		if time.Now().After(deadline) {
			h.t.Fatalf("Count() = %d, want %d", h.srv.Count(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// drainGets forgets earlier GET notifications; awaitGet waits for the next
// GET of sid to reach the server's handler.
func (h *harness) drainGets() {
	for {
		select {
		case <-h.gets:
		default:
			return
		}
	}
}

// awaitGet waits until a GET of session sid reached the server and, if
// the session is open, until the server holds it.
func (h *harness) awaitGet(sid string) {
	h.t.Helper()
	deadline := time.After(waitFor)
	for reached := false; !reached; {
		select {
		case s := <-h.gets:
			reached = s == sid
		case <-deadline:
			h.t.Fatal("the GET did not reach the server")
		}
	}
	for {
		sess := h.srv.LookupSession(sid)
		if sess == nil || sess.PollHeld() {
			return
		}
		select {
		case <-deadline:
			h.t.Fatal("the server did not hold the GET")
		case <-time.After(time.Millisecond):
		}
	}
}

// ------------------------------------------------------- polling helpers

// reply is an HTTP response, read in full.
type reply struct {
	status int
	body   string
	header http.Header
	err    error
}

func (r reply) String() string {
	if r.err != nil {
		return "error: " + r.err.Error()
	}
	return fmt.Sprintf("%d %q", r.status, r.body)
}

func (h *harness) url(query string) string { return h.ts.URL + "/engine.io/?" + query }

// request sends one HTTP request and reads the whole response.
func (h *harness) request(ctx context.Context, method, query, body string, header http.Header) reply {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.url(query), rd)
	if err != nil {
		return reply{err: err}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	resp, err := h.http.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, body: string(b), header: resp.Header, err: err}
}

func (h *harness) do(method, query, body string, header http.Header) reply {
	h.t.Helper()
	r := h.request(context.Background(), method, query, body, header)
	if r.err != nil {
		h.t.Fatalf("%s ?%s: %v", method, query, r.err)
	}
	return r
}

// handshake opens a polling session and returns its sid.
func (h *harness) handshake() string {
	h.t.Helper()
	r := h.do("GET", "EIO=4&transport=polling", "", nil)
	if r.status != http.StatusOK {
		h.t.Fatalf("handshake: %v", r)
	}
	return openPacket(h.t, r.body).SID
}

func pollQuery(sid string) string { return "EIO=4&transport=polling&sid=" + sid }

// poll is one long-polling GET; post one POST.
func (h *harness) poll(sid string) reply {
	h.t.Helper()
	return h.do("GET", pollQuery(sid), "", nil)
}

func (h *harness) post(sid, body string) reply {
	h.t.Helper()
	return h.do("POST", pollQuery(sid), body, nil)
}

// pollAsync starts a GET and returns its reply's channel; the caller must
// receive from it.
func (h *harness) pollAsync(ctx context.Context, sid string) <-chan reply {
	ch := make(chan reply, 1)
	go func() { ch <- h.request(ctx, "GET", pollQuery(sid), "", nil) }()
	return ch
}

func receive(t *testing.T, ch <-chan reply) reply {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(waitFor + time.Second):
		t.Fatal("pending request did not return")
		return reply{}
	}
}

// expectReply checks a response's status and exact body.
func expectReply(t *testing.T, r reply, status int, body string) {
	t.Helper()
	if r.err != nil || r.status != status || r.body != body {
		t.Fatalf("got %v, want %d %q", r, status, body)
	}
}

// expectError checks a JSON error response: status and exact body.
func expectError(t *testing.T, r reply, status, code int, msg string) {
	t.Helper()
	want := fmt.Sprintf(`{"code":%d,"message":"%s"}`, code, msg)
	expectReply(t, r, status, want)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type %q, want application/json", ct)
	}
}

// open is the handshake packet's payload.
type open struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

// openPacket parses "0{...}" and checks that the JSON has exactly the five
// keys of Engine.IO v4.
func openPacket(t *testing.T, s string) open {
	t.Helper()
	if !strings.HasPrefix(s, "0") {
		t.Fatalf("handshake %q does not start with 0", s)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s[1:]), &keys); err != nil {
		t.Fatalf("handshake %q: %v", s, err)
	}
	got := slices.Sorted(func(yield func(string) bool) {
		for k := range keys {
			if !yield(k) {
				return
			}
		}
	})
	want := []string{"maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"}
	if !slices.Equal(got, want) {
		t.Fatalf("handshake keys %q, want exactly %q", got, want)
	}
	var o open
	if err := json.Unmarshal([]byte(s[1:]), &o); err != nil {
		t.Fatalf("handshake %q: %v", s, err)
	}
	if len(o.SID) != 20 {
		t.Errorf("sid %q: want 20 characters", o.SID)
	}
	return o
}

// ------------------------------------------------------- WebSocket client

// wsClient is a minimal RFC 6455 client written for these tests: it masks
// what it sends (unless told not to) and reads frames one by one, so tests
// see exactly what the server writes.
type wsClient struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

type wsFrame struct {
	fin     bool
	op      byte
	payload []byte
}

const (
	opCont   = 0x0
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPing   = 0x9
	opPong   = 0xa
)

func (h *harness) dial() net.Conn {
	h.t.Helper()
	addr := h.ts.Listener.Addr().String()
	d := &net.Dialer{Timeout: waitFor}
	var nc net.Conn
	var err error
	if h.tls {
		pool := x509.NewCertPool()
		pool.AddCert(h.ts.Certificate())
		nc, err = tls.DialWithDialer(d, "tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	} else {
		nc, err = d.Dial("tcp", addr)
	}
	if err != nil {
		h.t.Fatalf("dial: %v", err)
	}
	h.t.Cleanup(func() { nc.Close() })
	return nc
}

// dialWSRaw sends a WebSocket upgrade request for /engine.io/?query, with
// early written right after it (frames a client pipelines), and returns
// the client on 101 or the response otherwise.
func (h *harness) dialWSRaw(query string, header http.Header, early []byte) (*wsClient, reply) {
	h.t.Helper()
	nc := h.dial()
	var k [16]byte
	_, _ = rand.Read(k[:])
	key := base64.StdEncoding.EncodeToString(k[:])
	var req bytes.Buffer
	fmt.Fprintf(&req, "GET /engine.io/?%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", query, h.ts.Listener.Addr(), key)
	for name, vs := range header {
		for _, v := range vs {
			fmt.Fprintf(&req, "%s: %s\r\n", name, v)
		}
	}
	req.WriteString("\r\n")
	req.Write(early)
	_ = nc.SetDeadline(time.Now().Add(waitFor))
	if _, err := nc.Write(req.Bytes()); err != nil {
		h.t.Fatalf("write upgrade request: %v", err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		h.t.Fatalf("read upgrade response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		nc.Close()
		return nil, reply{status: resp.StatusCode, body: string(b), header: resp.Header}
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if got, want := resp.Header.Get("Sec-Websocket-Accept"), base64.StdEncoding.EncodeToString(sum[:]); got != want {
		h.t.Fatalf("Sec-WebSocket-Accept %q, want %q", got, want)
	}
	_ = nc.SetDeadline(time.Time{})
	return &wsClient{t: h.t, nc: nc, br: br}, reply{status: resp.StatusCode, header: resp.Header}
}

// dialWS opens a WebSocket and fails the test unless the server accepts it.
func (h *harness) dialWS(query string) *wsClient {
	h.t.Helper()
	c, r := h.dialWSRaw(query, nil, nil)
	if c == nil {
		h.t.Fatalf("WebSocket upgrade refused: %v", r)
	}
	return c
}

// frameBytes encodes a client frame; rsv is the RSV1-3 bits (0-7).
func frameBytes(fin bool, rsv, op byte, masked bool, payload []byte) []byte {
	b0 := op | rsv<<4
	if fin {
		b0 |= 0x80
	}
	var mbit byte
	if masked {
		mbit = 0x80
	}
	out := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		out = append(out, mbit|byte(n))
	case n <= 0xffff:
		out = append(out, mbit|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, mbit|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if !masked {
		return append(out, payload...)
	}
	var key [4]byte
	_, _ = rand.Read(key[:])
	out = append(out, key[:]...)
	for i, c := range payload {
		out = append(out, c^key[i&3])
	}
	return out
}

func textFrame(s string) []byte { return frameBytes(true, 0, opText, true, []byte(s)) }

func (c *wsClient) write(b []byte) {
	c.t.Helper()
	_ = c.nc.SetWriteDeadline(time.Now().Add(waitFor))
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("websocket write: %v", err)
	}
}

// send writes a text message; sendBinary a binary one.
func (c *wsClient) send(s string) { c.t.Helper(); c.write(textFrame(s)) }
func (c *wsClient) sendBinary(b []byte) {
	c.t.Helper()
	c.write(frameBytes(true, 0, opBinary, true, b))
}
func (c *wsClient) sendClose(code uint16) { c.t.Helper(); c.write(closeFrame(code)) }

func closeFrame(code uint16) []byte {
	return frameBytes(true, 0, opClose, true, binary.BigEndian.AppendUint16(nil, code))
}

// readFrame reads the server's next frame.
func (c *wsClient) readFrame() (wsFrame, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(waitFor))
	var hdr [2]byte
	if _, err := io.ReadFull(c.br, hdr[:]); err != nil {
		return wsFrame{}, err
	}
	if hdr[0]&0x70 != 0 {
		return wsFrame{}, errors.New("server frame has reserved bits set")
	}
	if hdr[1]&0x80 != 0 {
		return wsFrame{}, errors.New("server frame is masked")
	}
	n := uint64(hdr[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return wsFrame{}, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return wsFrame{}, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if n > 1<<24 {
		return wsFrame{}, fmt.Errorf("frame of %d bytes", n)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(c.br, payload); err != nil {
		return wsFrame{}, err
	}
	return wsFrame{fin: hdr[0]&0x80 != 0, op: hdr[0] & 0x0f, payload: payload}, nil
}

func (c *wsClient) next() wsFrame {
	c.t.Helper()
	f, err := c.readFrame()
	if err != nil {
		c.t.Fatalf("websocket read: %v", err)
	}
	if !f.fin {
		c.t.Fatalf("server sent a fragment (op %#x)", f.op)
	}
	return f
}

// expect reads the next frame, which must be a text frame holding want.
func (c *wsClient) expect(want string) {
	c.t.Helper()
	f := c.next()
	if f.op != opText || string(f.payload) != want {
		c.t.Fatalf("got frame op %#x %q, want text %q", f.op, f.payload, want)
	}
}

// expectBinary reads the next frame, which must be a binary frame of want.
func (c *wsClient) expectBinary(want []byte) {
	c.t.Helper()
	f := c.next()
	if f.op != opBinary || !bytes.Equal(f.payload, want) {
		c.t.Fatalf("got frame op %#x %x, want binary %x", f.op, f.payload, want)
	}
}

// expectOpen reads the open packet.
func (c *wsClient) expectOpen() open {
	c.t.Helper()
	f := c.next()
	if f.op != opText {
		c.t.Fatalf("first frame op %#x, want text", f.op)
	}
	return openPacket(c.t, string(f.payload))
}

// expectClosed reads until the server closes the connection, skipping
// data frames, and returns the close frame's code, or -1 when the
// connection ended without one.
func (c *wsClient) expectClosed() int {
	c.t.Helper()
	for range 100000 {
		f, err := c.readFrame()
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			c.t.Fatalf("the server did not close the connection within %v", waitFor)
		case err != nil:
			return -1
		case f.op == opClose:
			if len(f.payload) < 2 {
				return 1005
			}
			return int(binary.BigEndian.Uint16(f.payload))
		}
	}
	c.t.Fatal("the server did not close the connection")
	return 0
}

// ---------------------------------------------------------------- tests

func TestPollingHandshake(t *testing.T) {
	h := newHarness(t, &engineio.Options{PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond}, false)
	r := h.do("GET", "EIO=4&transport=polling&token=abc&t=Nx1", "", http.Header{"X-Custom": {"yes"}})
	if r.status != http.StatusOK {
		t.Fatalf("handshake: %v", r)
	}
	if ct := r.header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	o := openPacket(t, r.body)
	if !slices.Equal(o.Upgrades, []string{"websocket"}) || o.PingInterval != 300 || o.PingTimeout != 200 || o.MaxPayload != 1_000_000 {
		t.Errorf("handshake %+v", o)
	}
	s := h.nextSession()
	if s.ID() != o.SID {
		t.Errorf("session id %q, handshake sid %q", s.ID(), o.SID)
	}
	if s.Transport() != "polling" {
		t.Errorf("Transport() = %q", s.Transport())
	}
	hs := s.Handshake()
	if got := hs.Query.Get("token"); got != "abc" {
		t.Errorf("Handshake().Query token = %q", got)
	}
	for _, k := range []string{"EIO", "transport", "t", "sid"} {
		if hs.Query.Has(k) {
			t.Errorf("Handshake().Query keeps Engine.IO's own parameter %q", k)
		}
	}
	if got := hs.Header().Get("X-Custom"); got != "yes" {
		t.Errorf("Handshake().Header X-Custom = %q", got)
	}
	if h.srv.Count() != 1 {
		t.Errorf("Count() = %d", h.srv.Count())
	}
}

func TestHandshakeDefaults(t *testing.T) {
	h := newHarness(t, nil, false)
	r := h.do("GET", "EIO=4&transport=polling", "", nil)
	o := openPacket(t, r.body)
	if o.PingInterval != 25000 || o.PingTimeout != 20000 || o.MaxPayload != 1_000_000 {
		t.Errorf("defaults %+v, want Node's 25000/20000/1000000", o)
	}
}

func TestRequestErrors(t *testing.T) {
	h := newHarness(t, nil, false)
	sid := h.handshake()
	const (
		transportUnknown = `Transport unknown`
		sidUnknown       = `Session ID unknown`
		badMethod        = `Bad handshake method`
		badRequest       = `Bad request`
		badProtocol      = `Unsupported protocol version`
	)
	cases := []struct {
		name, method, query string
		code                int
		msg                 string
	}{
		{"no transport", "GET", "EIO=4", 0, transportUnknown},
		{"unknown transport", "GET", "EIO=4&transport=abc", 0, transportUnknown},
		{"no EIO", "GET", "transport=polling", 5, badProtocol},
		{"EIO=abc", "GET", "EIO=abc&transport=polling", 5, badProtocol},
		{"EIO=3", "GET", "EIO=3&transport=polling", 5, badProtocol},
		{"POST handshake", "POST", "EIO=4&transport=polling", 2, badMethod},
		{"PUT handshake", "PUT", "EIO=4&transport=polling", 2, badMethod},
		{"unknown sid", "GET", "EIO=4&transport=polling&sid=nope", 1, sidUnknown},
		{"unknown sid POST", "POST", "EIO=4&transport=polling&sid=nope", 1, sidUnknown},
		{"websocket without upgrade", "GET", "EIO=4&transport=websocket", 3, badRequest},
		{"PUT on a session", "PUT", pollQuery(sid), 3, badRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := ""
			if c.method != "GET" {
				body = "4x"
			}
			expectError(t, h.do(c.method, c.query, body, nil), http.StatusBadRequest, c.code, c.msg)
		})
	}
	t.Run("websocket unknown sid", func(t *testing.T) {
		c, r := h.dialWSRaw("EIO=4&transport=websocket&sid=nope", nil, nil)
		if c != nil {
			t.Fatal("upgrade accepted")
		}
		expectError(t, r, http.StatusBadRequest, 1, sidUnknown)
	})
	t.Run("websocket bad EIO", func(t *testing.T) {
		c, r := h.dialWSRaw("EIO=abc&transport=websocket", nil, nil)
		if c != nil {
			t.Fatal("upgrade accepted")
		}
		expectError(t, r, http.StatusBadRequest, 5, badProtocol)
	})
	// The failed requests neither opened nor closed sessions.
	if h.srv.Count() != 1 {
		t.Errorf("Count() = %d, want 1", h.srv.Count())
	}
	expectReply(t, h.post(sid, "4still"), http.StatusOK, "ok")
	h.expectNoClose()
}

func TestCheckOrigin(t *testing.T) {
	const app, evil = "https://app.example", "https://evil.example"
	h := newHarness(t, &engineio.Options{
		CheckOrigin: func(origin string, r *http.Request) bool { return origin == app },
	}, true)

	r := h.do("GET", "EIO=4&transport=polling", "", http.Header{"Origin": {app}})
	if r.status != http.StatusOK {
		t.Fatalf("allowed origin: %v", r)
	}
	if got := r.header.Get("Access-Control-Allow-Origin"); got != app {
		t.Errorf("Access-Control-Allow-Origin %q, want %q", got, app)
	}
	if got := r.header.Get("Access-Control-Allow-Credentials"); got != "true" {
		t.Errorf("Access-Control-Allow-Credentials %q", got)
	}
	if !slices.Contains(r.header.Values("Vary"), "Origin") {
		t.Errorf("Vary %q lacks Origin", r.header.Values("Vary"))
	}
	sid := openPacket(t, r.body).SID
	h.nextSession()

	// A refused origin gets 403 for handshakes, polls and upgrades alike;
	// no session opens and the existing one is untouched.
	forbidden := func(r reply) {
		t.Helper()
		expectError(t, r, http.StatusForbidden, 4, "Forbidden")
		if r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Error("a refused origin is echoed in Access-Control-Allow-Origin")
		}
	}
	forbidden(h.do("GET", "EIO=4&transport=polling", "", http.Header{"Origin": {evil}}))
	forbidden(h.do("POST", pollQuery(sid), "4x", http.Header{"Origin": {evil}}))
	forbidden(h.do("GET", pollQuery(sid), "", http.Header{"Origin": {evil}}))
	c, wr := h.dialWSRaw("EIO=4&transport=websocket", http.Header{"Origin": {evil}}, nil)
	if c != nil {
		t.Fatal("WebSocket from a refused origin accepted")
	}
	forbidden(wr)
	if h.srv.Count() != 1 {
		t.Errorf("Count() = %d after refused requests, want 1", h.srv.Count())
	}

	// Without Origin (not a browser) nothing is checked or echoed.
	r = h.do("POST", pollQuery(sid), "4hi", nil)
	expectReply(t, r, http.StatusOK, "ok")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("Access-Control-Allow-Origin set without an Origin")
	}
	expectReply(t, h.do("GET", pollQuery(sid), "", http.Header{"Origin": {app}}), http.StatusOK, "4hi")
	h.expectNoClose()
}

func TestCORSPreflight(t *testing.T) {
	const app = "https://app.example"
	h := newHarness(t, &engineio.Options{
		CheckOrigin: func(origin string, r *http.Request) bool { return origin == app },
	}, false)
	r := h.do("OPTIONS", "EIO=4&transport=polling", "", http.Header{
		"Origin":                         {app},
		"Access-Control-Request-Method":  {"POST"},
		"Access-Control-Request-Headers": {"content-type"},
	})
	if r.status != http.StatusNoContent {
		t.Fatalf("preflight: %v", r)
	}
	for k, want := range map[string]string{
		"Access-Control-Allow-Origin":      app,
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Methods":     "GET, POST",
		"Access-Control-Allow-Headers":     "content-type",
	} {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s %q, want %q", k, got, want)
		}
	}
	r = h.do("OPTIONS", "EIO=4&transport=polling", "", http.Header{"Origin": {"https://evil.example"}})
	expectError(t, r, http.StatusForbidden, 4, "Forbidden")
	if h.srv.Count() != 0 {
		t.Errorf("a preflight opened a session")
	}
}

func TestNilCheckOriginAllowsEveryOrigin(t *testing.T) {
	h := newHarness(t, nil, false)
	r := h.do("GET", "EIO=4&transport=polling", "", http.Header{"Origin": {"https://any.example"}})
	if r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != "https://any.example" {
		t.Fatalf("got %v, Access-Control-Allow-Origin %q", r, r.header.Get("Access-Control-Allow-Origin"))
	}
}

func TestPollingRoundTrip(t *testing.T) {
	h := newHarness(t, nil, true)
	sid := h.handshake()
	h.nextSession()

	expectReply(t, h.post(sid, "4hello"), http.StatusOK, "ok")
	if m := h.nextMessage(); m != (message{sid, "hello", false}) {
		t.Errorf("OnMessage got %+v", m)
	}
	expectReply(t, h.poll(sid), http.StatusOK, "4hello")

	// Several packets in one POST are answered in one batch.
	expectReply(t, h.post(sid, "4test1\x1e4test2\x1e4test3"), http.StatusOK, "ok")
	expectReply(t, h.poll(sid), http.StatusOK, "4test1\x1e4test2\x1e4test3")

	// Binary travels as "b" + base64, without a type digit.
	expectReply(t, h.post(sid, "4hello\x1ebAQIDBA=="), http.StatusOK, "ok")
	expectReply(t, h.poll(sid), http.StatusOK, "4hello\x1ebAQIDBA==")
	for _, want := range []message{{sid, "test1", false}, {sid, "test2", false}, {sid, "test3", false},
		{sid, "hello", false}, {sid, "\x01\x02\x03\x04", true}} {
		if m := h.nextMessage(); m != want {
			t.Errorf("OnMessage got %+v, want %+v", m, want)
		}
	}
	// Empty messages, text and binary, survive the trip.
	expectReply(t, h.post(sid, "4\x1eb"), http.StatusOK, "ok")
	expectReply(t, h.poll(sid), http.StatusOK, "4\x1eb")
	h.expectNoClose()
}

func TestPollingGetWaitsForData(t *testing.T) {
	h := newHarness(t, nil, false)
	sid := h.handshake()
	s := h.nextSession()
	h.drainGets()
	pending := h.pollAsync(context.Background(), sid)
	h.awaitGet(sid)
	if err := s.Send(engineio.NewMessage([]byte("late"), false)); err != nil {
		t.Fatal(err)
	}
	expectReply(t, receive(t, pending), http.StatusOK, "4late")

	// A binary message sent by the server is a "b" record.
	if err := s.Send(engineio.NewMessage([]byte{0xff, 0x00}, true)); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(engineio.NewMessage([]byte("x"), false)); err != nil {
		t.Fatal(err)
	}
	expectReply(t, h.poll(sid), http.StatusOK, "b/wA=\x1e4x")
}

func TestPollingDuplicateGetClosesSession(t *testing.T) {
	h := newHarness(t, nil, false)
	sid := h.handshake()
	h.nextSession()
	h.drainGets()
	first := h.pollAsync(context.Background(), sid)
	h.awaitGet(sid)
	second := h.request(context.Background(), "GET", pollQuery(sid)+"&t=burst", "", nil)
	// Whichever GET the server saw second is refused; the waiting one gets
	// the close packet.
	got := []reply{receive(t, first), second}
	if got[0].status != http.StatusOK {
		got[0], got[1] = got[1], got[0]
	}
	expectReply(t, got[0], http.StatusOK, "1")
	expectError(t, got[1], http.StatusBadRequest, 3, "Bad request")
	h.expectClose(sid, engineio.ReasonTransportError)
	expectError(t, h.poll(sid), http.StatusBadRequest, 1, "Session ID unknown")
}

func TestPollingOctetStreamPostRejected(t *testing.T) {
	h := newHarness(t, nil, false)
	sid := h.handshake()
	h.nextSession()
	r := h.do("POST", pollQuery(sid), "4hello", http.Header{"Content-Type": {"application/octet-stream"}})
	expectError(t, r, http.StatusBadRequest, 3, "Bad request")
	// An EIO=4 client never sends a binary body: like Node, the session ends.
	h.expectClose(sid, engineio.ReasonParseError)
	expectError(t, h.poll(sid), http.StatusBadRequest, 1, "Session ID unknown")
}

func TestPollingOversizedPost(t *testing.T) {
	h := newHarness(t, &engineio.Options{MaxPayload: 100}, true)
	sid := h.handshake()
	h.nextSession()
	r := h.post(sid, "4"+strings.Repeat("a", 100))
	if r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized POST: %v, want 413", r)
	}
	// The session survives, and a body of exactly MaxPayload is accepted.
	exact := "4" + strings.Repeat("b", 99)
	expectReply(t, h.post(sid, exact), http.StatusOK, "ok")
	expectReply(t, h.poll(sid), http.StatusOK, exact)
	if m := h.nextMessage(); m.data != exact[1:] {
		t.Errorf("OnMessage got %q", m.data)
	}
	h.expectNoClose()
}

func TestPollingInvalidPacketClosesSession(t *testing.T) {
	h := newHarness(t, nil, false)
	sid := h.handshake()
	h.nextSession()
	expectError(t, h.post(sid, "abc"), http.StatusBadRequest, 3, "Bad request")
	h.expectClose(sid, engineio.ReasonParseError)
	expectError(t, h.poll(sid), http.StatusBadRequest, 1, "Session ID unknown")
}

func TestPollingPingFromClientClosesSession(t *testing.T) {
	// A v4 client never pings: Node closes such a session.
	h := newHarness(t, nil, false)
	sid := h.handshake()
	h.nextSession()
	expectReply(t, h.post(sid, "2"), http.StatusOK, "ok")
	h.expectClose(sid, engineio.ReasonParseError)
}

func TestPollingClientClose(t *testing.T) {
	h := newHarness(t, nil, false)
	sid := h.handshake()
	h.nextSession()
	h.drainGets()
	pending := h.pollAsync(context.Background(), sid)
	h.awaitGet(sid)
	expectReply(t, h.post(sid, "1"), http.StatusOK, "ok")
	expectReply(t, receive(t, pending), http.StatusOK, "6")
	h.expectClose(sid, engineio.ReasonTransportClose)
	expectError(t, h.poll(sid), http.StatusBadRequest, 1, "Session ID unknown")
	h.awaitCount(0)
}

func TestPollingServerClose(t *testing.T) {
	t.Run("next GET", func(t *testing.T) {
		h := newHarness(t, nil, false)
		sid := h.handshake()
		s := h.nextSession()
		if err := s.Send(engineio.NewMessage([]byte("bye"), false)); err != nil {
			t.Fatal(err)
		}
		s.Close()
		h.expectClose(sid, engineio.ReasonForcedClose)
		// What was queued goes first, then the close packet.
		expectReply(t, h.poll(sid), http.StatusOK, "4bye\x1e1")
		expectError(t, h.poll(sid), http.StatusBadRequest, 1, "Session ID unknown")
		if err := s.Send(engineio.NewMessage([]byte("late"), false)); !errors.Is(err, engineio.ErrClosed) {
			t.Errorf("Send after Close: %v, want ErrClosed", err)
		}
		s.Close() // a second Close is harmless
		h.awaitCount(0)
	})
	t.Run("pending GET", func(t *testing.T) {
		h := newHarness(t, nil, false)
		sid := h.handshake()
		s := h.nextSession()
		h.drainGets()
		pending := h.pollAsync(context.Background(), sid)
		h.awaitGet(sid)
		s.Close()
		expectReply(t, receive(t, pending), http.StatusOK, "1")
		h.expectClose(sid, engineio.ReasonForcedClose)
		expectError(t, h.poll(sid), http.StatusBadRequest, 1, "Session ID unknown")
	})
}

func TestPollingAbortedGetClosesSession(t *testing.T) {
	h := newHarness(t, nil, false)
	sid := h.handshake()
	h.nextSession()
	h.drainGets()
	ctx, cancel := context.WithCancel(context.Background())
	pending := h.pollAsync(ctx, sid)
	h.awaitGet(sid)
	cancel()
	if r := receive(t, pending); !errors.Is(r.err, context.Canceled) {
		t.Errorf("aborted GET: %v", r)
	}
	h.expectClose(sid, engineio.ReasonTransportClose)
	expectError(t, h.poll(sid), http.StatusBadRequest, 1, "Session ID unknown")
}

func TestPollingQueueOverflowClosesSession(t *testing.T) {
	h := newHarness(t, &engineio.Options{MaxBufferedPackets: 4}, false)
	sid := h.handshake()
	s := h.nextSession()
	for i := range 4 {
		if err := s.Send(engineio.NewMessage([]byte{'a' + byte(i)}, false)); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	if err := s.Send(engineio.NewMessage([]byte("e"), false)); err == nil {
		t.Fatal("Send past MaxBufferedPackets succeeded")
	}
	h.expectClose(sid, engineio.ReasonSlowClient)
	expectError(t, h.poll(sid), http.StatusBadRequest, 1, "Session ID unknown")
	h.awaitCount(0)
}

func TestPollingHeartbeat(t *testing.T) {
	// The pong allowance is generous so that a slow test machine does not
	// miss it; the silent phase only needs it to pass once.
	h := newHarness(t, &engineio.Options{PingInterval: 50 * time.Millisecond, PingTimeout: 400 * time.Millisecond}, false)
	sid := h.handshake()
	h.nextSession()
	for i := range 3 {
		expectReply(t, h.poll(sid), http.StatusOK, "2")
		if i < 2 {
			expectReply(t, h.post(sid, "3"), http.StatusOK, "ok")
		}
	}
	// No pong for the third ping: the session times out.
	h.expectClose(sid, engineio.ReasonPingTimeout)
	expectError(t, h.poll(sid), http.StatusBadRequest, 1, "Session ID unknown")
}

func TestWebSocketHandshakeAndEcho(t *testing.T) {
	h := newHarness(t, &engineio.Options{PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond}, true)
	c := h.dialWS("EIO=4&transport=websocket&token=xyz")
	o := c.expectOpen()
	if len(o.Upgrades) != 0 || o.Upgrades == nil || o.PingInterval != 300 || o.PingTimeout != 200 || o.MaxPayload != 1_000_000 {
		t.Errorf("handshake %+v: want upgrades [] and the options", o)
	}
	s := h.nextSession()
	if s.ID() != o.SID || s.Transport() != "websocket" || s.Handshake().Query.Get("token") != "xyz" {
		t.Errorf("session %q transport %q query %v", s.ID(), s.Transport(), s.Handshake().Query)
	}
	c.send("4hello")
	c.expect("4hello")
	c.sendBinary([]byte{1, 2, 3, 4})
	c.expectBinary([]byte{1, 2, 3, 4})
	c.sendBinary(nil) // an empty binary message is a message too
	c.expectBinary(nil)
	c.send("4")
	c.expect("4")
	for _, want := range []message{{o.SID, "hello", false}, {o.SID, "\x01\x02\x03\x04", true}, {o.SID, "", true}, {o.SID, "", false}} {
		if m := h.nextMessage(); m != want {
			t.Errorf("OnMessage %+v, want %+v", m, want)
		}
	}

	// A fragmented message, with a ping frame in the middle.
	c.write(frameBytes(false, 0, opText, true, []byte("4hel")))
	c.write(frameBytes(true, 0, opPing, true, []byte("p")))
	c.write(frameBytes(true, 0, opCont, true, []byte("lo")))
	if f := c.next(); f.op != opPong || string(f.payload) != "p" {
		t.Fatalf("got op %#x %q, want pong \"p\"", f.op, f.payload)
	}
	c.expect("4hello")

	// A large message uses the 16-bit length form both ways.
	big := "4" + strings.Repeat("z", 70000)
	c.send(big)
	c.expect(big)

	// The client's close frame is answered in kind and ends the session.
	c.sendClose(1000)
	if code := c.expectClosed(); code != 1000 {
		t.Errorf("close code %d, want 1000", code)
	}
	h.expectClose(o.SID, engineio.ReasonTransportClose)
	h.awaitCount(0)
}

func TestWebSocketServerSend(t *testing.T) {
	h := newHarness(t, nil, false)
	c := h.dialWS("EIO=4&transport=websocket")
	c.expectOpen()
	s := h.nextSession()
	m := engineio.NewMessage([]byte("shared"), false)
	for range 3 { // one Message may be sent many times
		if err := s.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Send(engineio.NewMessage([]byte{9, 8}, true)); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		c.expect("4shared")
	}
	c.expectBinary([]byte{9, 8})

	s.Close()
	c.expect("1") // the close packet, then the closing handshake
	if code := c.expectClosed(); code != 1000 {
		t.Errorf("close code %d, want 1000", code)
	}
	h.expectClose(s.ID(), engineio.ReasonForcedClose)
	if err := s.Send(m); !errors.Is(err, engineio.ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
}

func TestWebSocketInvalidPacketClosesSession(t *testing.T) {
	for _, bad := range []string{"abc", "2", "0", "5", ""} {
		t.Run(fmt.Sprintf("%q", bad), func(t *testing.T) {
			h := newHarness(t, nil, false)
			c := h.dialWS("EIO=4&transport=websocket")
			o := c.expectOpen()
			c.send(bad)
			if code := c.expectClosed(); code != 1000 {
				t.Errorf("close code %d, want 1000", code)
			}
			h.expectClose(o.SID, engineio.ReasonParseError)
		})
	}
}

func TestWebSocketProtocolErrors(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 200)
	cases := []struct {
		name  string
		frame []byte
		code  int
	}{
		{"unmasked frame", frameBytes(true, 0, opText, false, []byte("4hello")), 1002},
		{"reserved bits", frameBytes(true, 4, opText, true, []byte("4hello")), 1002},
		{"unknown opcode", frameBytes(true, 0, 0x3, true, []byte("4hello")), 1002},
		{"unknown control opcode", frameBytes(true, 0, 0xb, true, nil), 1002},
		{"fragmented ping", frameBytes(false, 0, opPing, true, nil), 1002},
		{"ping over 125 bytes", frameBytes(true, 0, opPing, true, long[:126]), 1002},
		{"continuation first", frameBytes(true, 0, opCont, true, []byte("4x")), 1002},
		{"new message inside a fragmented one", append(frameBytes(false, 0, opText, true, []byte("4a")),
			frameBytes(true, 0, opText, true, []byte("4b"))...), 1002},
		{"invalid UTF-8", frameBytes(true, 0, opText, true, []byte("4\xff\xfe")), 1007},
		{"message over MaxPayload", frameBytes(true, 0, opText, true, append([]byte("4"), long...)), 1009},
		{"fragments over MaxPayload", append(frameBytes(false, 0, opBinary, true, long[:100]),
			frameBytes(true, 0, opCont, true, long[:100])...), 1009},
		{"one-byte close payload", frameBytes(true, 0, opClose, true, []byte{3}), 1002},
		{"reserved close code", closeFrame(1005), 1002},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, &engineio.Options{MaxPayload: 150}, false)
			ws := h.dialWS("EIO=4&transport=websocket")
			o := ws.expectOpen()
			ws.write(c.frame)
			if code := ws.expectClosed(); code != c.code {
				t.Errorf("close code %d, want %d", code, c.code)
			}
			h.expectClose(o.SID, engineio.ReasonTransportClose)
			h.awaitCount(0)
		})
	}
}

func TestWebSocketHeartbeat(t *testing.T) {
	h := newHarness(t, &engineio.Options{PingInterval: 50 * time.Millisecond, PingTimeout: 400 * time.Millisecond}, false)
	c := h.dialWS("EIO=4&transport=websocket")
	o := c.expectOpen()
	for range 3 {
		c.expect("2")
		c.send("3")
	}
	// Silence: the next ping goes unanswered and the session ends.
	c.expect("2")
	h.expectClose(o.SID, engineio.ReasonPingTimeout)
	if code := c.expectClosed(); code != 1000 {
		t.Errorf("close code %d, want 1000", code)
	}
	h.awaitCount(0)
}

func TestUpgrade(t *testing.T) {
	h := newHarness(t, nil, true)
	sid := h.handshake()
	s := h.nextSession()
	h.drainGets()
	pending := h.pollAsync(context.Background(), sid)
	h.awaitGet(sid)

	c := h.dialWS("EIO=4&transport=websocket&sid=" + sid)
	c.send("2probe")
	c.expect("3probe")
	// The waiting GET is released with a noop.
	expectReply(t, receive(t, pending), http.StatusOK, "6")

	// Until the upgrade completes, what the server sends waits.
	for _, m := range []*engineio.Message{
		engineio.NewMessage([]byte("a"), false),
		engineio.NewMessage([]byte{1, 2}, true),
		engineio.NewMessage([]byte("b"), false),
	} {
		if err := s.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	if s.Transport() != "polling" {
		t.Errorf("Transport() = %q before the upgrade packet", s.Transport())
	}
	c.send("5")
	// The queue is flushed over the WebSocket, in order.
	c.expect("4a")
	c.expectBinary([]byte{1, 2})
	c.expect("4b")
	if s.Transport() != "websocket" {
		t.Errorf("Transport() = %q after the upgrade", s.Transport())
	}
	c.send("4hello")
	c.expect("4hello")

	// Long-polling is over for this session.
	expectError(t, h.poll(sid), http.StatusBadRequest, 3, "Bad request")
	expectError(t, h.post(sid, "4x"), http.StatusBadRequest, 3, "Bad request")

	// A second WebSocket for the session is dropped; the first one lives.
	c2 := h.dialWS("EIO=4&transport=websocket&sid=" + sid)
	c2.expectClosed()
	c.send("4still")
	c.expect("4still")
	h.expectNoClose()
	if h.srv.Count() != 1 {
		t.Errorf("Count() = %d", h.srv.Count())
	}
}

func TestUpgradeTimeout(t *testing.T) {
	h := newHarness(t, &engineio.Options{UpgradeTimeout: 100 * time.Millisecond}, true)
	sid := h.handshake()
	s := h.nextSession()
	c := h.dialWS("EIO=4&transport=websocket&sid=" + sid)
	c.send("2probe")
	c.expect("3probe")
	// No "5": the probe is dropped and the session stays on polling.
	c.expectClosed()
	expectReply(t, h.post(sid, "4x"), http.StatusOK, "ok")
	expectReply(t, h.poll(sid), http.StatusOK, "4x")
	if s.Transport() != "polling" {
		t.Errorf("Transport() = %q", s.Transport())
	}
	h.expectNoClose()
}

func TestUpgradeWithoutProbeIsDropped(t *testing.T) {
	h := newHarness(t, nil, true)
	sid := h.handshake()
	h.nextSession()
	c := h.dialWS("EIO=4&transport=websocket&sid=" + sid)
	c.send("5") // no probe first
	c.expectClosed()
	expectReply(t, h.post(sid, "4x"), http.StatusOK, "ok")
	expectReply(t, h.poll(sid), http.StatusOK, "4x")
	h.expectNoClose()
}

// TestUpgradePipelined sends the probe and the upgrade packet in the same
// write as the HTTP upgrade request, as a client may. Those bytes are read
// by net/http before the connection reaches the event loop: the server
// must still answer them (it used to write the "3probe" on a connection
// not yet registered with the event loop, a nil dereference that also left the
// session's lock held), and an upgrade completed that early must not be
// undone by the upgrade timeout (the probe's timer, armed after the
// handshake returned, used to close the WebSocket the session had already
// moved to).
func TestUpgradePipelined(t *testing.T) {
	const upgradeTimeout = 100 * time.Millisecond
	h := newHarness(t, &engineio.Options{
		PingInterval:   3 * upgradeTimeout, // the first ping comes after the timeout
		PingTimeout:    time.Second,
		UpgradeTimeout: upgradeTimeout,
	}, true)
	sid := h.handshake()
	s := h.nextSession()
	early := append(textFrame("2probe"), textFrame("5")...)
	c, r := h.dialWSRaw("EIO=4&transport=websocket&sid="+sid, nil, early)
	if c == nil {
		t.Fatalf("upgrade refused: %v", r)
	}
	c.expect("3probe")
	// The ping comes over the WebSocket after the upgrade timeout has
	// passed: the upgraded connection survived it.
	c.expect("2")
	c.send("3")
	c.send("4hello")
	c.expect("4hello")
	if s.Transport() != "websocket" {
		t.Errorf("Transport() = %q", s.Transport())
	}
	h.expectNoClose()
}

// TestWebSocketPipelinedFrames sends frames in the same write as the
// WebSocket handshake request: a message (answered after the open packet)
// and a ping frame, answered at once (that write used to hit a
// connection not yet registered with the event loop).
func TestWebSocketPipelinedFrames(t *testing.T) {
	h := newHarness(t, nil, true)
	early := append(textFrame("4early"), frameBytes(true, 0, opPing, true, []byte("hi"))...)
	c, r := h.dialWSRaw("EIO=4&transport=websocket", nil, early)
	if c == nil {
		t.Fatalf("upgrade refused: %v", r)
	}
	var got []string
	for len(got) < 3 {
		f := c.next()
		switch f.op {
		case opPong:
			got = append(got, "pong:"+string(f.payload))
		case opText:
			if strings.HasPrefix(string(f.payload), "0") {
				openPacket(t, string(f.payload))
				got = append(got, "open")
			} else {
				got = append(got, string(f.payload))
			}
		default:
			t.Fatalf("unexpected frame op %#x", f.op)
		}
	}
	// The pong may come first; the echo must follow the open packet.
	if i, j := slices.Index(got, "open"), slices.Index(got, "4early"); i < 0 || j < i || !slices.Contains(got, "pong:hi") {
		t.Fatalf("frames %q: want the open packet, then \"4early\", and a pong", got)
	}
	c.send("4after")
	c.expect("4after")
}

func TestShutdown(t *testing.T) {
	h := newHarness(t, nil, true)
	psid := h.handshake()
	h.nextSession()
	h.drainGets()
	pending := h.pollAsync(context.Background(), psid)
	h.awaitGet(psid)
	ws := h.dialWS("EIO=4&transport=websocket")
	wsid := ws.expectOpen().SID
	wsess := h.nextSession()

	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	// Every client is told.
	expectReply(t, receive(t, pending), http.StatusOK, "1")
	ws.expect("1")
	if code := ws.expectClosed(); code != 1000 {
		t.Errorf("close code %d, want 1000", code)
	}
	h.expectClose(psid, engineio.ReasonServerShutdown)
	h.expectClose(wsid, engineio.ReasonServerShutdown)
	if n := h.srv.Count(); n != 0 {
		t.Errorf("Count() = %d after Shutdown", n)
	}
	// New requests are refused.
	if r := h.do("GET", "EIO=4&transport=polling", "", nil); r.status != http.StatusServiceUnavailable {
		t.Errorf("request after Shutdown: %v, want 503", r)
	}
	if c, r := h.dialWSRaw("EIO=4&transport=websocket", nil, nil); c != nil || r.status != http.StatusServiceUnavailable {
		t.Errorf("WebSocket after Shutdown: %v, want 503", r)
	}
	if err := wsess.Send(engineio.NewMessage([]byte("x"), false)); !errors.Is(err, engineio.ErrClosed) {
		t.Errorf("Send after Shutdown: %v", err)
	}
}

// TestShutdownTwice: a second Shutdown (a signal handler and a deferred
// call, say) returns (the first event loop, nbio, panicked on a second Stop).
func TestShutdownTwice(t *testing.T) {
	srv, err := engineio.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	for i := range 3 {
		if err := srv.Shutdown(ctx); err != nil {
			t.Fatalf("Shutdown #%d: %v", i+1, err)
		}
	}
}

// TestNewServerShutdownAtOnce shuts servers down right after creating
// them, before their event loops have had time to start (nbio, the first
// event loop, lost such a stop and spun for ever).
func TestNewServerShutdownAtOnce(t *testing.T) {
	for range 50 {
		srv, err := engineio.NewServer(nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		err = srv.Shutdown(ctx)
		cancel()
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	}
}

// TestSlowWebSocketClient: a client that never reads is disconnected once
// what the server could not write exceeds MaxWriteBuffer; Send never blocks.
func TestSlowWebSocketClient(t *testing.T) {
	const maxWrite = 64 << 10
	h := newHarness(t, &engineio.Options{MaxWriteBuffer: maxWrite, PingInterval: time.Hour}, false)
	c := h.dialWS("EIO=4&transport=websocket")
	if tc, ok := c.nc.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096) // fill the kernel's buffers sooner
	}
	c.expectOpen()
	s := h.nextSession()
	msg := engineio.NewMessage(bytes.Repeat([]byte("x"), 4096), false)
	const limit = 256 << 20 // far more than any kernel buffers
	sent := 0
	start := time.Now()
	for sent < limit {
		if err := s.Send(msg); err != nil {
			break
		}
		sent += 4096
	}
	if sent >= limit {
		t.Fatalf("sent %d MiB to a client that does not read without being refused", limit>>20)
	}
	if d := time.Since(start); d > waitFor {
		t.Errorf("sending took %v: Send blocked", d)
	}
	// The write that overflowed closes the connection, whether Send or the
	// event loop reports it first.
	h.expectClose(s.ID(), engineio.ReasonSlowClient)
	h.awaitCount(0)
	t.Logf("refused after %d KiB", sent>>10)
}

func TestManyWebSocketSessions(t *testing.T) {
	h := newHarness(t, nil, true)
	const n = 20
	clients := make([]*wsClient, n)
	for i := range clients {
		clients[i] = h.dialWS("EIO=4&transport=websocket")
		clients[i].expectOpen()
	}
	h.awaitCount(n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				want := fmt.Sprintf("4c%d-%d", i, j)
				if _, err := c.nc.Write(textFrame(want)); err != nil {
					errs <- err
					return
				}
				f, err := c.readFrame()
				if err != nil || string(f.payload) != want {
					errs <- fmt.Errorf("client %d: got %q, %v; want %q", i, f.payload, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, c := range clients {
		c.nc.Close()
	}
	h.awaitCount(0)
}

// TestWebSocketOverTLS covers connections the event loop cannot take (TLS
// served by net/http): they are read by a goroutine of their own, which
// must end with the connection.
func TestWebSocketOverTLS(t *testing.T) {
	h := startHarness(t, nil, true, true)
	sid := h.handshake()
	s := h.nextSession()
	if !s.Handshake().Secure {
		t.Error("Handshake().Secure is false over TLS")
	}
	c := h.dialWS("EIO=4&transport=websocket&sid=" + sid)
	c.send("2probe")
	c.expect("3probe")
	c.send("5")
	c.send("4hello")
	c.expect("4hello")
	c.sendBinary([]byte{7})
	c.expectBinary([]byte{7})
	c.sendClose(1000)
	if code := c.expectClosed(); code != 1000 {
		t.Errorf("close code %d", code)
	}
	h.expectClose(sid, engineio.ReasonTransportClose)

	c2 := h.dialWS("EIO=4&transport=websocket")
	o := c2.expectOpen()
	c2.write(frameBytes(true, 0, opText, false, []byte("4x"))) // unmasked
	if code := c2.expectClosed(); code != 1002 {
		t.Errorf("close code %d, want 1002", code)
	}
	h.expectClose(o.SID, engineio.ReasonTransportClose)
	h.awaitCount(0)
}

// A WebSocket-only session is a WebSocket session from the start: its
// connection callback, which runs before the socket is attached, sees so.
func TestTransportInConnectionCallback(t *testing.T) {
	h := newHarness(t, nil, true)
	c := h.dialWS("EIO=4&transport=websocket")
	c.expectOpen()
	select {
	case tr := <-h.transports:
		if tr != "websocket" {
			t.Fatalf("Transport() in the connection callback = %q, want websocket", tr)
		}
	case <-time.After(waitFor):
		t.Fatal("connection callback not called")
	}
}

// Through Listen, connections that are not WebSocket upgrades to the
// Engine.IO path reach net/http whole: another route, then a second
// request on the same keep-alive connection.
func TestListenHandsOtherRequestsToNetHTTP(t *testing.T) {
	h := newHarness(t, nil, true)
	nc := h.dial()
	defer nc.Close()
	br := bufio.NewReader(nc)
	for _, path := range []string{"/elsewhere", "/engine.io/?EIO=4&transport=polling"} {
		fmt.Fprintf(nc, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case path == "/elsewhere" && resp.StatusCode != http.StatusNotFound:
			t.Fatalf("GET %s: %d %q, want the mux's 404", path, resp.StatusCode, body)
		case path != "/elsewhere" && (resp.StatusCode != http.StatusOK || !bytes.HasPrefix(body, []byte("0{"))):
			t.Fatalf("GET %s: %d %q, want an open packet", path, resp.StatusCode, body)
		}
	}
}

// Through Listen, a request head longer than the loop reads (a heap of
// cookies) is handed to net/http, which upgrades it as it would have; a
// head trickled a byte at a time is still found; one that never completes
// is closed after the head timeout.
func TestListenBoundsTheRequestHead(t *testing.T) {
	t.Cleanup(engineio.SetUpgradeHeadTimeout(200 * time.Millisecond)) // after the harness's
	h := newHarness(t, nil, true)

	big, r := h.dialWSRaw("EIO=4&transport=websocket", http.Header{"Cookie": {"big=" + strings.Repeat("a", 20<<10)}}, nil)
	if big == nil {
		t.Fatalf("upgrade with a 20 KiB head: %v, want 101", r)
	}
	big.expectOpen()
	big.send("4long head")
	big.expect("4long head")

	nc := h.dial()
	defer nc.Close()
	head := "GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n" +
		"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	for i := range len(head) {
		if _, err := nc.Write([]byte{head[i]}); err != nil {
			t.Fatal(err)
		}
	}
	_ = nc.SetReadDeadline(time.Now().Add(waitFor))
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("trickled head: %v %v, want 101", resp, err)
	}

	slow := h.dial()
	defer slow.Close()
	start := time.Now()
	if _, err := slow.Write([]byte("GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = slow.SetReadDeadline(time.Now().Add(waitFor))
	if n, err := slow.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("incomplete head: read %d, %v; want the connection closed", n, err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("closed after %v, before the head timeout", d)
	}
}

// A bad frame sent with the upgrade request closes the connection before
// the session is attached to it: the session must end at once all the
// same, not at the ping timeout (over the event loop and over TLS).
func TestBadFirstFrameEndsTheSession(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		h := startHarness(t, &engineio.Options{PingInterval: time.Minute, PingTimeout: time.Minute}, true, useTLS)
		bad := frameBytes(true, 0, opText, false, []byte("4x")) // unmasked
		c, r := h.dialWSRaw("EIO=4&transport=websocket", nil, bad)
		if c == nil {
			t.Fatalf("TLS %v: upgrade refused: %v", useTLS, r)
		}
		o := c.expectOpen()
		if code := c.expectClosed(); code != 1002 {
			t.Errorf("TLS %v: close code %d, want 1002", useTLS, code)
		}
		h.expectClose(o.SID, engineio.ReasonTransportClose)
	}
}
