// Interop tests: the official socket.io-client (pinned in package.json)
// against herald's interop server (test/interop/server).
//
// Normally run by `go test ./test/interop` (interop_test.go), which builds and
// starts the server and sets:
//   HERALD_URL           base URL of the server, e.g. http://127.0.0.1:40123
//   HERALD_RESTART_FILE  file used to ask the Go harness to restart the server:
//                        we write "restart", the harness kills the server,
//                        truncates the file, starts the server again on the
//                        same port and writes "restarted".
//
// Manual run against a server you started yourself:
//   HERALD_URL=http://127.0.0.1:3000 node --test test/interop/client.test.mjs
// (the restart test is skipped without HERALD_RESTART_FILE).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { io, Manager } from "socket.io-client";

const URL = (process.env.HERALD_URL || "").replace(/\/+$/, "");
const RESTART_FILE = process.env.HERALD_RESTART_FILE || "";

if (!URL) {
  throw new Error("HERALD_URL is not set (e.g. HERALD_URL=http://127.0.0.1:3000)");
}

const TEST_TIMEOUT = 15_000; // per test
const WAIT = 5_000; // per awaited event

// ---------------------------------------------------------------- helpers

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// once resolves with the array of arguments of the next `event` on `emitter`
// (a Socket, a Manager or an Engine.IO socket), or rejects after `ms`.
function once(emitter, event, ms = WAIT) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, handler);
      reject(new Error(`timeout (${ms} ms) waiting for "${event}"`));
    }, ms);
    function handler(...args) {
      clearTimeout(timer);
      resolve(args);
    }
    emitter.once(event, handler);
  });
}

// connected resolves when the socket is connected, or rejects on
// connect_error / timeout.
function connected(socket, ms = WAIT) {
  if (socket.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timeout (${ms} ms) waiting for "connect"`));
    }, ms);
    const onConnect = () => {
      cleanup();
      resolve();
    };
    const onError = (err) => {
      cleanup();
      reject(new Error(`connect_error: ${err && err.message}`, { cause: err }));
    };
    function cleanup() {
      clearTimeout(timer);
      socket.off("connect", onConnect);
      socket.off("connect_error", onError);
    }
    socket.on("connect", onConnect);
    socket.on("connect_error", onError);
  });
}

// waitUntil polls `cond` every 10 ms until it is true, or rejects after `ms`.
async function waitUntil(cond, what, ms = WAIT) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timeout (${ms} ms) waiting for ${what}`);
    await sleep(10);
  }
}

// client opens a dedicated connection (own Manager) and registers cleanup.
// welcome() resolves with the payload of the first "welcome" event.
function client(t, nsp = "/", opts = {}) {
  const socket = io(URL + nsp, {
    forceNew: true,
    reconnection: false,
    timeout: WAIT,
    ...opts,
  });
  t.after(() => socket.close());
  const welcomes = [];
  socket.on("welcome", (...args) => welcomes.push(args));
  const welcome = async () => {
    await waitUntil(() => welcomes.length > 0, '"welcome"');
    return welcomes[0];
  };
  return { socket, welcome, welcomes };
}

// emitAndWait emits `event` with `args` and resolves with the arguments of
// the next `replyEvent`.
function emitAndWait(socket, event, args, replyEvent = event) {
  const reply = once(socket, replyEvent);
  socket.emit(event, ...args);
  return reply;
}

