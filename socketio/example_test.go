package socketio_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/heraldrt/herald/socketio"
)

// A Go program embeds the server as a Node program uses socket.io:
//
//	const io = new Server(3000);
//	io.on("connection", (socket) => {
//	  socket.on("hello", (name) => socket.emit("greeting", `hello, ${name}`));
//	});
func ExampleServer() {
	io, err := socketio.NewServer(nil) // Node's defaults
	if err != nil {
		log.Fatal(err)
	}
	io.Of("/").OnConnection(func(s *socketio.Socket) {
		s.On("hello", func(e *socketio.Event) {
			var name string
			if err := e.Decode(0, &name); err != nil {
				return
			}
			_ = s.Emit("greeting", "hello, "+name)
		})
	})

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	ts := httptest.NewServer(mux) // in a program: http.ListenAndServe(":3000", mux)
	defer ts.Close()
	defer shutdown(io)

	// A client (see exampleClient) joins "/" and says hello.
	c := dialExample(ts)
	c.send("40") // CONNECT to "/"
	c.receive()  // 40{"sid":"..."}
	c.send(`42["hello","gopher"]`)
	fmt.Println(c.receive())
	// Output: 42["greeting","hello, gopher"]
}

// Authentication is middleware: it reads the client's auth option
// (io({auth: {token}}) in socket.io-client) and refuses a connection with
// a ConnectError, which the client receives in its connect_error handler.
func ExampleNamespace_Use() {
	io, err := socketio.NewServer(nil)
	if err != nil {
		log.Fatal(err)
	}
	users := map[string]string{"s3cret": "alice"} // token -> user
	io.Of("/").Use(func(s *socketio.Socket) error {
		var auth struct {
			Token string `json:"token"`
		}
		_ = json.Unmarshal(s.Auth(), &auth)
		user, ok := users[auth.Token]
		if !ok {
			return &socketio.ConnectError{Message: "not authorized", Data: map[string]any{"retry": false}}
		}
		s.SetData(user) // for the handlers
		return nil
	})
	io.Of("/").OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("welcome", s.Data())
	})

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	ts := httptest.NewServer(mux)
	defer ts.Close()
	defer shutdown(io)

	c := dialExample(ts)
	c.send(`40{"token":"wrong"}`)
	fmt.Println(c.receive())
	c.send(`40{"token":"s3cret"}`)
	c.receive() // 40{"sid":"..."}
	fmt.Println(c.receive())
	// Output:
	// 44{"message":"not authorized","data":{"retry":false}}
	// 42["welcome","alice"]
}

// The server asks a client and waits for its answer, as
// socket.timeout(5000).emit("question", ..., (err, answer) => ...) does in
// Node.
func ExampleSocket_EmitWithAck() {
	io, err := socketio.NewServer(nil)
	if err != nil {
		log.Fatal(err)
	}
	answered := make(chan struct{})
	io.Of("/").OnConnection(func(s *socketio.Socket) {
		_ = s.EmitWithAck("question", 5*time.Second, func(e *socketio.Event, err error) {
			defer close(answered)
			if err != nil { // socketio.ErrAckTimeout or socketio.ErrDisconnected
				fmt.Println("no answer:", err)
				return
			}
			var answer int
			_ = e.Decode(0, &answer)
			fmt.Println("answer:", answer)
		}, "6 x 7?")
	})

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	ts := httptest.NewServer(mux)
	defer ts.Close()
	defer shutdown(io)

	c := dialExample(ts)
	c.send("40")
	c.receive()              // 40{"sid":"..."}
	fmt.Println(c.receive()) // the question, with ack id 0
	c.send(`430[42]`)        // the client's callback answers 42
	select {
	case <-answered:
	case <-time.After(5 * time.Second):
	}
	// Output:
	// 420["question","6 x 7?"]
	// answer: 42
}

// Rooms select who receives a broadcast; the event is encoded once for
// all of them. Here each client names its room in its auth option.
func ExampleBroadcastOperator_Emit() {
	io, err := socketio.NewServer(nil)
	if err != nil {
		log.Fatal(err)
	}
	io.Of("/").OnConnection(func(s *socketio.Socket) {
		var auth struct{ Room, Mute string }
		_ = json.Unmarshal(s.Auth(), &auth)
		s.Join(auth.Room)
		if auth.Mute != "" {
			s.Join("muted")
		}
	})

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	ts := httptest.NewServer(mux)
	defer ts.Close()
	defer shutdown(io)

	users := []struct{ name, auth string }{
		{"alice", `{"room":"news"}`},
		{"bob", `{"room":"news"}`},
		{"carol", `{"room":"sports"}`},
		{"dave", `{"room":"news","mute":"yes"}`},
	}
	clients := map[string]*exampleClient{}
	for _, u := range users {
		c := dialExample(ts)
		c.send("40" + u.auth)
		c.receive() // 40{"sid":"..."}
		clients[u.name] = c
	}

	// Like io.to("news").except("muted").emit(...) in Node.
	nsp := io.Of("/")
	_ = nsp.To("news").Except("muted").Emit("headline", "Go 1.26 released")
	_ = nsp.Emit("bye") // to everyone
	for _, u := range users {
		fmt.Println(u.name+":", clients[u.name].receive())
	}
	// Output:
	// alice: 42["headline","Go 1.26 released"]
	// bob: 42["headline","Go 1.26 released"]
	// carol: 42["bye"]
	// dave: 42["bye"]
}

func shutdown(io *socketio.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = io.Shutdown(ctx)
}

// exampleClient stands in for socket.io-client in the examples: it sends
// and receives packets as they travel, each Socket.IO packet inside an
// Engine.IO message ("40" is CONNECT, `42["event",...]` an event), over
// long-polling with plain net/http.
type exampleClient struct {
	http    *http.Client
	url     string
	pending []string
}

func dialExample(ts *httptest.Server) *exampleClient {
	c := &exampleClient{http: &http.Client{Transport: ts.Client().Transport, Timeout: 5 * time.Second}}
	body := c.do("GET", ts.URL+"/socket.io/?EIO=4&transport=polling", "")
	var open struct{ Sid string }
	if err := json.Unmarshal([]byte(body[1:]), &open); err != nil {
		panic(err)
	}
	c.url = ts.URL + "/socket.io/?EIO=4&transport=polling&sid=" + open.Sid
	return c
}

// send sends one packet, such as "40" or `42["hello"]`.
func (c *exampleClient) send(packet string) { c.do("POST", c.url, packet) }

// receive returns the server's next message packet (pings are answered).
func (c *exampleClient) receive() string {
	for len(c.pending) == 0 {
		for _, p := range strings.Split(c.do("GET", c.url, ""), "\x1e") {
			switch {
			case p == "2": // ping
				c.do("POST", c.url, "3")
			case strings.HasPrefix(p, "4"):
				c.pending = append(c.pending, p)
			}
		}
	}
	p := c.pending[0]
	c.pending = c.pending[1:]
	return p
}

func (c *exampleClient) do(method, url, body string) string {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	resp, err := c.http.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		panic(fmt.Sprintf("%s: %d %q %v", method, resp.StatusCode, b, err))
	}
	return string(b)
}
