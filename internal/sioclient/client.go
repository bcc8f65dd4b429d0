package sioclient

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults applied by Dial to zero Config fields.
const (
	DefaultPath             = "/socket.io/"
	DefaultHandshakeTimeout = 30 * time.Second
	DefaultWriteTimeout     = 10 * time.Second
	DefaultMaxMessage       = 1 << 20
	DefaultReadBufferSize   = 512
)

// Config describes one client connection. A Config may be shared by many
// Dial calls as long as it is not modified meanwhile.
type Config struct {
	// Addr is the TCP address dialled, "host:port". Give an IP address to
	// avoid a DNS lookup per connection.
	Addr string
	// Host is sent as the Host header and used as the TLS server name.
	Host string
	// Path of the Engine.IO endpoint; DefaultPath when empty.
	Path string
	// Query holds extra, already encoded query parameters (without '?'),
	// sent before EIO=4&transport=websocket.
	Query string
	// TLS, when non-nil, makes the connection use TLS (wss://).
	TLS *tls.Config
	// Namespace to connect to; "/" when empty.
	Namespace string
	// Auth is the JSON auth payload of the CONNECT packet (the client's
	// `auth` option); nil sends a bare "40".
	Auth []byte
	// Cookie and Origin, when non-empty, are sent as request headers.
	Cookie string
	Origin string
	// Header holds further request headers.
	Header http.Header
	// LocalAddr is the local address to bind (nil: chosen by the kernel).
	LocalAddr net.Addr
	// HandshakeTimeout bounds TCP connect, WebSocket upgrade, Engine.IO
	// open and Socket.IO CONNECT together.
	HandshakeTimeout time.Duration
	// WriteTimeout bounds every frame write.
	WriteTimeout time.Duration
	// MaxMessage bounds the size of one received message.
	MaxMessage int
	// ReadBufferSize is the size of the per-connection bufio.Reader.
	ReadBufferSize int
}

// Conn is an established Socket.IO client connection: the WebSocket is
// open, the Engine.IO handshake done and the namespace connected.
//
// ReadLoop must be running for the connection to answer the server's
// pings. Writes (Emit, WriteMessage, Close) may be called from any
// goroutine.
type Conn struct {
	nc          net.Conn
	br          *bufio.Reader
	ns          string
	engineSID   string
	sid         string
	readTimeout time.Duration // pingInterval + pingTimeout, like socket.io-client
	wTimeout    time.Duration
	maxMessage  int
	rbuf        []byte // owned by the reading goroutine

	wmu     sync.Mutex
	wbuf    []byte // guarded by wmu
	wclosed bool   // close frame sent; guarded by wmu

	closing atomic.Bool // Close called or ReadLoop ended
	running atomic.Bool // ReadLoop started
	done    chan struct{}
}

// Error kinds returned by Dial.

// DialError is a failure to establish the TCP (or TLS) connection.
type DialError struct{ Err error }

func (e *DialError) Error() string { return "dial: " + e.Err.Error() }
func (e *DialError) Unwrap() error { return e.Err }

// HTTPError is a non-101 reply to the WebSocket upgrade request.
type HTTPError struct {
	StatusCode int
	Status     string
	Body       string // first bytes of the body
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("http %s: %s", e.Status, e.Body)
}

// HandshakeError is a protocol violation, timeout or connection loss
// during the WebSocket, Engine.IO or Socket.IO handshake.
type HandshakeError struct {
	Stage string // "websocket", "engine.io" or "socket.io"
	Err   error
}

func (e *HandshakeError) Error() string { return e.Stage + " handshake: " + e.Err.Error() }
func (e *HandshakeError) Unwrap() error { return e.Err }

// DisconnectError tells why ReadLoop ended: the reason strings are those
// socket.io-client reports in its "disconnect" event.
type DisconnectError struct {
	Reason string // "io server disconnect", "transport close", "ping timeout", "transport error", "parse error"
	Err    error
}

func (e *DisconnectError) Error() string {
	if e.Err == nil {
		return e.Reason
	}
	return e.Reason + ": " + e.Err.Error()
}
func (e *DisconnectError) Unwrap() error { return e.Err }

