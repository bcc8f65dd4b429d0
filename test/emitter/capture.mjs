// capture.mjs records what the real @socket.io/redis-emitter publishes, so
// that internal/emitter can be tested against it without Node.
//
// It PSUBSCRIBEs "socket.io*" on the Redis at REDIS_URL, performs a fixed
// list of emitter calls, and writes one JSON line per published message:
//
//   {"call": "<the emitter call>", "channel": "<channel>", "payload": "<base64>"}
//
// to ../../internal/emitter/testdata/emitter-<version>.jsonl (or OUT).
// See README.md for how to run it.

import { createClient } from "redis";
import { Emitter } from "@socket.io/redis-emitter";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const version = JSON.parse(
  readFileSync(join(here, "node_modules/@socket.io/redis-emitter/package.json"), "utf8"),
).version;
const out =
  process.env.OUT ?? join(here, "../../internal/emitter/testdata", `emitter-${version}.jsonl`);
const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

// Each entry publishes exactly one message; they arrive in this order
// because the emitter publishes over a single connection.
const calls = [
  ['emitter.to("user:42").emit("notification", {title: "hi", n: 1})',
    (e) => e.to("user:42").emit("notification", { title: "hi", n: 1 })],
  ['emitter.emit("broadcast", 1, "two", [3])',
    (e) => e.emit("broadcast", 1, "two", [3])],
  ['emitter.to("a").to("b").except("c").emit("multi", Buffer.from([1,2,3]), {nested: Buffer.from([4])})',
    (e) => e.to("a").to("b").except("c").emit("multi", Buffer.from([1, 2, 3]), { nested: Buffer.from([4]) })],
  ['emitter.of("/admin").emit("adm", true)',
    (e) => e.of("/admin").emit("adm", true)],
  ['emitter.in("room1").socketsJoin("room2")',
    (e) => e.in("room1").socketsJoin("room2")],
  ['emitter.in("room1").socketsLeave("room2")',
    (e) => e.in("room1").socketsLeave("room2")],
  ['emitter.in("user:42").disconnectSockets(true)',
    (e) => e.in("user:42").disconnectSockets(true)],
  ['emitter.serverSideEmit("ping")',
    (e) => e.serverSideEmit("ping")],
  // Extras: flags and the value types notepack.io has special encodings for.
  ['emitter.volatile.compress(false).to(["x", "y"]).emit("types", 1.5, -7, 2**40, -(2**40), 2**53, null, undefined, NaN, new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)), "ünï", new Uint8Array([9, 8]), {a: undefined, b: [true, false]})',
    (e) => e.volatile.compress(false).to(["x", "y"]).emit("types", 1.5, -7, 2 ** 40, -(2 ** 40), 2 ** 53, null, undefined, NaN,
      new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)), "ünï", new Uint8Array([9, 8]), { a: undefined, b: [true, false] })],
  ['emitter.of("admin").to("r").except(["s", "t"]).emit("noslash")',
    (e) => e.of("admin").to("r").except(["s", "t"]).emit("noslash")],
  ['emitter.to("user:42").disconnectSockets()',
    (e) => e.to("user:42").disconnectSockets()],
];

const pub = createClient({ url });
const sub = pub.duplicate();
pub.on("error", (err) => console.error("redis pub:", err));
sub.on("error", (err) => console.error("redis sub:", err));
await Promise.all([pub.connect(), sub.connect()]);

const got = [];
let done;
const all = new Promise((resolve) => (done = resolve));
await sub.pSubscribe(
  "socket.io*",
  (message, channel) => {
    got.push({ channel: channel.toString(), payload: Buffer.from(message).toString("base64") });
    if (got.length === calls.length) done();
  },
  true, // buffer mode: payloads are binary msgpack
);

const emitter = new Emitter(pub);
for (const [, call] of calls) call(emitter);

const timer = setTimeout(() => done(), 5000);
await all;
clearTimeout(timer);
await Promise.all([sub.quit(), pub.quit()]);

if (got.length !== calls.length) {
  console.error(`expected ${calls.length} messages, got ${got.length}`);
  process.exit(1);
}
const lines = got.map((m, i) => JSON.stringify({ call: calls[i][0], ...m }));
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, lines.join("\n") + "\n");
console.log(`wrote ${got.length} messages to ${out}`);
