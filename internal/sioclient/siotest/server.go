// Package siotest is a fake Socket.IO v4 server for tests of the load
// client. It implements only the minimum of the protocol over WebSocket:
// the Engine.IO open packet, the CONNECT reply (or CONNECT_ERROR), server
// pings with a ping timeout, DISCONNECT, events and the WebSocket closing
// handshake. It is not a server to measure: use it in unit tests only.
//
// Its WebSocket framing is written independently of package sioclient's,
// so tests exercise the client against a second implementation.
package siotest

import (
	"bufio"
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
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a Server. Zero values give a 100 ms ping interval and
// a 200 ms ping timeout.
type Options struct {
	PingInterval time.Duration
	PingTimeout  time.Duration
	// Reject, when set, is called before the upgrade; a non-zero return
	// value refuses the request with that HTTP status.
	Reject func(r *http.Request) int
	// Authorize, when set, decides the CONNECT packet: a non-nil error
	// is sent back as CONNECT_ERROR with the error text as message.
	Authorize func(r *http.Request, auth []byte) error
	// NoPing, when set, announces the ping timings but never pings, so
	// that clients must detect the dead server themselves.
	NoPing bool
	// OnConnect is called once a CONNECT has been acknowledged.
	OnConnect func(c *Conn)
	// OnEvent is called for each event packet (the part after "42").
	OnEvent func(c *Conn, payload []byte)
}

// Server is a running fake server.
type Server struct {
	*httptest.Server
	opts Options

	mu     sync.Mutex
	conns  map[*Conn]struct{}
	closed bool
	wg     sync.WaitGroup

	Upgrades    atomic.Int64 // WebSocket upgrades done
	Connected   atomic.Int64 // CONNECT packets acknowledged
	Refused     atomic.Int64 // CONNECT_ERROR sent
	Pongs       atomic.Int64 // pongs received
	Disconnects atomic.Int64 // DISCONNECT (41) packets received
	CloseFrames atomic.Int64 // WebSocket close frames received
	PingTimeout atomic.Int64 // connections dropped for lack of pong
	Unmasked    atomic.Int64 // client frames without mask (protocol violation)
}

// NewServer starts a fake server on a loopback port.
func NewServer(opts Options) *Server {
	if opts.PingInterval <= 0 {
		opts.PingInterval = 100 * time.Millisecond
	}
	if opts.PingTimeout <= 0 {
		opts.PingTimeout = 200 * time.Millisecond
	}
	s := &Server{opts: opts, conns: make(map[*Conn]struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Close closes every connection and stops the server.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.Server.Close()
	s.wg.Wait()
}

// Open reports the number of connections currently open.
func (s *Server) Open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Each calls f for every open connection.
func (s *Server) Each(f func(c *Conn)) {
	s.mu.Lock()
	cs := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	for _, c := range cs {
		f(c)
	}
}

// Conn is one server-side connection.
type Conn struct {
	Request *http.Request
	SID     string
	nc      net.Conn
	br      *bufio.Reader
	wmu     sync.Mutex
	pong    chan struct{}
	done    chan struct{}
}

// Send writes one Engine.IO packet as a text frame.
func (c *Conn) Send(msg string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return writeServerFrame(c.nc, 0x1, []byte(msg))
}

// Emit sends an event to the default namespace.
func (c *Conn) Emit(event string, args ...any) error {
	b, err := json.Marshal(append([]any{event}, args...))
	if err != nil {
		return err
	}
	return c.Send("42" + string(b))
}

// Close drops the TCP connection without a closing handshake.
func (c *Conn) Close() { c.nc.Close() }

var sidSeq atomic.Int64

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("EIO") != "4" || q.Get("transport") != "websocket" {
		http.Error(w, `{"code":3,"message":"Bad request"}`, http.StatusBadRequest)
		return
	}
	if s.opts.Reject != nil {
		if st := s.opts.Reject(r); st != 0 {
			http.Error(w, `{"code":4,"message":"Forbidden"}`, st)
			return
		}
	}
	key := r.Header.Get("Sec-WebSocket-Key")
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || key == "" || r.Header.Get("Sec-WebSocket-Version") != "13" {
		http.Error(w, `{"code":3,"message":"Bad request"}`, http.StatusBadRequest)
		return
	}
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	c := &Conn{Request: r, nc: nc, br: brw.Reader, done: make(chan struct{}),
		pong: make(chan struct{}, 1), SID: fmt.Sprintf("fake%06d", sidSeq.Add(1))}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		nc.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		nc.Close()
		close(c.done)
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.wg.Done()
	}()

	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		base64.StdEncoding.EncodeToString(h[:]) + "\r\n\r\n"
	if _, err := io.WriteString(nc, resp); err != nil {
		return
	}
	s.Upgrades.Add(1)
	open := fmt.Sprintf(`0{"sid":%q,"upgrades":[],"pingInterval":%d,"pingTimeout":%d,"maxPayload":1000000}`,
		c.SID, s.opts.PingInterval.Milliseconds(), s.opts.PingTimeout.Milliseconds())
	if c.Send(open) != nil {
		return
	}
	connected := false
	for {
		op, p, err := readClientFrame(c.br)
		if err != nil {
			if errors.Is(err, errUnmasked) {
				s.Unmasked.Add(1)
			}
			return
		}
		switch op {
		case 0x8: // close: echo and finish
			s.CloseFrames.Add(1)
			c.wmu.Lock()
			writeServerFrame(c.nc, 0x8, p)
			c.wmu.Unlock()
			return
		case 0x9:
			c.wmu.Lock()
			writeServerFrame(c.nc, 0xA, p)
			c.wmu.Unlock()
			continue
		case 0x1:
		default:
			continue
		}
		msg := string(p)
		switch {
		case !connected && strings.HasPrefix(msg, "40"):
			auth := []byte(msg[2:])
			if s.opts.Authorize != nil {
				if err := s.opts.Authorize(r, auth); err != nil {
					b, _ := json.Marshal(map[string]string{"message": err.Error()})
					c.Send("44" + string(b))
					s.Refused.Add(1)
					continue
				}
			}
			connected = true
			c.Send(fmt.Sprintf(`40{"sid":"io-%s"}`, c.SID))
			s.Connected.Add(1)
			if !s.opts.NoPing {
				s.wg.Add(1)
				go s.pinger(c)
			}
			if s.opts.OnConnect != nil {
				s.opts.OnConnect(c)
			}
		case msg == "3":
			s.Pongs.Add(1)
			select {
			case c.pong <- struct{}{}:
			default:
			}
		case msg == "41":
			s.Disconnects.Add(1)
		case strings.HasPrefix(msg, "42") && s.opts.OnEvent != nil:
			s.opts.OnEvent(c, p[2:])
		}
	}
}

// pinger mimics engine.io's server: ping, wait at most PingTimeout for the
// pong, then wait PingInterval before the next ping.
func (s *Server) pinger(c *Conn) {
	defer s.wg.Done()
	t := time.NewTimer(s.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		if c.Send("2") != nil {
			return
		}
		t.Reset(s.opts.PingTimeout)
		select {
		case <-c.done:
			return
		case <-c.pong:
			t.Stop() // Go ≥1.23 timers: no stale tick to drain
		case <-t.C:
			s.PingTimeout.Add(1)
			c.nc.Close()
			return
		}
		t.Reset(s.opts.PingInterval)
	}
}

var errUnmasked = errors.New("siotest: unmasked client frame")

// readClientFrame reads one whole (unfragmented or reassembled) message
// or control frame from a client; client frames must be masked.
func readClientFrame(r *bufio.Reader) (byte, []byte, error) {
	var msgOp byte
	var msg []byte
	for range 1024 {
		var hdr [2]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return 0, nil, err
		}
		fin, op := hdr[0]&0x80 != 0, hdr[0]&0x0F
		if hdr[1]&0x80 == 0 {
			return 0, nil, errUnmasked
		}
		n := uint64(hdr[1] & 0x7F)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(r, b[:]); err != nil {
				return 0, nil, err
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(r, b[:]); err != nil {
				return 0, nil, err
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		if n > 1<<20 {
			return 0, nil, errors.New("siotest: frame too large")
		}
		var key [4]byte
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return 0, nil, err
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(r, p); err != nil {
			return 0, nil, err
		}
		for i := range p {
			p[i] ^= key[i%4]
		}
		if op >= 0x8 {
			return op, p, nil
		}
		if op != 0 {
			msgOp = op
		}
		msg = append(msg, p...)
		if fin {
			return msgOp, msg, nil
		}
	}
	return 0, nil, errors.New("siotest: too many fragments")
}

// writeServerFrame writes one final, unmasked frame.
func writeServerFrame(w io.Writer, op byte, p []byte) error {
	b := make([]byte, 0, 10+len(p))
	b = append(b, 0x80|op)
	switch n := len(p); {
	case n <= 125:
		b = append(b, byte(n))
	case n <= 0xFFFF:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	b = append(b, p...)
	_, err := w.Write(b)
	return err
}
