// What the package makes every page load (issue #10 item 10): the command
// module carries none of the renderers, which live in the observer module
// that only the observe and dashboard entries load; and the command
// module's gzipped size stays under a ceiling (BENCHMARKS.md, "Session 9:
// package size", records each build's figures).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const PKG = new URL("../../target/npm/hystrix/", import.meta.url);
/** Gzipped bytes (level 9) the command module may take: 78.6 KB before the observer module split off, 57.4 KB after session 9 (a margin for toolchain drift). */
const CEILING = 61_000;

/** The export names of the wasm module at `file` (relative to the package). */
async function exportsOf(file) {
  const module = new WebAssembly.Module(await readFile(new URL(file, PKG)));
  return WebAssembly.Module.exports(module).map((e) => e.name);
}

test("the command module has no renderer; the observer module has them and no command", async () => {
  const commands = await exportsOf("web/hystrix_wasm_bg.wasm");
  const observer = await exportsOf("observer/hystrix_wasm_observer_bg.wasm");
  const renderers = ["wasmobservation_new", "wasmobservation_streamFrames", "wasmobservation_prometheus", "wasmobservation_families", "dashboardHtml", "observeConstants"];
  for (const name of renderers) {
    assert.ok(!commands.includes(name), `the command module exports ${name}`);
    assert.ok(observer.includes(name), `the observer module lacks ${name}`);
  }
  assert.ok(commands.includes("wasmcommand_observed") && commands.includes("wasmcommand_begin"));
  assert.ok(!observer.some((name) => name.startsWith("wasmcommand_")), "the observer module makes no command");
});

test(`the command module is at most ${CEILING} bytes gzipped`, async () => {
  const size = gzipSync(await readFile(new URL("web/hystrix_wasm_bg.wasm", PKG)), { level: 9 }).length;
  assert.ok(size <= CEILING, `${size} B gzipped`);
});

test("importing the package loads no observer module; the observe entry loads it", async () => {
  const script = `
    const slot = await import(${JSON.stringify(new URL("wasm-slot.mjs", PKG).href)});
    await import(${JSON.stringify(new URL("index.node.mjs", PKG).href)});
    const before = [slot.slot.WasmCommand !== null, slot.slot.WasmObservation !== null];
    await import(${JSON.stringify(new URL("observe.mjs", PKG).href)});
    console.log(JSON.stringify([before, slot.slot.WasmObservation !== null]));
  `;
  const stdout = await new Promise((resolve, reject) =>
    execFile(process.execPath, ["--input-type=module", "-e", script], { cwd: fileURLToPath(PKG) }, (err, out, stderr) =>
      err ? reject(new Error(stderr)) : resolve(out),
    ),
  );
  assert.deepEqual(JSON.parse(stdout), [[true, false], true]);
});
