// Package evloop serves many idle TCP connections without a goroutine or a
// buffer each: an epoll set per loop goroutine, read with one shared buffer.
//
// Unlike the usual Go event loops, the loop goroutine never blocks in
// epoll_wait. The epoll descriptor is itself registered with the Go
// runtime's network poller (an epoll set is pollable: it is readable when
// one of its descriptors is ready), so an idle loop is a parked goroutine,
// like a goroutine blocked on a net.Conn read. A loop blocked in a system
// call instead holds an OS thread and, for the runtime, a P: the scheduler
// keeps retaking that P and waking its sysmon thread, which cost more CPU
// per notification than herald's own work (measured: BENCHMARKS.md).
//
// The non-blocking reads, writes and epoll_wait(…, 0) calls use raw system
// calls: they never block, so the runtime need not be told.
package evloop

import (
	"errors"
	"net"
)

var (
	// ErrOverflow closes a connection whose unwritten bytes would exceed
	// Config.MaxWriteBuffer: the peer does not read what it is sent.
	ErrOverflow = errors.New("evloop: write buffer full")
	// ErrClosed is returned by writes to a closed connection.
	ErrClosed = net.ErrClosed
	// ErrNotSocket is returned by Add for a net.Conn that is not a plain
	// socket (a *tls.Conn, say).
	ErrNotSocket = errors.New("evloop: not a socket")
	// ErrUnsupported is returned by New where there is no event loop
	// (other systems than Linux).
	ErrUnsupported = errors.ErrUnsupported
)

// Config sets up an Engine. OnData and OnClose are required.
type Config struct {
	// Loops is the number of loop goroutines (default GOMAXPROCS).
	Loops int
	// ReadBufferSize is each loop's read buffer (default 32 KiB).
	ReadBufferSize int
	// MaxWriteBuffer bounds a connection's unwritten bytes (default 4 MiB).
	MaxWriteBuffer int
	// OnData receives what a connection read. data is only valid during
	// the call, which runs on the connection's loop goroutine.
	OnData func(c *Conn, data []byte)
	// OnClose runs once per connection after it is closed, with why
	// (io.EOF: the peer closed it; nil: Close or Stop was called;
	// ErrOverflow; a socket error). It runs on a goroutine of its own,
	// possibly while an OnData call read before the close is under way.
	OnClose func(c *Conn, err error)
}
