// The Node handlers of `hystrix-resilience/observe` mounted in the real
// Express and Fastify (issue #12: "one request handler (works in
// node:http, Express/Connect, Fastify via its raw request)"): the metrics,
// the stream (headers, a first frame of the command, the slot freed when
// the client hangs up) and the dashboard page, as README and
// docs/observability.md show them.
import assert from "node:assert/strict";
import http from "node:http";
import { test } from "node:test";
import express from "express";
import Fastify from "fastify";
import { hystrix, observe } from "./bridges-scenario.mjs";

const NAME = "framework-users";

/** One call of a named command, so the stream has a frame to send. */
async function traffic() {
  await new hystrix.Command(async () => 1, null, { name: NAME }).execute();
}

/** GET `path` on `port`: status, headers and the body (all of it, or the first chunk of a stream, then hangs up). */
function get(port, path, { firstChunk = false } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => {
        body += chunk;
        if (firstChunk && body.includes("\n\n")) {
          req.destroy();
          resolve({ status: res.statusCode, headers: res.headers, body });
        }
      });
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on("error", (e) => (firstChunk && e.code === "ECONNRESET" ? undefined : reject(e)));
  });
}

/** Waits until `predicate()` holds (the server sees a hang-up a moment after it). */
async function eventually(predicate, what) {
  for (let i = 0; i < 200; i++) {
    if (predicate()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`never: ${what}`);
}

/** The checks every framework must pass, on a server listening on `port`. */
async function checkRoutes(port, stream) {
  const metrics = await get(port, "/metrics");
  assert.equal(metrics.status, 200);
  assert.equal(metrics.headers["content-type"], observe.PROMETHEUS_CONTENT_TYPE);
  assert.match(metrics.body, new RegExp(`^hystrix_execution_total\\{name="${NAME}",group="${NAME}",event="success"\\} \\d+$`, "m"));

  const page = await get(port, "/hystrix");
  assert.equal(page.status, 200);
  assert.equal(page.headers["content-type"], observe.DASHBOARD_CONTENT_TYPE);
  assert.equal(page.body, observe.dashboardHtml());

  const frames = await get(port, "/hystrix.stream", { firstChunk: true });
  assert.equal(frames.status, 200);
  for (const [key, value] of Object.entries(observe.STREAM_HEADERS)) {
    assert.equal(frames.headers[key.toLowerCase()], value, `stream header ${key}`);
  }
  const first = frames.body.split("\n\n")[0];
  assert.ok(first.startsWith("data: {"), `a frame first, got ${JSON.stringify(first.slice(0, 40))}`);
  const frame = JSON.parse(first.slice("data: ".length));
  assert.equal(frame.type, "HystrixCommand");
  assert.ok(frame.name === NAME || frame.name < NAME, "frames in name order");
  await eventually(() => stream.stats().clients === 0, "the hung-up client's slot is freed");
}

test("Express mounts the handlers as they are", async () => {
  await traffic();
  const stream = observe.streamHandler({ intervalMs: 20 });
  const app = express();
  app.get("/metrics", observe.metricsHandler());
  app.get("/hystrix.stream", stream);
  app.get("/hystrix", observe.dashboardHandler());
  const server = app.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  try {
    await checkRoutes(server.address().port, stream);
    assert.equal(stream.stats().served, 1);
  } finally {
    stream.close();
    await new Promise((r) => server.close(r));
  }
});

test("Fastify serves them through its raw request and reply (reply.hijack())", async () => {
  await traffic();
  const metrics = observe.metricsHandler();
  const stream = observe.streamHandler({ intervalMs: 20 });
  const page = observe.dashboardHandler();
  const app = Fastify();
  for (const [path, handler] of [["/metrics", metrics], ["/hystrix.stream", stream], ["/hystrix", page]]) {
    app.get(path, (req, reply) => {
      reply.hijack();
      handler(req.raw, reply.raw);
    });
  }
  await app.listen({ port: 0, host: "127.0.0.1" });
  try {
    await checkRoutes(app.server.address().port, stream);
    assert.equal(stream.stats().served, 1);
  } finally {
    stream.close();
    await app.close();
  }
});