// ack emits `event` with `args` plus an ack callback and resolves with the
// ack's arguments.
function ack(socket, event, args, ms = WAIT) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timeout (${ms} ms) waiting for the ack of "${event}"`)),
      ms,
    );
    socket.emit(event, ...args, (...res) => {
      clearTimeout(timer);
      resolve(res);
    });
  });
}

function allBytes() {
  return Buffer.from(Array.from({ length: 256 }, (_, i) => i));
}

function assertBuffer(actual, expected, what) {
  assert.ok(
    Buffer.isBuffer(actual),
    `${what}: expected a Buffer, got ${Object.prototype.toString.call(actual)} ${JSON.stringify(actual)}`,
  );
  assert.ok(actual.equals(expected), `${what}: bytes differ: got <${actual.toString("hex")}>`);
}

const PLAIN_ARGS = ["hello", 42, 1.5, true, null, { a: [1, "two", { three: 3 }] }, ["x", "y"], "ünïcödé ✓"];

const TRANSPORTS = [
  ["polling", ["polling"]],
  ["websocket", ["websocket"]],
];

// ---------------------------------------------------------------- transports

test("polling only: connect, welcome, echo", { timeout: TEST_TIMEOUT }, async (t) => {
  const { socket, welcome } = client(t, "/", { transports: ["polling"] });
  await connected(socket);
  const [w] = await welcome();
  assert.equal(socket.io.engine.transport.name, "polling");
  assert.equal(typeof socket.id, "string");
  assert.deepEqual(w, { id: socket.id });

  const got = await emitAndWait(socket, "echo", PLAIN_ARGS);
  assert.deepEqual(got, PLAIN_ARGS);
  // still polling (no upgrade allowed)
  assert.equal(socket.io.engine.transport.name, "polling");
});

test("websocket only: connect, welcome, echo", { timeout: TEST_TIMEOUT }, async (t) => {
  const { socket, welcome } = client(t, "/", { transports: ["websocket"] });
  await connected(socket);
  const [w] = await welcome();
  assert.equal(socket.io.engine.transport.name, "websocket");
  assert.deepEqual(w, { id: socket.id });

  const got = await emitAndWait(socket, "echo", PLAIN_ARGS);
  assert.deepEqual(got, PLAIN_ARGS);
});

test("polling -> websocket upgrade", { timeout: TEST_TIMEOUT }, async (t) => {
  const { socket, welcome } = client(t); // default transports: polling, then upgrade
  // the engine is created synchronously by io(), so we cannot miss the event
  const upgraded = once(socket.io.engine, "upgrade");
  upgraded.catch(() => {});
  await connected(socket);
  const [w] = await welcome();
  assert.deepEqual(w, { id: socket.id });

  // echo while the upgrade may still be in progress
  assert.deepEqual(await emitAndWait(socket, "echo", ["during-upgrade", 1]), ["during-upgrade", 1]);

  const [transport] = await upgraded;
  assert.equal(transport.name, "websocket");
  assert.equal(socket.io.engine.transport.name, "websocket");

  assert.deepEqual(await emitAndWait(socket, "echo", PLAIN_ARGS), PLAIN_ARGS);
  const buf = allBytes();
  const [b] = await emitAndWait(socket, "echo", [buf]);
  assertBuffer(b, buf, "binary echo after upgrade");
});

// ---------------------------------------------------------------- binary

for (const [name, transports] of TRANSPORTS) {
  test(`binary echo, top-level and nested (${name})`, { timeout: TEST_TIMEOUT }, async (t) => {
    const { socket } = client(t, "/", { transports });
    await connected(socket);

    const buf = allBytes();
    const nested = Buffer.from("nested \x00\xff bytes", "latin1");
    const args = [buf, { a: nested, n: 1, list: [Buffer.from([9, 8, 7]), "s"] }, "tail"];
    const got = await emitAndWait(socket, "echo", args);

    assert.equal(got.length, 3);
    assertBuffer(got[0], buf, "arg 0");
    assert.equal(got[1].n, 1);
    assertBuffer(got[1].a, nested, "arg 1 .a");
    assertBuffer(got[1].list[0], Buffer.from([9, 8, 7]), "arg 1 .list[0]");
    assert.equal(got[1].list[1], "s");
    assert.equal(got[2], "tail");

    // empty buffer edge case
    const [empty] = await emitAndWait(socket, "echo", [Buffer.alloc(0)]);
    assertBuffer(empty, Buffer.alloc(0), "empty buffer");
  });

  test(`binary event: server sends two buffers (${name})`, { timeout: TEST_TIMEOUT }, async (t) => {
    const { socket } = client(t, "/", { transports });
    await connected(socket);

    const buf = allBytes();
    const got = await emitAndWait(socket, "binary", [buf]);
    assert.equal(got.length, 2);
    assertBuffer(got[0], buf, "arg 0 (client's buffer)");
    assertBuffer(got[1], Buffer.from([1, 2, 3]), "arg 1 (server's buffer)");
  });
}

// ---------------------------------------------------------------- acks

for (const [name, transports] of TRANSPORTS) {
  test(`ack: client -> server (${name})`, { timeout: TEST_TIMEOUT }, async (t) => {
    const { socket } = client(t, "/", { transports });
    await connected(socket);

    assert.deepEqual(await ack(socket, "ack", PLAIN_ARGS), PLAIN_ARGS);
    assert.deepEqual(await ack(socket, "ack", []), []);

    // binary ack (BINARY_ACK packet)
    const buf = allBytes();
    const res = await ack(socket, "ack", ["bin", { b: buf }]);
    assert.equal(res.length, 2);
    assert.equal(res[0], "bin");
    assertBuffer(res[1].b, buf, "binary ack .b");

    // several acks in flight at once, answered to the right callbacks
    const many = await Promise.all(Array.from({ length: 10 }, (_, i) => ack(socket, "ack", [i])));
    assert.deepEqual(many, Array.from({ length: 10 }, (_, i) => [i]));
  });

  test(`ack: server -> client (ask/question/answered) (${name})`, { timeout: TEST_TIMEOUT }, async (t) => {
    const { socket } = client(t, "/", { transports });
    let questions = 0;
    socket.on("question", (arg, cb) => {
      questions++;
      assert.equal(typeof cb, "function", "server's question should request an ack");
      cb("answer:" + arg);
    });
    await connected(socket);

    const answered = await emitAndWait(socket, "ask", [], "answered");
    assert.equal(questions, 1);
    assert.deepEqual(answered, ["answer:what?"]);
  });
}

// ---------------------------------------------------------------- namespaces

test("second namespace /admin", { timeout: TEST_TIMEOUT }, async (t) => {
  const { socket } = client(t, "/admin");
  const adminWelcome = once(socket, "admin-welcome");
  await connected(socket);
  assert.deepEqual(await adminWelcome, ["hi"]);
  assert.deepEqual(await emitAndWait(socket, "echo", ["admin", 7]), ["admin", 7]);
});

test("multiplexing: / and /admin over one Manager", { timeout: TEST_TIMEOUT }, async (t) => {
  const manager = new Manager(URL, { reconnection: false, timeout: WAIT });
  const root = manager.socket("/");
  const admin = manager.socket("/admin");
  t.after(() => {
    root.close();
    admin.close();
  });
  const welcome = once(root, "welcome");
  const adminWelcome = once(admin, "admin-welcome");
  await Promise.all([connected(root), connected(admin)]);

  assert.equal(root.io, admin.io);
  assert.equal(root.io.engine, admin.io.engine, "both namespaces must share one Engine.IO connection");
  assert.deepEqual(await welcome, [{ id: root.id }]);
  assert.deepEqual(await adminWelcome, ["hi"]);
  assert.notEqual(root.id, admin.id, "each namespace gets its own socket id");

  // concurrent echoes are routed to their own namespace
  let crossTalk = 0;
  root.on("echo", (...a) => a[0] === "from-admin" && crossTalk++);
  admin.on("echo", (...a) => a[0] === "from-root" && crossTalk++);
  const [r, a] = await Promise.all([
    emitAndWait(root, "echo", ["from-root", 1]),
    emitAndWait(admin, "echo", ["from-admin", 2]),
  ]);
  assert.deepEqual(r, ["from-root", 1]);
  assert.deepEqual(a, ["from-admin", 2]);
  await sleep(100);
  assert.equal(crossTalk, 0, "an echo was delivered to the wrong namespace");

  // leaving one namespace keeps the other one working
  admin.disconnect();
  await sleep(50);
  assert.equal(root.connected, true);
  assert.deepEqual(await emitAndWait(root, "echo", ["still here"]), ["still here"]);
});

test("invalid namespace /nope", { timeout: TEST_TIMEOUT }, async (t) => {
  const { socket } = client(t, "/nope");
  let connects = 0;
  socket.on("connect", () => connects++);
  const [err] = await once(socket, "connect_error");
  assert.equal(err.message, "Invalid namespace");
  assert.equal(socket.active, false);
  assert.equal(connects, 0);
});

test("rejected CONNECT (middleware error with data)", { timeout: TEST_TIMEOUT }, async (t) => {
  const { socket } = client(t, "/", { auth: { token: "reject" } });
  let connects = 0;
  socket.on("connect", () => connects++);
  const [err] = await once(socket, "connect_error");
  assert.equal(err.message, "not authorized");
  assert.deepEqual(err.data, { code: 4001 });
  assert.equal(socket.active, false, "a middleware rejection must not be retried");
  assert.equal(connects, 0);

  // the same server still accepts a good token
  const { socket: ok, welcome } = client(t, "/", { auth: { token: "fine" } });
  await connected(ok);
  assert.deepEqual(await welcome(), [{ id: ok.id }]);
});

// ---------------------------------------------------------------- rooms

test("rooms: to-room reaches only the members", { timeout: TEST_TIMEOUT }, async (t) => {
  const { socket: a } = client(t, "/", { transports: ["websocket"] });
  const { socket: b } = client(t, "/", { transports: ["polling"] });
  await Promise.all([connected(a), connected(b)]);

  const bGot = [];
  b.on("room-message", (...args) => bGot.push(args));

  assert.deepEqual(await ack(a, "join", ["room1"]), [true]);

  // a member sends: it receives its own message, b does not
  const fromA = { from: "a", n: 1 };
  assert.deepEqual(await emitAndWait(a, "to-room", ["room1", fromA], "room-message"), [fromA]);

  // a non-member sends to the room: only a receives it
  const fromB = { from: "b", n: 2 };
  const aGets = once(a, "room-message");
  b.emit("to-room", "room1", fromB);
  assert.deepEqual(await aGets, [fromB]);

  await sleep(300);
  assert.deepEqual(bGot, [], "a socket outside the room received room messages");
});

// ---------------------------------------------------------------- restart

async function waitForFile(path, want, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    let content = "";
    try {
      content = (await readFile(path, "utf8")).trim();
    } catch {
      // not there yet
    }
    if (content === want) return;
    if (Date.now() > deadline) {
      throw new Error(`timeout (${ms} ms) waiting for ${path} to contain "${want}" (has "${content}")`);
    }
    await sleep(50);
  }
}

test(
  "reconnection after the server restarts",
  { timeout: 30_000, skip: RESTART_FILE ? false : "HERALD_RESTART_FILE not set" },
  async (t) => {
    const { socket } = client(t, "/", {
      reconnection: true,
      reconnectionDelay: 100,
      reconnectionDelayMax: 500,
      randomizationFactor: 0,
    });
    const welcomes = [];
    socket.on("welcome", (w) => welcomes.push(w));
    const disconnects = [];
    socket.on("disconnect", (reason) => disconnects.push(reason));

    await connected(socket);
    const firstId = socket.id;
    const disconnected = once(socket, "disconnect", 10_000);
    disconnected.catch(() => {});
    const reconnected = once(socket.io, "reconnect", 20_000);
    reconnected.catch(() => {});

    await writeFile(RESTART_FILE, "restart");
    const [reason] = await disconnected;
    assert.match(reason, /^transport (close|error)$/);
    assert.equal(socket.active, true, "the client should try to reconnect on its own");

    await waitForFile(RESTART_FILE, "restarted", 15_000);
    await reconnected;
    await connected(socket, 10_000);
    assert.notEqual(socket.id, firstId, "a restarted server hands out a new socket id");

    // a second welcome for the new connection
    const deadline = Date.now() + WAIT;
    while (welcomes.length < 2 && Date.now() < deadline) await sleep(20);
    assert.equal(welcomes.length, 2, `welcome events: ${JSON.stringify(welcomes)}`);
    assert.deepEqual(welcomes[0], { id: firstId });
    assert.deepEqual(welcomes[1], { id: socket.id });
    assert.equal(disconnects.length, 1);

    assert.deepEqual(await emitAndWait(socket, "echo", ["after restart"]), ["after restart"]);
  },
);
