// A browser stand-in for rails_test.go: the official socket.io-client (the
// copy installed in test/interop) connects to herald sending only the
// cookies a browser would (env COOKIE, a Cookie header value) and reports
// what happens as JSON lines on stdout:
//   {"ev":"connect","id":...} {"ev":"upgrade","transport":"websocket"}
//   {"ev":"event","name":...,"args":[...]} {"ev":"disconnect","reason":...}
//   {"ev":"connect_error","message":...,"data":...}
// No reconnection; it exits when stdin closes (the test ends it that way).
//
//   HERALD_URL=http://127.0.0.1:3003 COOKIE='_e2e_session=...' node client.mjs
import { createRequire } from "node:module";

const require = createRequire(new URL("../interop/package.json", import.meta.url));
const { io } = require("socket.io-client");

const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const socket = io(process.env.HERALD_URL, {
  // the browser default: long-polling first, then the upgrade to WebSocket
  transports: ["polling", "websocket"],
  reconnection: false,
  forceNew: true,
  timeout: 10000,
  extraHeaders: process.env.COOKIE ? { Cookie: process.env.COOKIE } : {},
});

socket.on("connect", () => {
  out({ ev: "connect", id: socket.id, transport: socket.io.engine.transport.name });
  socket.io.engine.once("upgrade", (t) => out({ ev: "upgrade", transport: t.name }));
});
socket.on("connect_error", (err) => out({ ev: "connect_error", message: err.message, data: err.data ?? null }));
socket.on("disconnect", (reason) => out({ ev: "disconnect", reason }));
socket.onAny((name, ...args) => out({ ev: "event", name, args }));

process.stdin.resume();
process.stdin.on("end", () => {
  socket.close();
  process.exit(0);
});
