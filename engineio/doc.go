// Package engineio implements an Engine.IO v4 server: the transport layer
// under Socket.IO, with HTTP long-polling, WebSocket, and the upgrade from
// one to the other.
//
// A Server is an http.Handler. Each client gets a Session; the server's
// OnConnection callback sets the session's OnMessage and OnClose callbacks,
// and Session.Send queues messages for the client.
//
// # Design
//
// WebSocket connections are served by an epoll event loop (on Linux;
// elsewhere each WebSocket has a reading goroutine): an idle WebSocket
// session holds no goroutine and no buffer, only its state. Mounted on a
// mux, the Server takes upgrades over from net/http by hijacking; with
// Server.Listen it answers them on the loop from their first byte, and
// net/http gets every other connection. The loop waits in the Go
// runtime's own network poller, not in a blocking system call, so an idle
// server costs no scheduler churn. Heartbeats and timeouts for all
// sessions run on one shared timer wheel. A Message is encoded once, whatever the
// number of recipients: its WebSocket frame is built on first send and the
// same bytes are written to every connection.
//
// Invariants:
//   - Send never blocks. Over WebSocket the event loop queues what the
//     kernel does not take at once, up to Options.MaxWriteBuffer, past which
//     the connection is closed; over polling at most
//     Options.MaxBufferedPackets wait for the next GET, past which the
//     session is closed. A peer that stops reading stops answering pings
//     and is closed after PingInterval+PingTimeout at the latest.
//   - OnMessage calls for one session are serialised; OnClose runs once.
//   - Lock order: the WebSocket reader's lock (wsConn.feedMu), then
//     Session.recvMu, then Session.mu. Callbacks run without Session.mu
//     held.
//
// The package knows nothing of Socket.IO; see package socketio.
package engineio
