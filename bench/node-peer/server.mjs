// The seed design on today's Socket.IO, as herald's benchmark peer.
//
// socket.io 4.8 with @socket.io/redis-adapter (node-redis 4): a connection
// is authenticated by the session token in cookie _validation_token_key
// (or auth.token), looked up with HGET <SESSION_HASH> <token>; the session
// JSON's user_id names the user and the socket joins room "user:<id>".
// Notifications arrive on the Redis channel herald:notify in herald's JSON
// format; the Socket.IO emitter format (socket.io#/#...) is handled by the
// Redis adapter itself.
//
// Delivery from herald:notify uses io.local: every node subscribes to the
// channel, so every node receives every message and emits it to its own
// sockets only. Emitting through the adapter (io.to(...).emit) would make
// each node also re-publish the message to all the others: with several
// nodes every socket would get it once per node, and even with one node it
// would cost an extra PUBLISH and a self-addressed message per
// notification. This is how herald delivers from the channel too.
//
// Configuration (environment): PORT (3094), HOST (127.0.0.1), REDIS_URL
// (redis://127.0.0.1:6379), SESSION_HASH (mySessionStore), SESSION_COOKIE
// (_validation_token_key), CHANNEL (herald:notify).
// GET /healthz answers 200 once Redis is connected and subscribed.
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";

const PORT = Number(process.env.PORT || 3094);
const HOST = process.env.HOST || "127.0.0.1";
const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const SESSION_HASH = process.env.SESSION_HASH || "mySessionStore";
const SESSION_COOKIE = process.env.SESSION_COOKIE || "_validation_token_key";
const CHANNEL = process.env.CHANNEL || "herald:notify";

const pubClient = createClient({ url: REDIS_URL }); // adapter publishes; sessions are read here too
const subClient = pubClient.duplicate(); // adapter subscriptions (socket.io#/#*, requests)
const notifyClient = pubClient.duplicate(); // herald:notify
for (const c of [pubClient, subClient, notifyClient]) c.on("error", (err) => console.error("redis:", err.message));
await Promise.all([pubClient.connect(), subClient.connect(), notifyClient.connect()]);

let ready = false;
const httpServer = createServer((req, res) => {
  if (req.url === "/healthz") {
    res.writeHead(ready ? 200 : 503).end(ready ? "ok" : "starting");
    return;
  }
  res.writeHead(404).end();
});
const io = new Server(httpServer, { serveClient: false, adapter: createAdapter(pubClient, subClient) });

function cookieValue(header, name) {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) {
      const v = part.slice(i + 1).trim();
      try {
        return decodeURIComponent(v);
      } catch {
        return v;
      }
    }
  }
  return undefined;
}

io.use(async (socket, next) => {
  const token = cookieValue(socket.handshake.headers.cookie, SESSION_COOKIE) ?? socket.handshake.auth?.token;
  if (typeof token !== "string" || token === "") return next(new Error("Unauthorized user"));
  let raw;
  try {
    raw = await pubClient.hGet(SESSION_HASH, token);
  } catch (err) {
    return next(new Error("Unauthorized user"));
  }
  let id;
  try {
    id = raw && JSON.parse(raw).user_id;
  } catch {}
  if (id === undefined || id === null || id === "") return next(new Error("Unauthorized user"));
  socket.data.userId = String(id);
  next();
});

io.on("connection", (socket) => {
  socket.join("user:" + socket.data.userId);
});

function deliver(m) {
  if (m === null || typeof m !== "object" || Array.isArray(m)) return;
  const event = typeof m.event === "string" && m.event !== "" ? m.event : "notification";
  if (m.broadcast === true) {
    io.local.emit(event, m.data);
    return;
  }
  const rooms = [];
  const isId = (u) => typeof u === "string" || typeof u === "number";
  if (isId(m.user)) rooms.push("user:" + m.user);
  if (Array.isArray(m.users)) for (const u of m.users) if (isId(u)) rooms.push("user:" + u);
  if (typeof m.room === "string") rooms.push(m.room);
  if (Array.isArray(m.rooms)) for (const r of m.rooms) if (typeof r === "string") rooms.push(r);
  if (rooms.length > 0) io.local.to(rooms).emit(event, m.data);
}

await notifyClient.subscribe(CHANNEL, (message) => {
  let msg;
  try {
    msg = JSON.parse(message);
  } catch {
    return;
  }
  if (Array.isArray(msg)) msg.forEach(deliver);
  else deliver(msg);
});

httpServer.listen(PORT, HOST, () => {
  ready = true;
  console.log(`node-peer: socket.io listening on http://${HOST}:${PORT}, redis ${REDIS_URL}, sessions in ${SESSION_HASH}, channel ${CHANNEL}`);
});

const shutdown = () => {
  io.close();
  Promise.allSettled([pubClient.quit(), subClient.quit(), notifyClient.quit()]).finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
