// herald end to end, driven by the official packages a Rails/Node shop
// uses: socket.io-client 4.8, node-redis, @socket.io/redis-emitter.
// Run by herald_test.go, which starts the herald nodes:
//   HERALD_A  redis-hash auth, sign-out seen by re-checking every second
//   HERALD_B  redis-hash auth, sign-out seen by keyspace notifications
//   HERALD_C  redis-key auth (one key per session)
//   HERALD_D  its Redis is down
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { io } from "socket.io-client";
import { createClient } from "redis";
import { Emitter } from "@socket.io/redis-emitter";

const { HERALD_A, HERALD_B, HERALD_C, HERALD_D, REDIS_URL, PREFIX, HERALD_API_KEY } = process.env;
const HASH = PREFIX + "mySessionStore";
const CHANNEL = PREFIX + "herald:notify";
const COOKIE = "_validation_token_key";

const redis = createClient({ url: REDIS_URL });
await redis.connect();
const emitter = new Emitter(redis, { key: PREFIX + "socket.io" });
const sockets = [];
after(async () => {
  for (const s of sockets) s.close();
  await redis.quit();
});

// signIn does what the Rails app does after sign-in: a session copy in
// Redis under a random token.
async function signIn(session) {
  const token = randomBytes(16).toString("hex");
  await redis.hSet(HASH, token, JSON.stringify(session));
  return token;
}

function connect(url, { token, auth, transports = ["websocket"] } = {}) {
  const s = io(url, {
    transports,
    reconnection: false,
    forceNew: true,
    auth,
    extraHeaders: token ? { Cookie: `${COOKIE}=${token}` } : {},
  });
  sockets.push(s);
  s.received = [];
  s.onAny((event, ...args) => s.received.push({ event, args }));
  s.on("disconnect", (reason) => {
    s.disconnectReason = reason;
    s.disconnectedAt = Date.now();
  });
  return s;
}

// until polls cond until it holds, or fails after ms.
async function until(cond, what, ms = 3000) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timeout waiting for ${what}`);
    await sleep(20);
  }
}

function once(emitterLike, event, ms = 3000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timeout waiting for ${event}`)), ms);
    emitterLike.once(event, (...args) => {
      clearTimeout(t);
      resolve(args);
    });
  });
}

