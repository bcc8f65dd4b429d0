package main

import (
	"log"
	"net/http"
	"time"

	"github.com/heraldrt/herald/engineio"
	"github.com/heraldrt/herald/socketio"
)

// mountSocketIO serves the Socket.IO v5 suite's reference server.
func mountSocketIO(mux *http.ServeMux) *socketio.Server {
	io, err := socketio.NewServer(&socketio.Options{
		EngineIO: engineio.Options{
			PingInterval: 300 * time.Millisecond,
			PingTimeout:  200 * time.Millisecond,
			MaxPayload:   1_000_000,
		},
		ConnectTimeout: time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	io.Of("/").OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("auth", s.Auth())
		s.On("message", func(e *socketio.Event) {
			args, err := e.Values()
			if err == nil {
				_ = s.Emit("message-back", args...)
			}
		})
		s.On("message-with-ack", func(e *socketio.Event) {
			args, err := e.Values()
			if err == nil {
				_ = e.Ack(args...)
			}
		})
	})
	io.Of("/custom").OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("auth", s.Auth())
	})
	mux.Handle("/socket.io/", io)
	return io
}
