// The demo page as a person uses it, in Debian's headless Chromium driven by
// playwright-core (which never downloads a browser).
//
// Needs a running herald with the demo page and the HTTP API on:
//
//   HERALD_URL         e.g. http://127.0.0.1:3003
//   HERALD_API_KEY     herald's --api-key
//   SCREENSHOT_DIR     optional: where to save demo-signed-in.png and
//                      demo-signed-out.png
//   HERALD_TOKEN_FILE  optional: the session token the browser got is
//                      written here (the Go harness checks herald's logs
//                      never show it)
//   CHROMIUM           optional: the browser, default /usr/bin/chromium
//
// `go test ./test/browser` starts herald and runs this file; see
// browser_test.go.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const BASE = (process.env.HERALD_URL || "").replace(/\/+$/, "");
const API_KEY = process.env.HERALD_API_KEY || "";
const SHOTS = process.env.SCREENSHOT_DIR || "";
const TOKEN_FILE = process.env.HERALD_TOKEN_FILE || "";
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const COOKIE = "_validation_token_key";

const STEP = 20_000; // bound on each step
const WAIT = 10_000; // bound on each wait for the page

let userDataDir, context, page;
const pageErrors = [];
const consoleErrors = [];
let broken = ""; // the first failed step: later ones are skipped

// step runs fn as a test; after a failure the following steps are skipped,
// since each builds on the page state the previous one left.
function step(name, fn) {
  test(name, { timeout: STEP }, async (t) => {
    if (broken) {
      t.skip(`skipped: the step "${broken}" failed`);
      return;
    }
    try {
      await fn(t);
    } catch (err) {
      broken = name;
      throw err;
    }
  });
}

const byTestId = (id) => page.locator(`[data-testid="${id}"]`);

async function screenshot(name) {
  if (!SHOTS) return;
  await mkdir(SHOTS, { recursive: true });
  const file = path.join(SHOTS, name);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`screenshot: ${file}`);
}

before(async () => {
  assert.ok(BASE, "HERALD_URL is not set");
  assert.ok(API_KEY, "HERALD_API_KEY is not set");
  userDataDir = await mkdtemp(path.join(tmpdir(), "herald-chromium-"));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    viewport: { width: 1200, height: 900 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(WAIT);
  page.on("pageerror", (err) => pageErrors.push(String(err)));
  page.on("console", (msg) => {
    if (msg.type() === "error") consoleErrors.push(msg.text());
  });
});

after(async () => {
  await context?.close().catch(() => {});
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
  if (consoleErrors.length) console.log("browser console errors:\n  " + consoleErrors.join("\n  "));
});

step("the page offers to sign in", async () => {
  const res = await page.goto(BASE + "/");
  assert.equal(res.status(), 200, `GET / answered ${res.status()}: is the demo page mounted?`);
  await byTestId("signin-form").waitFor();
  assert.equal(await page.title(), "herald demo");
});

step("signing in as user 42 through the form connects over WebSocket", async () => {
  await byTestId("signin-user-id").fill("42");
  await byTestId("signin-name").fill("Ada Lovelace");
  await byTestId("signin-submit").click();
  await byTestId("signed-in").waitFor();
  assert.match(await byTestId("current-user").innerText(), /Ada Lovelace\s+\(user id 42\)/);
  // What the demo wrote to Redis is what the original Rails code writes.
  assert.equal(await byTestId("session-json").innerText(), '{"user_id":42,"username":"Ada Lovelace"}');

  const cookie = (await context.cookies(BASE)).find((c) => c.name === COOKIE);
  assert.ok(cookie, `no ${COOKIE} cookie after sign-in`);
  assert.match(cookie.value, /^[0-9a-f]{32}$/, "the token is an MD5 in hex");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, "Lax");
  assert.equal(cookie.path, "/");
  if (TOKEN_FILE) await writeFile(TOKEN_FILE, cookie.value);

  await page.locator('[data-testid="status"][data-state="connected"]').waitFor();
  assert.equal(await byTestId("status").innerText(), "connected");
  // socket.io-client starts with long-polling and upgrades: the
  // cookie-authenticated WebSocket must be accepted too.
  await page.locator('[data-testid="connection-detail"]', { hasText: "over websocket" }).waitFor();
});

step("a notification published through the HTTP API appears", async () => {
  const res = await fetch(BASE + "/api/publish", {
    method: "POST",
    headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify({ user: 42, event: "notification", data: { title: "Hello from the API" } }),
    signal: AbortSignal.timeout(WAIT),
  });
  const body = await res.text();
  assert.ok(res.ok, `POST /api/publish: ${res.status} ${body}`);

  const item = byTestId("notifications").locator("li", { hasText: "Hello from the API" });
  await item.waitFor();
  assert.equal(await item.getAttribute("data-event"), "notification");
  assert.match(await item.locator("pre").innerText(), /"title": "Hello from the API"/);
  assert.equal(await byTestId("notifications").locator("li").count(), 1);
});

step("a broadcast sent with the page's form appears, newest first", async () => {
  await byTestId("send-broadcast").check();
  await byTestId("send-event").fill("announcement");
  await byTestId("send-data").fill('{"title": "Broadcast from the page", "level": "info"}');
  await byTestId("send-submit").click();
  await page.locator('[data-testid="send-result"][data-ok="true"]', { hasText: "sent" }).waitFor();

  const item = byTestId("notifications").locator("li", { hasText: "Broadcast from the page" });
  await item.waitFor();
  assert.equal(await item.getAttribute("data-event"), "announcement");
  const items = byTestId("notifications").locator("li");
  assert.equal(await items.count(), 2);
  assert.match(await items.first().innerText(), /Broadcast from the page/, "the newest is first");
  assert.equal(await items.first().getAttribute("data-testid"), "notification-2");
  assert.equal(await items.last().getAttribute("data-testid"), "notification-1");
  await screenshot("demo-signed-in.png");

  // Bad input is refused with the server's message, and nothing is sent.
  await byTestId("send-broadcast").uncheck();
  await byTestId("send-user").fill("42");
  await byTestId("send-event").fill("connect");
  await byTestId("send-submit").click();
  await page.locator('[data-testid="send-result"][data-ok="false"]', { hasText: "event" }).waitFor();
  await page.waitForTimeout(300);
  assert.equal(await items.count(), 2);
});

step("signing out deletes the session and herald closes the live connection", async () => {
  await byTestId("signout-button").click();
  await byTestId("signin-form").waitFor();
  // herald disconnects a signed-out session's sockets within 2 s; the page
  // waits up to 5 s for that and tells which happened.
  const notice = byTestId("signout-notice");
  await notice.waitFor();
  assert.match(await notice.innerText(), /herald closed the live connection \d+ ms after sign-out/);
  const cookie = (await context.cookies(BASE)).find((c) => c.name === COOKIE);
  assert.equal(cookie, undefined, "the token cookie is cleared");
  await screenshot("demo-signed-out.png");
});

step("no script errors and no Content-Security-Policy violations", async () => {
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(consoleErrors.filter((e) => /Content Security Policy|Refused to/i.test(e)), []);
});
