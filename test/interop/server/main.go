// Command server is the Go side of the interop tests: a Socket.IO server
// built on package socketio with the handlers that client.test.mjs drives
// with the official socket.io-client.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/heraldrt/herald/socketio"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:3001", "address to listen on")
	flag.Parse()
	io, err := socketio.NewServer(nil)
	if err != nil {
		log.Fatal(err)
	}
	root := io.Of("/")
	root.Use(func(s *socketio.Socket) error {
		var auth struct {
			Token string `json:"token"`
		}
		_ = json.Unmarshal(s.Auth(), &auth)
		if auth.Token == "reject" {
			return &socketio.ConnectError{Message: "not authorized", Data: map[string]any{"code": 4001}}
		}
		return nil
	})
	root.OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("welcome", map[string]string{"id": s.ID()})
		handleCommon(s)
		s.On("ack", func(e *socketio.Event) {
			if args, err := e.Values(); err == nil {
				_ = e.Ack(args...)
			}
		})
		s.On("ask", func(*socketio.Event) {
			_ = s.EmitWithAck("question", 5*time.Second, func(e *socketio.Event, err error) {
				if err != nil {
					_ = s.Emit("answered", "error: "+err.Error())
					return
				}
				if args, err := e.Values(); err == nil {
					_ = s.Emit("answered", args...)
				}
			}, "what?")
		})
		s.On("binary", func(e *socketio.Event) {
			args, err := e.Values()
			if err != nil || len(args) == 0 {
				return
			}
			_ = s.Emit("binary", args[0], []byte{1, 2, 3})
		})
		s.On("join", func(e *socketio.Event) {
			var room string
			if e.Decode(0, &room) == nil {
				s.Join(room)
				_ = e.Ack(true)
			}
		})
		s.On("to-room", func(e *socketio.Event) {
			var room string
			if e.Decode(0, &room) != nil || len(e.Args) < 2 {
				return
			}
			_ = io.Of("/").To(room).Emit("room-message", e.Args[1])
		})
	})
	io.Of("/admin").OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("admin-welcome", "hi")
		handleCommon(s)
	})

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	srv := &http.Server{Addr: *addr, Handler: mux}
	go func() {
		if err := srv.ListenAndServe(); err != http.ErrServerClosed {
			log.Fatal(err)
		}
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = io.Shutdown(ctx)
	_ = srv.Shutdown(ctx)
}

func handleCommon(s *socketio.Socket) {
	s.On("echo", func(e *socketio.Event) {
		if args, err := e.Values(); err == nil {
			_ = s.Emit("echo", args...)
		}
	})
}
