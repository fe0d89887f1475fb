// Wasm memory per command: what a command holds, memory reused after
// dispose() (the wasm memory stops growing), and the error once the
// memory is exhausted. HYSTRIX_DISPOSE_CYCLES sets the create/dispose
// cycles (scripts/js-dispose-soak.sh runs 10^6).
import { test } from "node:test";
import assert from "node:assert/strict";

const pkg = new URL("../../target/npm/hystrix/", import.meta.url);
const h = await import(new URL("index.node.mjs", pkg).href);
// The loaded wasm class (internal): live command count, heap bytes, memory.
const { slot } = await import(new URL("wasm-slot.mjs", pkg).href);
const { Command, HystrixError } = h;
const W = slot.WasmCommand;
const memory = W.wasmMemory();
const CYCLES = Number(process.env.HYSTRIX_DISPOSE_CYCLES ?? 20000);
// The module's one-time allocations (lazy statics) happen here, not in a test.
new Command(() => 0).dispose();

test("a command at default settings holds at most 4 KiB of wasm memory", () => {
  const n = 2000;
  const heap = W.heapBytes();
  const cmds = [];
  for (let i = 0; i < n; i++) cmds.push(new Command(() => i));
  const perCommand = (W.heapBytes() - heap) / n;
  assert.ok(perCommand <= 4096, `${perCommand} bytes per command`);
  for (const c of cmds) c.dispose();
  assert.equal(W.heapBytes(), heap);
});

test(`${CYCLES} create/dispose cycles: the wasm memory stops growing`, async () => {
  const cycle = async (i) => {
    const cmd = new Command((x) => x + i, null, { name: i % 2 ? `cycle-${i % 7}` : undefined });
    if (i % 3 === 0) assert.equal(await cmd.execute(1), 1 + i);
    cmd.dispose();
  };
  const warm = Math.min(1000, CYCLES / 10);
  for (let i = 0; i < warm; i++) await cycle(i);
  const bytes = memory.buffer.byteLength;
  const heap = W.heapBytes();
  const live = W.liveCommands();
  for (let i = warm; i < CYCLES; i++) await cycle(i);
  assert.equal(memory.buffer.byteLength, bytes, "the wasm memory grew");
  assert.equal(W.heapBytes(), heap);
  assert.equal(W.liveCommands(), live);
});

// Last: it leaves the memory at its maximum (this file's process only).
test("an exhausted wasm memory gives an error naming the live commands, not a trap", async () => {
  // Take every page the engine allows, so only what the allocator holds is left.
  for (let pages = 65536; pages >= 1; pages >>= 1) {
    for (;;) {
      try {
        memory.grow(pages);
      } catch {
        break;
      }
    }
  }
  const cmds = [];
  let error;
  try {
    for (let i = 0; i < 1e6; i++) cmds.push(new Command(() => i));
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof HystrixError, `got ${error}`);
  assert.match(error.message, /wasm memory is exhausted \(\d+ bytes, \d+ commands live\)/);
  assert.match(error.message, new RegExp(`${W.liveCommands()} commands live`));
  assert.match(error.message, /dispose\(\)/);
  // Disposing gives the memory back for new commands.
  for (const c of cmds.splice(0, 10)) c.dispose();
  const again = new Command(() => "again");
  assert.equal(await again.execute(), "again");
});
