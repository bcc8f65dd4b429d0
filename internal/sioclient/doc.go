// Package sioclient is a lean Socket.IO v4 client for load generation.
//
// It speaks what socket.io-client does with transports: ["websocket"]:
// an RFC 6455 WebSocket (written here on net.Conn: masked client frames,
// fragmentation, ping/pong and closing handshake; no extensions offered,
// so no permessage-deflate, which Socket.IO v4 servers disable by default)
// to <path>?EIO=4&transport=websocket, the Engine.IO v4 open packet
// 0{"sid":...}, a Socket.IO CONNECT 40 (or 40{auth}) answered by
// 40{"sid":...} or CONNECT_ERROR 44{"message":...}; then it answers
// Engine.IO pings 2 with pongs 3 and decodes events 42["name",...] and
// acks. Binary attachments are skipped.
//
// A connection costs one goroutine (the caller's, in ReadLoop), a small
// bufio.Reader (512 bytes by default) and read/write deadlines; there are
// no per-connection timers. As socket.io-client does, a connection that
// hears nothing for pingInterval+pingTimeout is considered dead
// ("ping timeout").
package sioclient