async function connected(s) {
  if (s.connected) return s;
  const outcome = await Promise.race([once(s, "connect").then(() => null), once(s, "connect_error")]);
  if (outcome) throw new Error(`connect_error: ${outcome[0].message}`);
  return s;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// settle waits until no new event arrived for quietMs, so "exactly once"
// and "nothing" can be asserted.
async function settle(all, quietMs = 500) {
  let last = -1;
  for (;;) {
    const n = all.reduce((k, s) => k + s.received.length, 0);
    if (n === last) return;
    last = n;
    await sleep(quietMs);
  }
}

const named = (s, event) => s.received.filter((r) => r.event === event);

async function publishAPI(url, body, key = HERALD_API_KEY) {
  const headers = { "Content-Type": "application/json" };
  if (key) headers.Authorization = `Bearer ${key}`;
  const r = await fetch(`${url}/api/publish`, { method: "POST", headers, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}

test("authenticates from the session copy in Redis (cookie or auth.token)", async () => {
  const token = await signIn({ user_id: 42, username: "ada" });
  await connected(connect(HERALD_A, { token }));
  await connected(connect(HERALD_B, { auth: { token }, transports: ["polling"] }));

  for (const opts of [{ token: "no-such-token" }, {}, { auth: { token: 42 } }]) {
    const s = connect(HERALD_A, opts);
    const [err] = await once(s, "connect_error");
    assert.equal(err.message, "Unauthorized user", JSON.stringify(opts));
    assert.equal(s.active, false, "a refused client must not retry");
  }
});

test("a notification published once reaches each of the user's sockets once, on every node", async () => {
  const t42 = await signIn({ user_id: 42 });
  const t7 = await signIn({ user_id: "7" });
  const a42 = await connected(connect(HERALD_A, { token: t42 }));
  const b42 = await connected(connect(HERALD_B, { token: t42, transports: ["polling", "websocket"] }));
  const b7 = await connected(connect(HERALD_B, { token: t7 }));
  const all = [a42, b42, b7];

  await redis.publish(CHANNEL, JSON.stringify({ user: 42, event: "notification", data: { title: "one" } }));
  await redis.publish(CHANNEL, JSON.stringify({ user: "42", data: { title: "default event" } }));
  await redis.publish(CHANNEL, JSON.stringify([{ users: [42, "7"], event: "both" }, { broadcast: true, event: "all", data: [1, 2] }]));
  await redis.publish(CHANNEL, JSON.stringify({ user: 99, event: "nobody" }));
  await redis.publish(CHANNEL, "this is not JSON"); // logged and dropped, nothing else lost
  await redis.publish(CHANNEL, JSON.stringify({ room: "user:7", event: "room" }));
  await until(
    () =>
      [a42, b42].every((s) => named(s, "notification").length >= 2 && named(s, "both").length >= 1 && named(s, "all").length >= 1) &&
      named(b7, "room").length >= 1 && named(b7, "all").length >= 1 && named(b7, "both").length >= 1,
    "every expected notification",
  );
  await settle(all);

  for (const s of [a42, b42]) {
    assert.deepEqual(named(s, "notification").map((r) => r.args), [[{ title: "one" }], [{ title: "default event" }]]);
    assert.equal(named(s, "both").length, 1);
    assert.deepEqual(named(s, "all").map((r) => r.args), [[[1, 2]]]);
    assert.equal(named(s, "room").length, 0);
  }
  assert.equal(named(b7, "notification").length, 0);
  assert.equal(named(b7, "both").length, 1);
  assert.equal(named(b7, "all").length, 1);
  assert.equal(named(b7, "room").length, 1);
  for (const s of all) assert.equal(named(s, "nobody").length, 0);
});

test("the HTTP API publishes to every node, with a key", async () => {
  const t = await signIn({ user_id: 1001 });
  const a = await connected(connect(HERALD_A, { token: t }));
  const b = await connected(connect(HERALD_B, { token: t }));

  assert.equal((await publishAPI(HERALD_A, { user: 1001 }, null)).status, 401);
  assert.equal((await publishAPI(HERALD_A, { user: 1001 }, "wrong-key")).status, 401);
  const bad = await publishAPI(HERALD_A, { event: "x" });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /target/);

  const ok = await publishAPI(HERALD_A, [{ user: 1001, event: "api", data: { n: 1 } }, { user: 1001, event: "api", data: { n: 2 } }]);
  assert.deepEqual(ok, { status: 202, body: { published: 2 } });
  await until(() => named(a, "api").length >= 2 && named(b, "api").length >= 2, "both API messages on both nodes");
  await settle([a, b]);
  for (const s of [a, b]) assert.deepEqual(named(s, "api").map((r) => r.args[0].n), [1, 2]);
});

test("apps publishing with @socket.io/redis-emitter work unchanged", async () => {
  const t42 = await signIn({ user_id: 4242 });
  const t7 = await signIn({ user_id: 77 });
  const a42 = await connected(connect(HERALD_A, { token: t42 }));
  const b42 = await connected(connect(HERALD_B, { token: t42 }));
  const b7 = await connected(connect(HERALD_B, { token: t7 }));
  const all = [a42, b42, b7];

  emitter.to("user:4242").emit("from-emitter", { x: 1 });
  emitter.to("user:4242").emit("bin", Buffer.from([1, 2, 3]));
  emitter.emit("everyone", "hello");
  emitter.to("user:4242").to("user:77").except("user:77").emit("except", true);
  await until(
    () =>
      [a42, b42].every((s) => ["from-emitter", "bin", "everyone", "except"].every((e) => named(s, e).length >= 1)) &&
      named(b7, "everyone").length >= 1,
    "every expected emitter message",
  );
  await settle(all);
  for (const s of [a42, b42]) {
    assert.deepEqual(named(s, "from-emitter").map((r) => r.args), [[{ x: 1 }]]);
    const [bin] = named(s, "bin");
    assert.ok(Buffer.isBuffer(bin.args[0]) && bin.args[0].equals(Buffer.from([1, 2, 3])), "binary argument");
    assert.equal(named(s, "everyone").length, 1);
    assert.equal(named(s, "except").length, 1);
  }
  assert.equal(named(b7, "from-emitter").length, 0);
  assert.equal(named(b7, "everyone").length, 1);
  assert.equal(named(b7, "except").length, 0);

  emitter.in("user:77").socketsJoin("vip");
  await sleep(200);
  emitter.to("vip").emit("vip-only", 1);
  await until(() => named(b7, "vip-only").length === 1, "vip-only");
  await settle(all);
  assert.equal(named(a42, "vip-only").length + named(b42, "vip-only").length, 0);

  emitter.in("user:77").disconnectSockets(true);
  await until(() => b7.disconnectReason, "disconnect");
  assert.equal(b7.disconnectReason, "io server disconnect");
});

async function assertSignedOut(s, started, what) {
  await until(() => s.disconnectReason, `${what}: disconnect`, 4000);
  const ms = s.disconnectedAt - started;
  assert.equal(s.disconnectReason, "io server disconnect", what);
  assert.ok(ms <= 2000, `${what}: disconnected after ${ms} ms, want <= 2000`);
}

test("signing out (HDEL) disconnects the session's sockets within 2 s on every node", async () => {
  const token = await signIn({ user_id: 555 });
  const other = await signIn({ user_id: 555 }); // the same user elsewhere stays
  const a = await connected(connect(HERALD_A, { token }));
  const b = await connected(connect(HERALD_B, { token, transports: ["polling"] }));
  const keep = await connected(connect(HERALD_B, { token: other }));
  const started = Date.now();
  await redis.hDel(HASH, token);
  await Promise.all([assertSignedOut(a, started, "node A (re-check)"), assertSignedOut(b, started, "node B (keyspace events)")]);
  await sleep(300);
  assert.equal(keep.connected, true, "another session of the same user was disconnected");

  const again = connect(HERALD_A, { token });
  const [err] = await once(again, "connect_error");
  assert.equal(err.message, "Unauthorized user");
});

test("redis-key layout: deleting the session key signs out", async () => {
  const token = randomBytes(16).toString("hex");
  await redis.set(PREFIX + "sess:" + token, JSON.stringify({ user_id: 5 }), { EX: 60 });
  const s = await connected(connect(HERALD_C, { token }));
  await redis.publish(CHANNEL, JSON.stringify({ user: 5, event: "hello" }));
  await until(() => named(s, "hello").length === 1, "hello"); // may arrive before publish() resolves
  const started = Date.now();
  await redis.del(PREFIX + "sess:" + token);
  await assertSignedOut(s, started, "node C (key layout)");
});

test("a disconnect command signs a user out everywhere", async () => {
  const t = await signIn({ user_id: 31337 });
  const a = await connected(connect(HERALD_A, { token: t }));
  const b = await connected(connect(HERALD_B, { token: t }));
  const started = Date.now();
  assert.equal((await publishAPI(HERALD_B, { disconnect: { user: 31337 } })).status, 202);
  await Promise.all([assertSignedOut(a, started, "node A"), assertSignedOut(b, started, "node B")]);

  const t2 = await signIn({ user_id: 31338 });
  const c = await connected(connect(HERALD_A, { token: t2 }));
  await redis.publish(CHANNEL, JSON.stringify({ disconnect: { session: t2 } }));
  await assertSignedOut(c, Date.now(), "by session");
});

test("a Redis outage is not reported as a sign-out", async () => {
  const s = connect(HERALD_D, { token: "anything" });
  const [err] = await once(s, "connect_error", 8000);
  assert.equal(err.message, "Authentication is temporarily unavailable, please retry");
  assert.deepEqual(err.data, { retry: true });
});
