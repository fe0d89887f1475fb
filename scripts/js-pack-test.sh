#!/usr/bin/env bash
# `npm pack` of the package directory, installed into a scratch project that
# imports it by name and runs a command: what a user of the tarball does.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
pkg="$root/target/npm/hystrix"
scratch="$root/target/npm/scratch"
rm -rf "$scratch" "$root"/target/npm/hystrix-*.tgz
(cd "$pkg" && npm pack --silent --pack-destination "$root/target/npm" >/dev/null)
tarball="$(ls "$root"/target/npm/hystrix-*.tgz)"
mkdir -p "$scratch"
cd "$scratch"
printf '{"name":"scratch","private":true,"type":"module"}\n' > package.json
npm install --silent --no-audit --no-fund "$tarball"
cat > check.mjs <<'JS'
import { Command, CircuitOpenError, VirtualClock } from "hystrix";
const cmd = new Command(async (x, { signal }) => x * 2, (err) => -1, { timeoutMs: 50 });
if ((await cmd.execute(21)) !== 42) throw new Error("run value");
const open = new Command(async () => 1, null, { forceOpen: true });
await open.execute().then(() => { throw new Error("should short-circuit"); }, (e) => { if (!(e instanceof CircuitOpenError)) throw e; });
const clock = new VirtualClock();
const slow = new Command((ctx) => clock.sleep(100, ctx.signal), () => "fallback", { clock, timeoutMs: 10 });
const p = slow.execute();
await clock.advance(10);
if ((await p) !== "fallback") throw new Error("timeout fallback");
console.log("js-pack-test: the packed tarball installs and works:", JSON.stringify(cmd.snapshot().rolling.SUCCESS), "success");
JS
node check.mjs
