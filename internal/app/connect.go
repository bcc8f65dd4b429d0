package app

import (
	"context"
	"errors"
	"time"

	"github.com/heraldrt/herald/internal/auth"
	"github.com/heraldrt/herald/internal/notify"
	"github.com/heraldrt/herald/socketio"
)

// authTimeout bounds authenticating one CONNECT.
const authTimeout = 5 * time.Second

// Messages a refused client sees in connect_error.
const (
	msgUnauthorized = "Unauthorized user"
	msgUnavailable  = "Authentication is temporarily unavailable, please retry"
)

// authenticate is the main namespace's middleware: every socket is
// authenticated from the session before it is connected.
func (a *App) authenticate(s *socketio.Socket) error {
	hs := s.Handshake()
	h := &auth.Handshake{Header: hs.Header(), Query: hs.Query, Auth: s.Auth(), RemoteAddr: hs.RemoteAddr}
	ctx, cancel := context.WithTimeout(a.base, authTimeout)
	defer cancel()
	id, err := a.auth.Authenticate(ctx, h)
	if err == nil {
		a.metrics.Authentications.WithLabelValues("ok").Inc()
		s.SetData(id)
		return nil
	}
	var ue *auth.UnavailableError
	if errors.As(err, &ue) {
		a.metrics.Authentications.WithLabelValues("unavailable").Inc()
		a.log.Warn("connection refused: session store unavailable", "remote", hs.RemoteAddr, "err", err)
		return &socketio.ConnectError{Message: msgUnavailable, Data: map[string]any{"retry": true}}
	}
	a.metrics.Authentications.WithLabelValues("unauthorized").Inc()
	a.log.Debug("connection refused", "remote", hs.RemoteAddr, "reason", err)
	return &socketio.ConnectError{Message: msgUnauthorized}
}

// onConnection puts an authenticated socket in its user's room and under
// revocation watch.
func (a *App) onConnection(s *socketio.Socket) {
	id, ok := s.Data().(*auth.Identity)
	if !ok {
		s.Disconnect(true)
		return
	}
	s.Join(notify.UserRoom(id.UserID))
	t := (*revocable)(s)
	if id.SessionRef != "" {
		a.revoked.Add(id.SessionRef, t)
	}
	s.OnDisconnect(func(reason string) {
		a.metrics.Disconnects.WithLabelValues(reason).Inc()
		if id.SessionRef != "" {
			a.revoked.Remove(id.SessionRef, t)
		}
	})
}

// revocable lets the revocation registry disconnect a socket without an
// allocation per socket.
type revocable socketio.Socket

func (r *revocable) Revoke() { (*socketio.Socket)(r).Disconnect(true) }
