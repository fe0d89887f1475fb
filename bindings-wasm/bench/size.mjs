// What the npm package weighs in a browser, gzipped (issue 10 item 10):
// the wasm, the JS glue the browser entry loads (every module, unminified,
// as one stream), and a minimal app (`new Command(fn).execute()`) bundled
// for production by esbuild --minify (the JS users ship) plus the wasm.
//   node bindings-wasm/bench/size.mjs [PACKAGE_DIR]   (default target/npm/hystrix)
// Needs esbuild (bindings-wasm/test/bundlers, installed by scripts/setup.sh).
import { mkdtemp, readFile, rm, writeFile, cp, mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";
import { brotliCompressSync, constants } from "node:zlib";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const pkg = path.resolve(process.argv[2] ?? path.join(root, "target/npm/hystrix"));
const esbuild = createRequire(path.join(root, "bindings-wasm/test/bundlers/package.json"))("esbuild");

/** Gzipped size of `bytes` by `gzip -9`, as scripts/build-npm.sh counts. */
const gz = (bytes) => execFileSync("gzip", ["-9", "-c"], { input: bytes, maxBuffer: 1 << 26 }).length;

const wasm = await readFile(path.join(pkg, "web/hystrix_wasm_bg.wasm"));
// Every module index.web.mjs loads (schema.mjs: since the schema left the wasm).
const glueFiles = ["index.web.mjs", "api.mjs", "call.mjs", "clocks.mjs", "command.mjs", "context.mjs", "errors.mjs",
  "options.mjs", "registry.mjs", "schema.mjs", "snapshot.mjs", "timers.mjs", "wasm-slot.mjs", "headroom.mjs",
  "web/hystrix_wasm.js"];
const glue = Buffer.concat(await Promise.all(glueFiles.map((f) => readFile(path.join(pkg, f)).catch(() => Buffer.alloc(0)))));

// The minimal app, bundled as a user's production build would be.
const work = await mkdtemp(path.join(tmpdir(), "hystrix-size-"));
try {
  await mkdir(path.join(work, "node_modules"), { recursive: true });
  await cp(pkg, path.join(work, "node_modules/hystrix-resilience"), { recursive: true });
  await writeFile(path.join(work, "app.mjs"),
    'import { Command } from "hystrix-resilience";\nconsole.log(await new Command(async () => 1).execute());\n');
  const result = await esbuild.build({
    absWorkingDir: work, entryPoints: ["app.mjs"], bundle: true, minify: true, format: "esm",
    platform: "browser", write: false, logLevel: "error", outdir: path.join(work, "out"),
  });
  const js = Buffer.concat(result.outputFiles.filter((f) => f.path.endsWith(".js")).map((f) => Buffer.from(f.contents)));
  const row = (k, v) => console.log(`${k.padEnd(44)} ${String(v).padStart(8)}`);
  row("wasm bytes", wasm.length);
  row("wasm gz", gz(wasm));
  row("JS glue gz (browser entry, unminified)", gz(glue));
  row("wasm + JS glue gz", gz(wasm) + gz(glue));
  row("minimal app: esbuild --minify JS bytes", js.length);
  row("minimal app: JS gz", gz(js));
  row("minimal app: JS gz + wasm gz", gz(js) + gz(wasm));
  // What a server that serves brotli (quality 11) sends instead.
  const br = (bytes) => brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  row("minimal app: JS br + wasm br", br(js) + br(wasm));
} finally {
  await rm(work, { recursive: true, force: true });
}
