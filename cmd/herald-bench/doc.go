// Command herald-bench is a load client for Socket.IO v4 servers: herald,
// or any other (Node socket.io 4.x included). Each connection behaves as
// socket.io-client with transports: ["websocket"]: a WebSocket upgrade on
// /socket.io/?EIO=4&transport=websocket, the Engine.IO open packet, a
// Socket.IO CONNECT ("40", or "40{...}" with -auth) answered by
// 40{"sid":...} (44{...} is a connect_error), then pongs ("3") to the
// server's pings ("2"). The protocol lives in internal/sioclient.
//
// Usage:
//
//	herald-bench <subcommand> [flags]
//
// # herald-bench idle
//
// Opens -n connections, lets them idle, and reports what they cost the
// server:
//
//	herald-bench idle -n 10000 -pid $(pgrep -n herald) -metrics-url http://127.0.0.1:3003/metrics
//
// Steps: raise RLIMIT_NOFILE to the hard limit; read the server's baseline
// VmRSS and RssAnon (/proc/<pid>/status) and, with -metrics-url, its
// go_goroutines; dial the connections with -c handshakes in flight,
// counting failures by reason (dial error, HTTP status of the upgrade,
// connect_error message, handshake timeout...); wait -settle (answering
// pings); read memory and goroutines again; keep the connections -hold
// longer if asked; close every connection as socket.io-client's
// disconnect() does ("41", then the WebSocket closing handshake).
//
// It prints: connections ok/failed/dropped with reasons, connect rate
// (successful connections per second of the connect phase), baseline and
// loaded RSS and RssAnon with bytes (and KiB) per connection, i.e.
// (loaded-baseline)/connections open at measurement, goroutines baseline
// and loaded and per connection, the server's CPU time (utime+stime from
// /proc/<pid>/stat) used during the connect phase and µs of CPU per
// connect, and the client's own RSS. -json adds the same as one JSON line.
//
// CPU times in /proc/<pid>/stat are in clock ticks of USER_HZ, the value
// of `getconf CLK_TCK`. herald-bench reads it from the AT_CLKTCK entry of
// its auxiliary vector (/proc/self/auxv), which is where glibc's
// sysconf(_SC_CLK_TCK) gets it; on Linux it is 100 on every current
// architecture, independent of the kernel's CONFIG_HZ, and 100 is the
// fallback.
//
// The exit status is 0 when at most 0.1% of the -n connections failed to
// connect, were not attempted before -timeout, or were dropped before the
// final close; 1 otherwise; 2 for usage errors.
//
// # herald-bench unicast, burst, broadcast, emitter, suite
//
// The delivery subcommands open -n connections the same way, connection i
// authenticated as user -base+i (by default with the cookie
// _validation_token_key=tok<base+i>, the session copy that bench/run.sh
// writes as HSET bench:sessions tok<i> {"user_id":<i>}), measure the
// connect phase and idle memory as idle does, then run delivery phases,
// publishing on the Redis given by -redis:
//
//	unicast            -rate notifications per second for -duration, each
//	                   to one user drawn at random, PUBLISHed on -channel
//	                   (herald:notify) as {"user":<id>,"event":...,"data":{...}}
//	burst              -burst notifications to random users, unpaced
//	                   (Redis pipelines of -burst-batch)
//	broadcast          -broadcasts times {"broadcast":true,...}, each
//	                   published once the previous one has reached every
//	                   connection (or -msg-timeout passed)
//	emitter-unicast    as unicast, in the Socket.IO Redis emitter format
//	emitter-burst      (msgpack ["emitter",{type:2,data:[event,data],nsp:"/"},
//	emitter-broadcast  {rooms,flags,except}] on socket.io#/#user:<id># or
//	                   socket.io#/#, as @socket.io/redis-emitter 5 writes it)
//
// unicast, burst and broadcast run the phase of that name, emitter runs
// emitter-unicast and emitter-broadcast, suite runs unicast, burst,
// broadcast, emitter-unicast and emitter-broadcast on one set of
// connections; -phases chooses any list.
//
// Every notification's data carries the phase, a sequence number, the send
// time (µs since the epoch) and the addressee ("hb_p", "hb_s", "hb_t",
// "hb_u"), so that each delivery is accounted for exactly: per phase,
// deliveries expected (to the connections up when the phase starts),
// delivered, lost, duplicated (a notification reaching the same connection
// twice), misrouted (a unicast reaching a connection other than its
// addressee's), and stray events. Latency is receive time minus send time
// (same machine clock), reported as p50, p99, p99.9 and max by the
// nearest-rank method over every first delivery. Server CPU (-pid) is read
// from /proc at the start of the phase and when the last expected delivery
// arrives: CPU µs per delivered notification, raw and net of the server's
// idle CPU (measured over the second half of -settle). Deliveries per
// second are delivered/(last delivery - first publish).
//
// A phase ends when every expected delivery has arrived, or -drain after
// the last publish, then listens -dup-wait longer for duplicates; every
// phase is bounded by -phase-timeout and the run by -timeout. The exit
// status is 1 if anything was lost, duplicated or misrouted, a publish
// failed, or more than 0.1% of connections failed.
//
// Several processes can share a run (bench/run.sh SCALE=1, one process per
// server node, since a process holds at most RLIMIT_NOFILE connections):
// each with its own -base, all with the same -users (unicast addressees
// are then drawn reproducibly from users 0..users-1 by -seed, so every
// process knows which notifications are its own), one with -publish and
// the others -publish=false, and -barrier <processes> with a -barrier-key
// unique to the run so that every phase starts when all are connected.
//
// # herald-bench report
//
//	herald-bench report -a herald -b node herald=run1.txt node=run2.txt ...
//
// reads the -json lines of suite runs and prints a Markdown table: the
// median of each figure per server, the ratio a/b, the targets of issue 5,
// every run's value, and the totals lost/duplicated/misrouted.
//
// Flags common to the pool-driven subcommands:
//
//	-url       server URL, default http://127.0.0.1:3003. As with io(url),
//	           a path other than "/" is the namespace and the query string
//	           is sent along in the handshake; https/wss use TLS.
//	-path      Engine.IO path, default /socket.io/.
//	-n, -c     connections (default 10000) and dial concurrency (200).
//	-cookie    Cookie header; "{i}" is replaced by the connection index,
//	           e.g. -cookie 'session=tok{i}', so each connection can carry
//	           its own token.
//	-auth      CONNECT auth payload, a JSON object, "{i}" substituted,
//	           e.g. -auth '{"token":"tok{i}"}'.
//	-origin    Origin header ("{i}" substituted).
//	-spread    against an IPv4 loopback target, bind the source address
//	           127.0.0.2..127.0.0.254 round-robin so that ephemeral ports
//	           never run out (default true).
//	-dial-timeout  bound on each connection's whole handshake (30s).
//	-timeout   bound on the run (5m); closing has its own 30s bound.
//	-json, -q  JSON result line; no progress lines on stderr.
//
// idle's own flags: -pid, -metrics-url, -settle (5s), -hold (0).
// The delivery subcommands default -cookie to
// _validation_token_key=tok{i} and add -redis, -channel,
// -emitter-prefix, -event, -phases, -rate, -duration, -burst,
// -burst-batch, -broadcasts, -msg-timeout, -drain, -dup-wait,
// -phase-timeout, -pause, -seed, -base, -users, -publish, -barrier,
// -barrier-key (see -h).
//
// Cost on the client side: one goroutine per connection (the reader,
// blocked in Read), a 512-byte read buffer, and read/write deadlines; no
// per-connection timers. A connection that hears nothing from the server
// for pingInterval+pingTimeout ends with "ping timeout", as in
// socket.io-client; WebSocket compression is not offered (Socket.IO v4
// servers disable it by default).
package main
