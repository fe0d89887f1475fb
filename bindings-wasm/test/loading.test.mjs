// Loading the package: the entry without top-level await (`hystrix-resilience/init`),
// each in a fresh Node process (the loaded wasm is per process).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const PKG = new URL("../../target/npm/hystrix/", import.meta.url);

/** Runs `script` (an ES module) in a fresh Node; resolves with `{ code, stdout, stderr }`. */
function node(script, args = ["--input-type=module", "-e", script]) {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { timeout: 60_000, cwd: fileURLToPath(PKG) }, (err, stdout, stderr) =>
      resolve({ code: err ? err.code : 0, stdout, stderr }),
    );
  });
}

test("hystrix/init: a command made before init() is a clear error; a failed init() may be retried; init(bytes) loads the wasm once", async () => {
  const r = await node(`
    import { readFileSync } from "node:fs";
    import { init, Command, HystrixError } from ${JSON.stringify(new URL("init.mjs", PKG).href)};
    const out = {};
    try { new Command(() => 1); out.before = "made"; } catch (e) { out.before = [e instanceof HystrixError, e.message]; }
    const bytes = readFileSync(new URL("web/hystrix_wasm_bg.wasm", ${JSON.stringify(PKG.href)}));
    out.bad = await init(new Uint8Array([0, 1, 2, 3])).then(() => "loaded", (e) => e instanceof WebAssembly.CompileError);
    const first = init(bytes);
    out.same = first === init(bytes);
    await first;
    out.value = await new Command((x) => x * 2).execute(21);
    out.again = await init().then(() => "ok");
    console.log(JSON.stringify(out));
  `);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    before: [true, 'hystrix is not loaded yet: with "hystrix-resilience/init", await init() before creating a command'],
    bad: true,
    same: true,
    value: 42,
    again: "ok",
  });
});
