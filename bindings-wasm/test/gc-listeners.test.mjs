// Listeners must not pin their commands (issue 11 item 3): a command whose
// listener refers to the command itself, dropped without dispose(), is
// collected by the garbage collector and its wasm memory freed. Runs in a
// child process with --expose-gc (collection is forced there).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";

const pkg = new URL("../../target/npm/hystrix/index.node.mjs", import.meta.url).href;

const child = `
const { Command } = await import(${JSON.stringify(pkg)});
const { slot } = await import(${JSON.stringify(new URL("../../target/npm/hystrix/wasm-slot.mjs", import.meta.url).href)});
const W = slot.WasmCommand;
const settle = async () => {
  for (let i = 0; i < 6; i++) { gc(); await new Promise((r) => setTimeout(r, 20)); }
};
await settle();
const before = W.liveCommands();
const N = Number(process.argv[1]);
const kind = process.argv[2];
for (let i = 0; i < N; i++) {
  const cmd = new Command(() => i, null, { timeoutEnabled: false });
  if (kind === "event") cmd.on("event", () => cmd.snapshot());
  else if (kind === "state") cmd.on("stateChange", () => cmd.snapshot());
  else if (kind === "plain") cmd.on("event", () => {});
  await cmd.execute();
}
await settle();
console.log(JSON.stringify({ before, after: W.liveCommands() }));
`;

function run(kind, n = 2000) {
  const out = execFileSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", child, String(n), kind], {
    encoding: "utf8",
  });
  return JSON.parse(out.trim().split("\n").pop());
}

for (const kind of ["event", "state", "plain", "none"]) {
  test(`2,000 dropped commands with ${kind === "none" ? "no" : `a ${kind}`} listener are collected`, () => {
    const { before, after } = run(kind);
    // A few may still await their finaliser; none may be pinned.
    assert.ok(after - before < 100, `${after - before} of 2000 commands still live`);
  });
}
