// Bugs `tsc --checkJs` (make js-typecheck, bindings-wasm/js/tsconfig.json)
// found in the glue, as behaviour: each test failed before its fix.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { EventEmitter } from "node:events";
import { fileURLToPath } from "node:url";

const PKG = new URL("../../target/npm/hystrix/", import.meta.url);
const obs = await import(new URL("observe.mjs", PKG).href);

/** Runs `script` (an ES module) in a fresh Node; resolves with `{ code, stdout, stderr }`. */
function node(script) {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--input-type=module", "-e", script], { timeout: 60_000, cwd: fileURLToPath(PKG) }, (err, stdout, stderr) =>
      resolve({ code: err ? err.code : 0, stdout, stderr }),
    );
  });
}

/**
 * A response as observe.d.ts's ObserveResponse describes it: `writeHead`
 * returns nothing (only node:http's returns the response). Records what it is told.
 */
function minimalResponse() {
  const seen = { status: 0, headers: {}, body: "", ended: false };
  const res = Object.assign(new EventEmitter(), {
    headersSent: false,
    writeHead(status, headers) {
      seen.status = status;
      seen.headers = headers ?? {};
    },
    write(chunk) {
      seen.body += chunk;
      return true;
    },
    end(chunk) {
      if (chunk !== undefined) seen.body += chunk;
      seen.ended = true;
    },
    destroy() {},
  });
  return { res, seen };
}

const request = (method, url = "/") => Object.assign(new EventEmitter(), { method, url, socket: {} });

test("observe: the plain-text answers (405, 400, 503) need nothing from writeHead's result", () => {
  // Before: plain() chained writeHead(...).end(...), a TypeError with such a response.
  const metrics = obs.metricsHandler({ commands: [] });
  let { res, seen } = minimalResponse();
  metrics(request("POST"), res);
  assert.deepEqual([seen.status, seen.headers.Allow, seen.body, seen.ended], [405, "GET, HEAD", "only GET\n", true]);

  const stream = obs.streamHandler({ commands: [], maxConnections: 0 });
  ({ res, seen } = minimalResponse());
  stream(request("GET", "/hystrix.stream?delay=x"), res);
  assert.equal(seen.status, 400);
  assert.match(seen.body, /delay must be a positive integer/);
  ({ res, seen } = minimalResponse());
  stream(request("GET", "/hystrix.stream"), res);
  assert.deepEqual([seen.status, seen.body], [503, "MaxConcurrentConnections reached: 0\n"]);
  assert.deepEqual(stream.stats(), { clients: 0, served: 0, refused: 1, dropped: 0 });
});

test("hystrix/init: configSchema() before init() is the same clear HystrixError as a command, and works after", async () => {
  // Before: a TypeError ("slot.configSchema is not a function").
  const r = await node(`
    import { readFileSync } from "node:fs";
    import { init, configSchema, HystrixError } from ${JSON.stringify(new URL("init.mjs", PKG).href)};
    const out = {};
    try { configSchema(); out.before = "read"; } catch (e) { out.before = [e instanceof HystrixError, e.message]; }
    await init(readFileSync(new URL("web/hystrix_wasm_bg.wasm", ${JSON.stringify(PKG.href)})));
    out.after = configSchema().find((s) => s.option === "timeoutMs");
    console.log(JSON.stringify(out));
  `);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.before, [
    true,
    'hystrix is not loaded yet: with "hystrix-resilience/init", await init() before calling configSchema()',
  ]);
  assert.equal(out.after.key, "timeout_ms");
});