// ErrClosed is returned by writes on a connection being closed.
var ErrClosed = errors.New("sioclient: connection closed")

var aLongTimeAgo = time.Unix(1, 0)

// Dial connects to a Socket.IO v4 server the way socket.io-client does
// with transports: ["websocket"]: WebSocket upgrade on
// <path>?EIO=4&transport=websocket, Engine.IO open packet, then a CONNECT
// (40) for the namespace, waiting for the CONNECT reply. A CONNECT_ERROR
// reply is returned as *ConnectError.
func Dial(ctx context.Context, cfg *Config) (*Conn, error) {
	hsTimeout := cfg.HandshakeTimeout
	if hsTimeout <= 0 {
		hsTimeout = DefaultHandshakeTimeout
	}
	hctx, cancel := context.WithTimeout(ctx, hsTimeout)
	defer cancel()

	d := net.Dialer{LocalAddr: cfg.LocalAddr, KeepAlive: -1}
	nc, err := d.DialContext(hctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, &DialError{Err: err}
	}
	// Every read and write of the handshake is bounded by hctx: its
	// deadline directly, its cancellation through AfterFunc.
	dl, _ := hctx.Deadline()
	nc.SetDeadline(dl)
	stop := context.AfterFunc(hctx, func() { nc.SetDeadline(aLongTimeAgo) })
	c, err := handshake(hctx, nc, cfg)
	if !stop() && err == nil {
		err = &HandshakeError{Stage: "socket.io", Err: hctx.Err()}
	}
	if err != nil {
		nc.Close()
		if hctx.Err() != nil && !isConnectError(err) {
			// Report the deadline/cancellation rather than the i/o
			// error it provoked.
			var he *HandshakeError
			if errors.As(err, &he) {
				he.Err = hctx.Err()
			}
		}
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	return c, nil
}

func isConnectError(err error) bool {
	var ce *ConnectError
	var he *HTTPError
	return errors.As(err, &ce) || errors.As(err, &he)
}

func handshake(ctx context.Context, nc net.Conn, cfg *Config) (*Conn, error) {
	host := cfg.Host
	if host == "" {
		host = cfg.Addr
	}
	if cfg.TLS != nil {
		tc := cfg.TLS
		if tc.ServerName == "" {
			tc = tc.Clone()
			h, _, err := net.SplitHostPort(host)
			if err != nil {
				h = host
			}
			tc.ServerName = h
		}
		tconn := tls.Client(nc, tc)
		if err := tconn.HandshakeContext(ctx); err != nil {
			return nil, &DialError{Err: err}
		}
		nc = tconn
	}
	rbs := cfg.ReadBufferSize
	if rbs <= 0 {
		rbs = DefaultReadBufferSize
	}
	c := &Conn{
		nc:         nc,
		br:         bufio.NewReaderSize(nc, rbs),
		ns:         cfg.Namespace,
		wTimeout:   cfg.WriteTimeout,
		maxMessage: cfg.MaxMessage,
		done:       make(chan struct{}),
	}
	if c.ns == "" {
		c.ns = "/"
	}
	if c.wTimeout <= 0 {
		c.wTimeout = DefaultWriteTimeout
	}
	if c.maxMessage <= 0 {
		c.maxMessage = DefaultMaxMessage
	}

	// WebSocket upgrade (RFC 6455 §4.1).
	var keyRaw [16]byte
	rand.Read(keyRaw[:])
	key := base64.StdEncoding.EncodeToString(keyRaw[:])
	path := cfg.Path
	if path == "" {
		path = DefaultPath
	}
	var req strings.Builder
	req.Grow(256 + len(cfg.Cookie))
	req.WriteString("GET ")
	req.WriteString(path)
	req.WriteByte('?')
	if cfg.Query != "" {
		req.WriteString(cfg.Query)
		req.WriteByte('&')
	}
	req.WriteString("EIO=4&transport=websocket HTTP/1.1\r\nHost: ")
	req.WriteString(host)
	req.WriteString("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ")
	req.WriteString(key)
	req.WriteString("\r\nSec-WebSocket-Version: 13\r\n")
	if cfg.Origin != "" {
		req.WriteString("Origin: " + cfg.Origin + "\r\n")
	}
	if cfg.Cookie != "" {
		req.WriteString("Cookie: " + cfg.Cookie + "\r\n")
	}
	for k, vs := range cfg.Header {
		for _, v := range vs {
			req.WriteString(k + ": " + v + "\r\n")
		}
	}
	req.WriteString("\r\n")
	if _, err := io.WriteString(nc, req.String()); err != nil {
		return nil, &HandshakeError{Stage: "websocket", Err: err}
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return nil, &HandshakeError{Stage: "websocket", Err: err}
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		resp.Body.Close()
		return nil, &HTTPError{StatusCode: resp.StatusCode, Status: resp.Status, Body: strings.TrimSpace(string(body))}
	}
	switch {
	case !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket"):
		return nil, &HandshakeError{Stage: "websocket", Err: errors.New("101 without Upgrade: websocket")}
	case !headerHasToken(resp.Header, "Connection", "upgrade"):
		return nil, &HandshakeError{Stage: "websocket", Err: errors.New("101 without Connection: Upgrade")}
	case resp.Header.Get("Sec-WebSocket-Accept") != acceptKey(key):
		return nil, &HandshakeError{Stage: "websocket", Err: errors.New("bad Sec-WebSocket-Accept")}
	case resp.Header.Get("Sec-WebSocket-Extensions") != "":
		return nil, &HandshakeError{Stage: "websocket", Err: errors.New("server selected an extension that was not offered")}
	}

	// Engine.IO open packet.
	op, msg, err := c.readMessage()
	if err != nil {
		return nil, &HandshakeError{Stage: "engine.io", Err: err}
	}
	if op != opText {
		return nil, &HandshakeError{Stage: "engine.io", Err: errors.New("binary frame before open packet")}
	}
	open, err := ParseOpen(msg)
	if err != nil {
		return nil, &HandshakeError{Stage: "engine.io", Err: err}
	}
	c.engineSID = open.SID
	c.readTimeout = time.Duration(open.PingInterval+open.PingTimeout) * time.Millisecond

	// Socket.IO CONNECT and its reply.
	if err := c.WriteMessage(AppendConnect(nil, c.ns, cfg.Auth)); err != nil {
		return nil, &HandshakeError{Stage: "socket.io", Err: err}
	}
	for range 64 { // bounded: a server has no reason to send much before the reply
		op, msg, err := c.readMessage()
		if err != nil {
			return nil, &HandshakeError{Stage: "socket.io", Err: err}
		}
		if op != opText || len(msg) == 0 {
			continue
		}
		switch msg[0] {
		case EIOPing:
			if err := c.pong(msg[1:]); err != nil {
				return nil, &HandshakeError{Stage: "socket.io", Err: err}
			}
		case EIOClose:
			return nil, &HandshakeError{Stage: "socket.io", Err: errors.New("engine.io close before connect reply")}
		case EIOMessage:
			pk, err := ParsePacket(msg[1:])
			if err != nil {
				return nil, &HandshakeError{Stage: "socket.io", Err: err}
			}
			if pk.Namespace != c.ns {
				continue
			}
			switch pk.Type {
			case SIOConnect:
				ack, err := ParseConnectAck(pk.Data)
				if err != nil {
					return nil, &HandshakeError{Stage: "socket.io", Err: err}
				}
				c.sid = ack.SID
				c.shrink()
				return c, nil
			case SIOConnectError:
				return nil, ParseConnectError(pk.Data)
			case SIODisconnect:
				return nil, &HandshakeError{Stage: "socket.io", Err: errors.New("disconnect before connect reply")}
			}
		}
	}
	return nil, &HandshakeError{Stage: "socket.io", Err: errors.New("no connect reply within 64 messages")}
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// SID is the Socket.IO socket id from the CONNECT reply.
func (c *Conn) SID() string { return c.sid }

// EngineSID is the Engine.IO session id from the open packet.
func (c *Conn) EngineSID() string { return c.engineSID }

// LocalAddr is the local address of the TCP connection.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// Done is closed when ReadLoop has returned.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Handler receives what ReadLoop decodes. The data slices alias the
// connection's read buffer and are valid only during the call. Handlers
// run on the reading goroutine: they must not block for long, or the
// connection stops answering pings.
type Handler struct {
	// Event receives each event: name and the whole JSON array payload
	// ["name",arg...].
	Event func(name string, data []byte)
	// Ack receives each acknowledgement: id and the JSON array of its
	// arguments.
	Ack func(id int64, data []byte)
}

// ReadLoop reads until the connection ends, answering Engine.IO pings
// and dispatching events to h. It returns nil when the connection was
// closed by Close, otherwise a *DisconnectError. It must be called at most
// once; it closes the network connection before returning.
func (c *Conn) ReadLoop(h Handler) (err error) {
	c.running.Store(true)
	defer func() {
		if c.closing.Swap(true) {
			err = nil // our Close is under way: whatever ended the read is expected
		}
		c.nc.Close()
		close(c.done)
	}()
	skip := 0 // binary attachments of the current binary packet, ignored
	for {
		if !c.closing.Load() {
			c.nc.SetReadDeadline(time.Now().Add(c.readTimeout))
		}
		op, msg, err := c.readMessage()
		if err != nil {
			return classifyReadError(err)
		}
		if op == opBinary {
			if skip > 0 {
				skip--
			}
			continue
		}
		if len(msg) == 0 {
			return &DisconnectError{Reason: "parse error", Err: errors.New("empty text frame")}
		}
		switch msg[0] {
		case EIOPing:
			if err := c.pong(msg[1:]); err != nil {
				return &DisconnectError{Reason: "transport error", Err: err}
			}
		case EIOPong, EIONoop:
		case EIOClose:
			return &DisconnectError{Reason: "transport close"}
		case EIOMessage:
			pk, err := ParsePacket(msg[1:])
			if err != nil {
				return &DisconnectError{Reason: "parse error", Err: err}
			}
			if pk.Namespace != c.ns {
				continue
			}
			switch pk.Type {
			case SIOEvent, SIOBinaryEvent:
				skip = pk.Attachments
				if h.Event != nil {
					name, err := EventName(pk.Data)
					if err != nil {
						return &DisconnectError{Reason: "parse error", Err: err}
					}
					h.Event(name, pk.Data)
				}
			case SIOAck, SIOBinaryAck:
				skip = pk.Attachments
				if h.Ack != nil {
					h.Ack(pk.ID, pk.Data)
				}
			case SIODisconnect:
				return &DisconnectError{Reason: "io server disconnect"}
			case SIOConnectError:
				return &DisconnectError{Reason: "io server disconnect", Err: ParseConnectError(pk.Data)}
			}
		default:
			return &DisconnectError{Reason: "parse error", Err: fmt.Errorf("unknown engine.io packet type %q", msg[0])}
		}
	}
}

func classifyReadError(err error) error {
	var ce *CloseError
	var ne net.Error
	switch {
	case errors.As(err, &ce):
		return &DisconnectError{Reason: "transport close", Err: err}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &DisconnectError{Reason: "transport close", Err: err}
	case errors.As(err, &ne) && ne.Timeout():
		return &DisconnectError{Reason: "ping timeout"}
	default:
		return &DisconnectError{Reason: "transport error", Err: err}
	}
}

// readMessage reads one complete data message, reassembling fragments and
// handling interleaved control frames. The returned slice aliases c.rbuf
// and is valid until the next call.
func (c *Conn) readMessage() (byte, []byte, error) {
	var op byte
	buf := c.rbuf[:0]
	for range 1 << 16 { // bounded: fragments and control frames per message
		h, err := readFrameHeader(c.br)
		if err != nil {
			return 0, nil, err
		}
		if h.masked {
			c.writeClose(closeProtocolError)
			return 0, nil, errMaskedByServer
		}
		if h.op >= opClose {
			var cb [125]byte
			p := cb[:h.length]
			if _, err := io.ReadFull(c.br, p); err != nil {
				return 0, nil, unexpected(err)
			}
			switch h.op {
			case opPing:
				if err := c.writeFrame(opPong, p); err != nil {
					return 0, nil, err
				}
			case opClose:
				ce := parseClosePayload(p)
				code := ce.Code
				if code == closeNoStatus {
					code = closeNormal
				}
				c.writeClose(code) // echo, unless we sent ours already
				return 0, nil, ce
			}
			continue
		}
		if h.op == opContinuation {
			if op == 0 {
				return 0, nil, errBadContinue
			}
		} else {
			if op != 0 {
				return 0, nil, errNotContinued
			}
			op = h.op
		}
		if uint64(len(buf))+h.length > uint64(c.maxMessage) {
			c.writeClose(closeTooBig)
			return 0, nil, fmt.Errorf("websocket: message larger than %d bytes", c.maxMessage)
		}
		n := len(buf)
		buf = append(buf, make([]byte, int(h.length))...)
		if _, err := io.ReadFull(c.br, buf[n:]); err != nil {
			return 0, nil, unexpected(err)
		}
		if h.fin {
			c.rbuf = buf
			if cap(buf) > 4096 {
				c.rbuf = nil // do not keep large buffers on idle connections
			}
			return op, buf, nil
		}
	}
	return 0, nil, errors.New("websocket: too many frames in one message")
}

// shrink drops buffers grown during the handshake.
func (c *Conn) shrink() {
	c.rbuf = nil
	c.wmu.Lock()
	c.wbuf = nil
	c.wmu.Unlock()
}

func (c *Conn) pong(payload []byte) error {
	var b [16]byte
	m := append(b[:0], EIOPong)
	m = append(m, payload...) // "2probe" → "3probe"
	return c.WriteMessage(m)
}

// WriteMessage sends one Engine.IO packet as a text frame, e.g.
// `42["event",1]`.
func (c *Conn) WriteMessage(msg []byte) error { return c.writeFrame(opText, msg) }

// Emit sends an event to the connection's namespace.
func (c *Conn) Emit(event string, args ...any) error {
	m, err := AppendEvent(nil, c.ns, -1, event, args...)
	if err != nil {
		return err
	}
	return c.WriteMessage(m)
}

// EmitWithAck sends an event requesting acknowledgement id.
func (c *Conn) EmitWithAck(id int64, event string, args ...any) error {
	m, err := AppendEvent(nil, c.ns, id, event, args...)
	if err != nil {
		return err
	}
	return c.WriteMessage(m)
}

func (c *Conn) writeFrame(op byte, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.wclosed {
		return ErrClosed
	}
	return c.writeFrameLocked(op, payload)
}

func (c *Conn) writeFrameLocked(op byte, payload []byte) error {
	var mask [4]byte
	binary.LittleEndian.PutUint32(mask[:], mrand.Uint32())
	c.wbuf = appendFrame(c.wbuf[:0], op, payload, mask)
	c.nc.SetWriteDeadline(time.Now().Add(c.wTimeout))
	_, err := c.nc.Write(c.wbuf)
	if cap(c.wbuf) > 1024 {
		c.wbuf = nil
	}
	return err
}

// writeClose sends a close frame once; later writes fail with ErrClosed.
func (c *Conn) writeClose(code int) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.wclosed {
		return
	}
	c.wclosed = true
	c.writeFrameLocked(opClose, closePayload(code, ""))
}

// Close disconnects like socket.io-client's socket.disconnect(): a
// Socket.IO DISCONNECT (41), then the WebSocket closing handshake, waiting
// at most wait for the server's close frame before closing the TCP
// connection. It is safe to call more than once and concurrently with
// ReadLoop.
func (c *Conn) Close(wait time.Duration) error {
	if c.closing.Swap(true) {
		return nil
	}
	var b [32]byte
	m := append(b[:0], EIOMessage, SIODisconnect)
	if c.ns != "/" {
		m = append(m, c.ns...)
		m = append(m, ',')
	}
	c.WriteMessage(m)
	c.writeClose(closeNormal)
	if !c.running.Load() {
		return c.nc.Close()
	}
	c.nc.SetReadDeadline(time.Now().Add(wait))
	t := time.NewTimer(wait + 100*time.Millisecond)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
	}
	return c.nc.Close()
}
