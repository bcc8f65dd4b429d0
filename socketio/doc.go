// Package socketio is a Socket.IO v5 server (the protocol of socket.io and
// socket.io-client 4.x) on top of package engineio, with an API modelled on
// Node's socket.io, so the official JavaScript client connects unchanged.
//
//	io, _ := socketio.NewServer(nil)
//	http.Handle("/socket.io/", io)
//	io.Of("/").Use(authenticate)              // middleware on CONNECT
//	io.Of("/").OnConnection(func(s *socketio.Socket) {
//	    s.Join("user:42")
//	    s.On("chat", func(e *socketio.Event) { _ = e.Ack("ok") })
//	})
//	io.Of("/").To("user:42").Emit("notification", data)
//	http.Serve(io.Listen(ln, "/socket.io/"), nil) // or http.ListenAndServe(addr, nil)
//
// Served through Listen, WebSocket upgrades are answered on the event loop
// from their first byte (no net/http goroutine or buffers per connect; a
// namespace with middleware still runs it on a goroutine of its own);
// without it, they are hijacked from net/http.
//
// What it implements: namespaces (created with Server.Of; others are
// refused with "Invalid namespace"), CONNECT with the client's auth payload
// and middleware that may refuse with a message and data (the client's
// connect_error), events and acknowledgements in both directions (server
// acks with timeouts), binary arguments ([]byte at any depth of []any and
// map[string]any) with attachment placeholders, rooms (a socket's id is a
// room too), broadcasts to rooms with exceptions, and disconnection from
// either side. Connection-state recovery and the EIO=3 protocol are not
// implemented; rooms are local to the process (herald delivers across
// nodes through Redis itself).
//
// # Concurrency
//
// Every method is safe for concurrent use. Middleware runs on its own
// goroutine and may block. Event and ack handlers run one at a time per
// connection, on the event loop that reads the connection, as in Node: a
// handler that blocks delays the other connections of that loop, so hand
// slow work to a goroutine. The connection handler runs before the socket's
// first event is handled, so the handlers it sets see every event. Emitting
// never blocks: a client that cannot keep up is disconnected by its
// transport (see package engineio).
//
// # Cost
//
// A broadcast encodes its packet once; every recipient's transport writes
// the same bytes. An idle connection holds no goroutine. Handlers and
// callbacks run with no lock of the package held but one: a connection's
// receive lock, which orders the handling of its packets and the admission
// of its sockets (the transport handles one message at a time anyway).
// Apart from it, the package never holds one of its locks while taking
// another.
package socketio
