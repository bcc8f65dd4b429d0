// Command conformance runs the reference servers of the official Engine.IO
// v4 and Socket.IO v5 test suites on localhost:3000: a raw Engine.IO echo at
// /engine.io/ and Socket.IO at /socket.io/ with the suite's handlers.
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/heraldrt/herald/engineio"
)

func main() {
	addr := flag.String("listen", "localhost:3000", "address to listen on")
	flag.Parse()
	eopts := &engineio.Options{
		PingInterval: 300 * time.Millisecond,
		PingTimeout:  200 * time.Millisecond,
		MaxPayload:   1_000_000,
	}
	eio, err := engineio.NewServer(eopts)
	if err != nil {
		log.Fatal(err)
	}
	eio.OnConnection(func(s *engineio.Session) {
		s.OnMessage(func(data []byte, binary bool) {
			_ = s.Send(engineio.NewMessage(append([]byte(nil), data...), binary))
		})
	})
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", eio)
	sio := mountSocketIO(mux)
	srv := &http.Server{Addr: *addr, Handler: mux}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	// Engine.IO upgrades are served on the event loop from their first
	// byte (as herald serves Socket.IO's); the rest, Socket.IO's included,
	// by net/http after the hijack.
	go func() {
		if err := srv.Serve(eio.Listen(ln, "/engine.io/")); err != http.ErrServerClosed {
			log.Fatal(err)
		}
	}()
	log.Printf("conformance server on %s", *addr)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	_ = eio.Shutdown(ctx)
	_ = sio.Shutdown(ctx)
}
