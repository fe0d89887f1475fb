// The real clock (performance.now + setTimeout): timeouts fire; a pending
// call's timeout keeps Node alive, a cancelled one does not.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const PKG = new URL("../../target/npm/hystrix/index.node.mjs", import.meta.url);
const h = await import(PKG.href);
const { Command, TimeoutError } = h;

test("a 20 ms timeout on the real clock rejects with TimeoutError and aborts the run", async () => {
  let signal;
  const cmd = new Command(
    (ctx) => {
      signal = ctx.signal;
      // Never settles unless aborted.
      return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
    },
    null,
    { timeoutMs: 20, withContext: true },
  );
  const started = performance.now();
  const e = await cmd.execute().then(assert.fail, (x) => x);
  const elapsed = performance.now() - started;
  assert.ok(e instanceof TimeoutError, `got ${e}`);
  assert.equal(signal.aborted, true);
  assert.equal(signal.reason, e);
  // Generous bounds: not early by more than the 1 ms clock granularity, and not wildly late.
  assert.ok(elapsed >= 15, `fired after ${elapsed} ms`);
  assert.ok(elapsed < 5000, `fired after ${elapsed} ms`);
  const s = cmd.snapshot();
  assert.equal(s.cumulative.TIMEOUT, 1);
  assert.equal(s.concurrent, 0);
});

test("real-clock runs that finish in time succeed; their timers are cancelled", async () => {
  // 5 ms runs against a 30 s timeout: in time however loaded the machine is.
  const cmd = new Command((x) => new Promise((r) => setTimeout(() => r(x), 5)), null, { timeoutMs: 30_000 });
  const values = await Promise.all([1, 2, 3].map((x) => cmd.execute(x)));
  assert.deepEqual(values, [1, 2, 3]);
  assert.equal(cmd.snapshot().cumulative.SUCCESS, 3);
  assert.equal(cmd.snapshot().cumulative.TIMEOUT, 0);
});

/** Runs module code `script` in a child Node; resolves with `{ code, stdout, killed, elapsed }`. */
async function child(script) {
  const started = Date.now();
  const r = await new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--input-type=module", "-e", script],
      { timeout: 30_000, cwd: fileURLToPath(new URL(".", import.meta.url)) },
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, killed: err?.killed ?? false, stdout, stderr }),
    );
  });
  return { ...r, elapsed: Date.now() - started };
}

test("a pending call's timeout keeps Node alive: under top-level await the TimeoutError arrives (no exit 13)", async () => {
  // The run never settles and nothing else is pending: only the timeout timer can end the call.
  const r = await child(`
    const { Command } = await import(${JSON.stringify(PKG.href)});
    const cmd = new Command(() => new Promise(() => {}), null, { timeoutMs: 200 });
    const e = await cmd.execute().catch((x) => x);
    console.log(e.name, cmd.snapshot().cumulative.TIMEOUT);
  `);
  assert.equal(r.killed, false);
  assert.equal(r.code, 0, `exit code ${r.code} (13: the process ended with the await unsettled); ${r.stderr}`);
  assert.equal(r.stdout.trim(), "TimeoutError 1");
});

test("a pending call's timeout keeps Node alive: in .then style the fallback runs", async () => {
  const r = await child(`
    const { Command } = await import(${JSON.stringify(PKG.href)});
    const cmd = new Command(() => new Promise(() => {}), (e) => "fallback after " + e.kind, { timeoutMs: 200 });
    cmd.execute().then((v) => console.log(v));
  `);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "fallback after timeout");
});

test("a timeout cancelled because the run finished does not keep Node alive", async () => {
  // A 60 s timeout, cancelled at once: the process must end promptly on its own.
  const r = await child(`
    const { Command } = await import(${JSON.stringify(PKG.href)});
    const quick = new Command((x) => x, null, { timeoutMs: 60000 });
    const later = new Command(() => new Promise((r) => setTimeout(() => r("later"), 20)), null, { timeoutMs: 50000 });
    console.log(await quick.execute("quick"), await later.execute(), quick.snapshot().concurrent);
  `);
  assert.equal(r.killed, false, "the child had to be killed: a cancelled timer kept it alive");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "quick later 0");
  assert.ok(r.elapsed < 25_000, `took ${r.elapsed} ms`);
});

test("a deadline beyond setTimeout's 2^31 - 1 ms neither fires early nor overflows the timer", async () => {
  // In a fresh process, so this deadline is the clock's earliest one.
  const script = `
    const { Command } = await import(${JSON.stringify(PKG.href)});
    const warnings = [];
    process.on("warning", (w) => warnings.push(w.name));
    const keep = setInterval(() => {}, 1000);
    const cmd = new Command(() => new Promise((r) => setTimeout(() => r("done"), 30)), null, {
      timeoutMs: Number.MAX_SAFE_INTEGER,
    });
    const value = await cmd.execute();
    await new Promise((r) => setTimeout(r, 20));
    clearInterval(keep);
    console.log(JSON.stringify({ value, warnings }));
  `;
  const { code, stdout } = await new Promise((resolve) => {
    execFile(process.execPath, ["--input-type=module", "-e", script], { timeout: 20_000 }, (err, stdout) =>
      resolve({ code: err ? err.code : 0, stdout }),
    );
  });
  assert.equal(code, 0);
  assert.deepEqual(JSON.parse(stdout), { value: "done", warnings: [] });
});
