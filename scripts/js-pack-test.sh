#!/usr/bin/env bash
# `npm pack` of the package directory, installed into a scratch project that
# imports it by name and runs a command: what a user of the tarball does.
# The tarball is linted first (scripts/js-package-lint.sh: publint, attw).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
pkg="$root/target/npm/hystrix"
scratch="$root/target/npm/scratch"
rm -rf "$scratch" "$root"/target/npm/hystrix-resilience-*.tgz
# Exactly these files are published: no more (stray build output), no less
# (the README and LICENSE, each entry's wasm and glue).
expected='LICENSE
README.md
api.mjs
bundler/hystrix_wasm.d.ts
bundler/hystrix_wasm.js
bundler/hystrix_wasm_bg.js
bundler/hystrix_wasm_bg.wasm
bundler/hystrix_wasm_bg.wasm.d.ts
call.mjs
clocks.mjs
command.mjs
context.mjs
dashboard-view.mjs
dashboard.d.ts
dashboard.mjs
errors.mjs
headroom.mjs
index.bundler.mjs
index.d.ts
index.node.mjs
index.web.mjs
init.d.ts
init.mjs
node/wasm.mjs
observe-otel.mjs
observe-prom.mjs
observe-unsupported.mjs
observe.d.ts
observe.mjs
options.mjs
package.json
registry.mjs
render.mjs
snapshot.mjs
timers.mjs
wasm-slot.mjs
web/hystrix_wasm.d.ts
web/hystrix_wasm.js
web/hystrix_wasm_bg.wasm
web/hystrix_wasm_bg.wasm.d.ts'
packed="$(cd "$pkg" && npm pack --dry-run --json 2>/dev/null | node -e '
  let s = "";
  process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s)[0].files.map((f) => f.path).sort().join("\n")));
')"
if [ "$packed" != "$expected" ]; then
  echo "js-pack-test: npm pack would publish a different file list:" >&2
  diff <(echo "$expected") <(echo "$packed") >&2 || true
  exit 1
fi
grep -q "Apache License" "$pkg/LICENSE"
(cd "$pkg" && npm pack --silent --pack-destination "$root/target/npm" >/dev/null)
tarball="$(ls "$root"/target/npm/hystrix-resilience-*.tgz)"
# publint and @arethetypeswrong/cli on the tarball itself.
"$root/scripts/js-package-lint.sh" "$tarball"
mkdir -p "$scratch"
cd "$scratch"
printf '{"name":"scratch","private":true,"type":"module"}\n' > package.json
npm install --silent --no-audit --no-fund "$tarball"
cat > check.mjs <<'JS'
import { Command, CircuitOpenError, VirtualClock } from "hystrix-resilience";
const cmd = new Command(async ({ signal }, x) => x * 2, (err) => -1, { timeoutMs: 50, withContext: true });
if ((await cmd.execute(21)) !== 42) throw new Error("run value");
const open = new Command(async () => 1, null, { forceOpen: true });
await open.execute().then(() => { throw new Error("should short-circuit"); }, (e) => { if (!(e instanceof CircuitOpenError)) throw e; });
const clock = new VirtualClock();
const slow = new Command((ctx) => clock.sleep(100, ctx.signal), () => "fallback", { clock, timeoutMs: 10, withContext: true });
const p = slow.execute();
await clock.advance(10);
if ((await p) !== "fallback") throw new Error("timeout fallback");
const { metricsText } = await import("hystrix-resilience/observe");
await new Command(async () => 1, null, { name: "packed" }).execute();
if (!/^hystrix_execution_total\{name="packed",group="packed",event="success"\} [1-9]/m.test(metricsText())) throw new Error("hystrix-resilience/observe metrics");
const { mountDashboard } = await import("hystrix-resilience/dashboard");
try { mountDashboard(null); throw new Error("mountDashboard took null"); } catch (e) { if (!(e instanceof TypeError)) throw e; }
console.log("js-pack-test: the packed tarball installs and works:", JSON.stringify(cmd.snapshot().rolling.SUCCESS), "success");
JS
node check.mjs
# require() (Node ^20.19 / >= 22.12 load the ES module synchronously; package.json says so in engines).
node -e '
  const { Command } = require("hystrix-resilience");
  new Command((x) => x * 2).execute(21).then((v) => {
    if (v !== 42) throw new Error("require: run value " + v);
    console.log("js-pack-test: require(\"hystrix-resilience\") works");
  });
'
