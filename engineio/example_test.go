package engineio_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/heraldrt/herald/engineio"
)

// An echo server: every message a client sends comes back to it. A client
// then talks to it over long-polling, by hand, to show what travels.
func ExampleServer() {
	srv, err := engineio.NewServer(&engineio.Options{
		PingInterval: 25 * time.Second, // the defaults, as in Node's engine.io
		PingTimeout:  20 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	srv.OnConnection(func(s *engineio.Session) {
		s.OnMessage(func(data []byte, binary bool) {
			// data is only valid during the call: copy what you keep.
			_ = s.Send(engineio.NewMessage(bytes.Clone(data), binary))
		})
		s.OnClose(func(reason string) { fmt.Println("closed:", reason) })
	})

	mux := http.NewServeMux()
	mux.Handle("/engine.io/", srv)
	ts := httptest.NewServer(mux) // in a program: http.ListenAndServe(":3000", mux)
	defer ts.Close()
	client := ts.Client()

	// The handshake: GET with EIO=4 answers the open packet 0{"sid":...}.
	resp, err := client.Get(ts.URL + "/engine.io/?EIO=4&transport=polling")
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var open struct{ Sid string }
	if err := json.Unmarshal(body[1:], &open); err != nil {
		log.Fatal(err)
	}
	session := ts.URL + "/engine.io/?EIO=4&transport=polling&sid=" + open.Sid

	// Two message packets in one POST, separated by the record separator;
	// the next GET returns both echoes in one batch.
	resp, err = client.Post(session, "text/plain;charset=UTF-8", strings.NewReader("4hello\x1e4world"))
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	resp, err = client.Get(session)
	if err != nil {
		log.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Printf("%q\n", body)

	// Shutdown tells every client and stops the server's goroutines.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
	// Output:
	// "4hello\x1e4world"
	// closed: server shutting down
}
