//go:build !linux

package evloop

import "net"

// Engine is unavailable on this system: New returns ErrUnsupported.
type Engine struct{}

// Conn is unavailable on this system.
type Conn struct{}

// New returns ErrUnsupported.
func New(Config) (*Engine, error) { return nil, ErrUnsupported }

// Stop does nothing.
func (*Engine) Stop() {}

// Add returns ErrNotSocket, leaving nc as it was.
func (*Engine) Add(nc net.Conn, session any) (*Conn, error) { return nil, ErrNotSocket }

// Session returns nil.
func (*Conn) Session() any { return nil }

// SetSession does nothing.
func (*Conn) SetSession(any) {}

// Detach returns ErrClosed.
func (*Conn) Detach() (net.Conn, error) { return nil, ErrClosed }

// Write returns ErrClosed.
func (*Conn) Write([]byte) (int, error) { return 0, ErrClosed }

// Close does nothing.
func (*Conn) Close() error { return nil }
