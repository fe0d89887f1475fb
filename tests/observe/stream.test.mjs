// hystrix.stream behaviour of the Rust example server over raw sockets:
// headers and framing byte for byte, the connection limit, slots freed on
// hang-up, a client that never reads, and bad requests.
import assert from "node:assert/strict";
import { test } from "node:test";
import { get, rawGet, rssKiB, sleep, startServer, stats } from "./harness.mjs";

const HEAD =
  "HTTP/1.1 200 OK\r\n" +
  "Content-Type: text/event-stream;charset=UTF-8\r\n" +
  "Cache-Control: no-cache, no-store, max-age=0, must-revalidate\r\n" +
  "Pragma: no-cache\r\n" +
  "Connection: close\r\n\r\n";

/** The body of a raw response (after the blank line). */
const bodyOf = (text) => text.slice(text.indexOf("\r\n\r\n") + 4);

test("no command: the headers, then only pings", async (t) => {
  const s = await startServer(["--demo", "none", "--interval-ms", "50"], t);
  const c = rawGet(s.port, "/hystrix.stream");
  await c.until(/(ping: \n\n){3}/);
  c.close();
  const text = c.text();
  assert.equal(text.slice(0, HEAD.length), HEAD);
  assert.match(bodyOf(text), /^(ping: \n\n)+(p(i(n(g(:( (\n)?)?)?)?)?)?)?$/);
});

test("commands: every tick is data: {json}\\n\\n per command, sorted, then ping", async (t) => {
  const s = await startServer(["--demo", "states", "--interval-ms", "50"], t);
  const c = rawGet(s.port, "/proxy.stream?origin=http%3A%2F%2Fanywhere&delay=2000");
  await c.until(/(ping: \n\n[^]*){4}/);
  c.close();
  const text = c.text();
  assert.equal(text.slice(0, HEAD.length), HEAD);
  const body = bodyOf(text);
  const ticks = body.slice(0, body.lastIndexOf("ping: \n\n")).split("ping: \n\n");
  assert.ok(ticks.length >= 3);
  for (const tick of ticks) {
    const m = /^(data: [^\n]+\n\n)*$/.exec(tick);
    assert.ok(m, `a tick is data frames only: ${JSON.stringify(tick.slice(0, 200))}`);
    const frames = tick.split("\n\n").filter(Boolean).map((f) => JSON.parse(f.slice("data: ".length)));
    assert.deepEqual(frames.map((f) => f.name), ["cycling", "healthy", "tripped"]);
    for (const f of frames) {
      assert.equal(f.type, "HystrixCommand");
      assert.ok(Number.isInteger(f.currentTime) && Math.abs(f.currentTime - Date.now()) < 60_000);
    }
  }
});

test("past the limit a client gets 503 with the reason; a hang-up frees the slot", async (t) => {
  const s = await startServer(["--demo", "none", "--max-connections", "2"], t);
  const a = rawGet(s.port, "/hystrix.stream");
  const b = rawGet(s.port, "/hystrix.stream");
  await a.until(/\r\n\r\n/);
  await b.until(/\r\n\r\n/);
  const c = rawGet(s.port, "/hystrix.stream");
  await c.ended;
  assert.equal(
    c.text(),
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 36\r\nConnection: close\r\n\r\n" +
      "MaxConcurrentConnections reached: 2\n",
  );
  a.close();
  await waitFor(async () => (await stats(s.base)).stream_clients === 1);
  const d = rawGet(s.port, "/hystrix.stream");
  await d.until(/^HTTP\/1\.1 200 OK\r\n/);
  d.close();
  b.close();
  await waitFor(async () => (await stats(s.base)).stream_clients === 0);
  assert.equal((await stats(s.base)).streams_refused_total, 1);
});

test("1,000 connect/disconnect cycles leave no connection behind", { timeout: 60_000 }, async (t) => {
  // 50 slots: a leaked slot would show as a 503 after 50 cycles.
  const s = await startServer(["--demo", "states", "--max-connections", "50"], t);
  for (let i = 0; i < 1000; i++) {
    const c = rawGet(s.port, "/hystrix.stream");
    const head = await c.until(/\r\n\r\n/);
    assert.ok(head.startsWith("HTTP/1.1 200 OK\r\n"), `cycle ${i}: ${head.split("\r\n")[0]}`);
    c.close();
  }
  await waitFor(async () => (await stats(s.base)).stream_clients === 0);
  const st = await stats(s.base);
  assert.equal(st.streams_served_total, 1000);
  assert.equal(st.streams_refused_total, 0);
});

test("a client that never reads loses ticks, is dropped, and neither blocks others nor grows memory", { timeout: 60_000 }, async (t) => {
  // 100 commands of about 2.4 kB every 25 ms: about 10 MB/s per client.
  const s = await startServer(
    ["--demo", "states", "--commands", "100", "--interval-ms", "25", "--write-timeout-ms", "1000"],
    t,
  );
  const reader = rawGet(s.port, "/hystrix.stream");
  await reader.until(/ping: \n\n/);
  let pings = 0;
  // Count the reader's ticks without keeping the stream.
  reader.sock.removeAllListeners("data");
  reader.sock.on("data", (d) => (pings += d.split("ping: \n\n").length - 1));
  const rate = async (ms) => {
    const [p0, t0] = [pings, Date.now()];
    await sleep(ms);
    return ((pings - p0) * 1000) / (Date.now() - t0);
  };
  const alone = await rate(1000);
  const before = rssKiB(s.pid);
  const stalled = rawGet(s.port, "/hystrix.stream");
  await stalled.until(/\r\n\r\n/);
  stalled.sock.pause(); // Never reads again: the kernel buffers fill up.
  const start = Date.now();
  const during = await rate(1500);
  await waitFor(async () => (await stats(s.base)).stream_clients === 1, 15_000);
  const elapsed = Date.now() - start;
  const st = await stats(s.base);
  const grown = rssKiB(s.pid) - before;
  t.diagnostic(
    `reader: ${alone.toFixed(1)} ticks/s alone, ${during.toFixed(1)} beside the stalled client; ` +
      `stalled client dropped after ${elapsed} ms with ${st.ticks_dropped_total} ticks dropped; RSS ${grown >= 0 ? "+" : ""}${grown} KiB`,
  );
  assert.ok(st.ticks_dropped_total > 0, "the stalled client lost ticks");
  assert.ok(during > alone / 2, `the reader was slowed down: ${during} vs ${alone} ticks/s`);
  assert.ok(grown < 32 * 1024, `memory grew by ${grown} KiB`);
  reader.close();
  stalled.close();
});

test("unknown route 404, bad query value 400 with the reason, not GET 405", async (t) => {
  const s = await startServer(["--demo", "none"], t);
  const missing = await get(`${s.base}/nope`);
  assert.equal(missing.status, 404);
  for (const bad of ["0", "-5", "abc", ""]) {
    const r = await get(`${s.base}/hystrix.stream?delay=${bad}`);
    assert.equal(r.status, 400);
    assert.equal(r.body, `bad query: delay must be a positive integer of milliseconds (got ${JSON.stringify(bad)})\n`);
  }
  const post = rawGet(s.port, "/metrics", "POST");
  await post.ended;
  assert.match(post.text(), /^HTTP\/1\.1 405 /);
  const page = await get(`${s.base}/hystrix`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  assert.match(page.body, /^<!doctype html>/);
  const metrics = await get(`${s.base}/metrics`);
  assert.equal(metrics.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
});

async function waitFor(check, ms = 5000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out: ${check}`);
    await sleep(20);
  }
}
