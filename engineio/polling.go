package engineio

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

func (s *Server) pollingHandshake(w http.ResponseWriter, r *http.Request) {
	sess := s.newSession(r, false)
	sess.startHeartbeat()
	writePayload(w, []Packet{sess.openPacket(true)})
}

func writePayload(w http.ResponseWriter, packets []Packet) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(AppendPayload(nil, packets))
}

func (sess *Session) servePolling(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		sess.pollGet(w, r)
	case http.MethodPost:
		sess.pollPost(w, r)
	default:
		writeError(w, errBadRequest)
	}
}

// pollGet answers with everything queued, or waits until something is.
func (sess *Session) pollGet(w http.ResponseWriter, r *http.Request) {
	sess.mu.Lock()
	switch {
	case sess.closed && len(sess.queue) > 0:
		// The last packet of a lingering closed session.
		packets := sess.queue
		sess.queue = nil
		sess.mu.Unlock()
		sess.srv.remove(sess)
		writePayload(w, packets)
		return
	case sess.closed || sess.ws != nil || sess.wsOnly:
		sess.mu.Unlock()
		writeError(w, errBadRequest)
		return
	case sess.pollWake != nil:
		// Two GETs at once: the client is broken. The waiting GET gets
		// a close packet, this one an error.
		sess.mu.Unlock()
		sess.closeWith(ReasonTransportError, tellClient)
		writeError(w, errBadRequest)
		return
	case sess.probe != nil && sess.probe.probed:
		sess.mu.Unlock()
		sess.pollDuringUpgrade(w)
		return
	case len(sess.queue) == 0:
		wake := make(chan struct{}, 1)
		sess.pollWake = wake
		sess.mu.Unlock()
		select {
		case <-wake:
		case <-r.Context().Done():
			sess.mu.Lock()
			sess.pollWake = nil
			sess.mu.Unlock()
			sess.closeWith(ReasonTransportClose, silent)
			return
		}
		sess.mu.Lock()
		sess.pollWake = nil
	}
	packets := sess.queue
	sess.queue = nil
	if len(packets) == 0 || (sess.probe != nil && sess.probe.probed) {
		// Released for an upgrade: the queue waits for the WebSocket.
		sess.queue = packets
		packets = []Packet{{Type: PacketNoop}}
	}
	sess.mu.Unlock()
	writePayload(w, packets)
}

// pollPost reads a payload of packets from the client.
func (sess *Session) pollPost(w http.ResponseWriter, r *http.Request) {
	sess.mu.Lock()
	if sess.closed || sess.ws != nil || sess.wsOnly {
		sess.mu.Unlock()
		writeError(w, errBadRequest)
		return
	}
	if sess.posting {
		sess.mu.Unlock()
		sess.closeWith(ReasonTransportError, tellClient)
		writeError(w, errBadRequest)
		return
	}
	sess.posting = true
	sess.mu.Unlock()
	defer func() {
		sess.mu.Lock()
		sess.posting = false
		sess.mu.Unlock()
	}()

	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/octet-stream") {
		// EIO=4 carries binary as base64 text; a binary body is a v3 client.
		sess.closeWith(ReasonParseError, silent)
		writeError(w, errBadRequest)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(sess.srv.opts.MaxPayload)))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
			return
		}
		sess.closeWith(ReasonTransportError, silent)
		return
	}
	packets, err := DecodePayload(body)
	if err != nil {
		sess.closeWith(ReasonParseError, silent)
		writeError(w, errBadRequest)
		return
	}
	for _, p := range packets {
		sess.handlePacket(p)
	}
	w.Header().Set("Content-Type", "text/html")
	_, _ = w.Write([]byte("ok"))
}

// pollDuringUpgrade answers a GET that arrives after the probe: a client
// may have sent it before it saw "3probe". Like Node, answer a noop within
// 100 ms, unless the upgrade completes first: then the session no longer
// polls.
func (sess *Session) pollDuringUpgrade(w http.ResponseWriter) {
	wake := make(chan struct{}, 1)
	sess.mu.Lock()
	if sess.pollWake != nil {
		sess.mu.Unlock()
		writeError(w, errBadRequest)
		return
	}
	sess.pollWake = wake
	sess.mu.Unlock()
	t := time.NewTimer(100 * time.Millisecond)
	select {
	case <-wake:
	case <-t.C:
	}
	t.Stop()
	sess.mu.Lock()
	sess.pollWake = nil
	upgraded := sess.ws != nil || sess.closed
	sess.mu.Unlock()
	if upgraded {
		writeError(w, errBadRequest)
		return
	}
	writePayload(w, []Packet{{Type: PacketNoop}})
}
