// hystrix-resilience/observe on Node: what the core renders, served by node:http
// handlers (content types, SSE framing, the connection limit, hang-ups,
// many clients, slow clients, a ticker that never holds the process).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import http from "node:http";
import net from "node:net";

const pkg = new URL("../../target/npm/hystrix/", import.meta.url);
const { Command, VirtualClock, removeCommand } = await import(new URL("index.node.mjs", pkg).href);
const obs = await import(new URL("observe.mjs", pkg).href);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A node:http server routing `routes` (path → handler) on an ephemeral port. */
async function serve(t, routes) {
  const server = http.createServer((req, res) => {
    const handler = routes[new URL(req.url, "http://x").pathname];
    if (handler) handler(req, res);
    else res.writeHead(404).end();
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return server.address().port;
}

/** A raw GET; `text()` is what arrived so far, `until(re)` waits for it. */
function rawGet(port, target, { read = true } = {}) {
  const sock = net.connect(port, "127.0.0.1");
  let received = "";
  sock.setEncoding("latin1");
  if (read) sock.on("data", (d) => (received += d));
  else sock.pause();
  sock.on("error", () => {});
  sock.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
  return {
    sock,
    text: () => received,
    async until(re, ms = 5000) {
      const end = Date.now() + ms;
      while (!re.test(received)) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${re} in ${JSON.stringify(received.slice(0, 300))}`);
        await sleep(10);
      }
      return received;
    },
  };
}

async function eventually(fn, what, ms = 5000) {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(10);
  }
}

/** Named commands on a virtual clock, removed from the registry after the test. */
async function commands(t, names, clock = new VirtualClock()) {
  const made = [];
  for (const name of names) {
    const cmd = new Command(async () => 1, null, { name, clock });
    await cmd.execute();
    made.push(cmd);
    t.after(() => removeCommand(name));
  }
  return made;
}

test("metricsText and streamFrames render the named commands (or a list), sorted by name", async (t) => {
  const clock = new VirtualClock(1000);
  await commands(t, ["obs-b", "obs-a"], clock);
  const anonymous = new Command(async () => 1, null, { clock });
  await anonymous.execute();
  const frames = obs.streamFrames({ wallClockMs: 1_700_000_000_000, commands: ["obs-b", "obs-a"] });
  const objects = frames.split("\n\n").filter(Boolean).map((f) => JSON.parse(f.replace(/^data: /, "")));
  assert.deepEqual(objects.map((o) => o.name), ["obs-a", "obs-b"]);
  assert.equal(objects[0].currentTime, 1_700_000_000_000);
  assert.equal(objects[0].rollingCountSuccess, 1);
  assert.equal(objects[0].propertyValue_executionIsolationStrategy, "SEMAPHORE");
  const text = obs.metricsText({ commands: ["obs-a"] });
  assert.match(text, /^hystrix_execution_total\{name="obs-a",group="obs-a",event="success"\} 1$/m);
  assert.doesNotMatch(text, /obs-b/);
  // The whole registry: both, and no anonymous command.
  assert.match(obs.metricsText(), /name="obs-b"/);
  assert.equal(obs.streamFrames({ commands: [anonymous] }), "");
  assert.throws(() => obs.metricsText({ commands: ["obs-nobody"] }), /options\.commands\[0\]: no command is named "obs-nobody"/);
  assert.throws(() => obs.metricsText({ commands: [42] }), /options\.commands\[0\] must be a Command/);
  assert.throws(() => obs.streamFrames({ wallClockMs: -1 }), /wallClockMs must be an integer ≥ 0, got -1/);
  assert.throws(() => obs.streamHandler({ intervalMs: 0 }), /intervalMs must be an integer ≥ 1, got 0/);
  assert.equal(obs.dashboardHtml().slice(0, 15), "<!doctype html>");
});

test("/metrics and the page: content types, HEAD, 405", async (t) => {
  await commands(t, ["obs-metrics"]);
  const port = await serve(t, { "/metrics": obs.metricsHandler(), "/hystrix": obs.dashboardHandler() });
  const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(metrics.status, 200);
  assert.equal(metrics.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  assert.match(await metrics.text(), /hystrix_circuitbreaker_state\{name="obs-metrics",group="obs-metrics",state="closed"\} 1/);
  const page = await fetch(`http://127.0.0.1:${port}/hystrix`);
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(await page.text(), obs.dashboardHtml());
  const head = await fetch(`http://127.0.0.1:${port}/metrics`, { method: "HEAD" });
  assert.equal(head.status, 200);
  const post = await fetch(`http://127.0.0.1:${port}/metrics`, { method: "POST" });
  assert.equal(post.status, 405);
});

test("hystrix.stream: headers, frames then ping, 503 past the limit, a hang-up frees its slot, 400 on a bad delay", async (t) => {
  await commands(t, ["obs-stream"]);
  const stream = obs.streamHandler({ intervalMs: 20, maxConnections: 2, commands: ["obs-stream"] });
  t.after(() => stream.close());
  const port = await serve(t, { "/hystrix.stream": stream });
  const a = rawGet(port, "/hystrix.stream");
  const text = await a.until(/ping: \n\n[\s\S]*ping: \n\n/);
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(text, /\r\nContent-Type: text\/event-stream;charset=UTF-8\r\n/i);
  assert.match(text, /\r\nCache-Control: no-cache, no-store, max-age=0, must-revalidate\r\n/i);
  assert.match(text, /\r\nPragma: no-cache\r\n/i);
  assert.match(text, /data: \{"type":"HystrixCommand","name":"obs-stream",[^\n]*\}\n\nping: \n\n/);
  const b = rawGet(port, "/hystrix.stream");
  await b.until(/ping/);
  const c = rawGet(port, "/hystrix.stream");
  await c.until(/MaxConcurrentConnections reached: 2\n$/);
  assert.match(c.text(), /^HTTP\/1\.1 503 /);
  a.sock.destroy();
  await eventually(() => stream.stats().clients === 1, "the hang-up frees its slot");
  const d = rawGet(port, "/hystrix.stream");
  await d.until(/ping/);
  const bad = rawGet(port, "/hystrix.stream?delay=soon");
  await bad.until(/delay must be a positive integer of milliseconds \(got "soon"\)/);
  assert.match(bad.text(), /^HTTP\/1\.1 400 /);
  b.sock.destroy();
  d.sock.destroy();
  await eventually(() => stream.stats().clients === 0, "every slot freed");
  assert.deepEqual({ ...stream.stats(), clients: 0 }, { clients: 0, served: 3, refused: 1, dropped: stream.stats().dropped });
});

test("many clients each get every tick; connect/disconnect cycles leave none", async (t) => {
  await commands(t, ["obs-many"]);
  const stream = obs.streamHandler({ intervalMs: 20, maxConnections: 200, commands: ["obs-many"] });
  t.after(() => stream.close());
  const port = await serve(t, { "/hystrix.stream": stream });
  const clients = Array.from({ length: 100 }, () => rawGet(port, "/hystrix.stream"));
  await Promise.all(clients.map((c) => c.until(/(ping: \n\n[\s\S]*){3}/)));
  assert.equal(stream.stats().clients, 100);
  for (const c of clients) c.sock.destroy();
  for (let i = 0; i < 100; i++) {
    const c = rawGet(port, "/hystrix.stream");
    await c.until(/\r\n\r\n/);
    c.sock.destroy();
  }
  await eventually(() => stream.stats().clients === 0, "every client gone");
});

test("a client that never reads loses ticks and is dropped, another client keeps its ticks", async (t) => {
  // Big ticks (80 commands), so a stalled socket fills its buffers at once.
  await commands(t, Array.from({ length: 80 }, (_, i) => `obs-big-${String(i).padStart(2, "0")}`));
  const stream = obs.streamHandler({ intervalMs: 10, writeTimeoutMs: 300 });
  t.after(() => stream.close());
  const port = await serve(t, { "/hystrix.stream": stream });
  const stalled = rawGet(port, "/hystrix.stream", { read: false });
  const reader = rawGet(port, "/hystrix.stream");
  await eventually(() => stream.stats().clients === 2, "both connected");
  await eventually(() => stream.stats().dropped > 0, "the stalled client loses ticks");
  await eventually(() => stream.stats().clients === 1, "the stalled client is dropped", 5000);
  const before = reader.text().split("ping: ").length;
  await sleep(200);
  assert.ok(reader.text().split("ping: ").length > before + 3, "the reader still gets ticks");
  stalled.sock.destroy();
  reader.sock.destroy();
});

test("the stream's ticker does not keep the process alive", () => {
  const script = `
    const { Command } = await import(${JSON.stringify(new URL("index.node.mjs", pkg).href)});
    const obs = await import(${JSON.stringify(new URL("observe.mjs", pkg).href)});
    const { EventEmitter } = await import("node:events");
    await new Command(async () => 1, null, { name: "held" }).execute();
    const req = Object.assign(new EventEmitter(), { method: "GET", url: "/hystrix.stream", socket: {} });
    const res = Object.assign(new EventEmitter(), { writeHead() { return this; }, write() { return true; }, end() {} });
    obs.streamHandler({ intervalMs: 10 })(req, res);
    console.log("streaming");
  `;
  const started = Date.now();
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), "streaming");
  assert.ok(Date.now() - started < 5000, "the process exited with a stream open");
});

test("a clock that throws: /metrics answers 500 with the reason, streams end, the process lives on", async (t) => {
  let broken = false;
  const clock = {
    now: () => {
      if (broken) throw new Error("clock unplugged");
      return 0;
    },
    arm: () => ({ cancel() {} }),
  };
  await commands(t, ["obs-broken"], clock);
  const stream = obs.streamHandler({ intervalMs: 10, commands: ["obs-broken"] });
  t.after(() => stream.close());
  const port = await serve(t, { "/metrics": obs.metricsHandler({ commands: ["obs-broken"] }), "/hystrix.stream": stream });
  const s = rawGet(port, "/hystrix.stream");
  await s.until(/ping: \n\n/);
  broken = true;
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 500);
  assert.equal(await res.text(), "hystrix: rendering failed: clock unplugged\n");
  await eventually(() => stream.stats().clients === 0, "the stream ended");
  s.sock.destroy();
});
