package sioclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
)

// Reason maps an error from Dial or ReadLoop to a short, stable label
// suitable for counting failures by cause: addresses, ports and other
// per-connection details are left out.
func Reason(err error) string {
	if err == nil {
		return "ok"
	}
	var (
		de *DialError
		he *HTTPError
		ce *ConnectError
		hs *HandshakeError
		dc *DisconnectError
	)
	switch {
	case errors.As(err, &ce):
		return "connect_error: " + ce.Message
	case errors.As(err, &he):
		body := he.Body
		if len(body) > 60 {
			body = body[:60]
		}
		if body == "" {
			return fmt.Sprintf("http %d", he.StatusCode)
		}
		return fmt.Sprintf("http %d: %s", he.StatusCode, body)
	case errors.As(err, &de):
		return "dial: " + cause(de.Err)
	case errors.As(err, &hs):
		return hs.Stage + " handshake: " + cause(hs.Err)
	case errors.As(err, &dc):
		if dc.Err == nil {
			return dc.Reason
		}
		return dc.Reason + ": " + cause(dc.Err)
	}
	return cause(err)
}

// cause reduces a low-level error to its essence.
func cause(err error) string {
	var errno syscall.Errno
	var ne net.Error
	var ce *CloseError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &errno):
		return errno.Error()
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	case errors.Is(err, net.ErrClosed):
		return "use of closed connection"
	case errors.As(err, &ce):
		return fmt.Sprintf("websocket close %d", ce.Code)
	}
	s := err.Error()
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}
