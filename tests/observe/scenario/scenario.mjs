// The Node side of the cross-language observe check: the scenario of
// README.md through the npm package (its directory is argv[2]) on a
// VirtualClock, then metricsText(), "#--stream--" and streamFrames().
import path from "node:path";
import { pathToFileURL } from "node:url";

const pkg = pathToFileURL(path.resolve(process.argv[2] ?? "target/npm/hystrix") + "/");
const { Command, VirtualClock, configure } = await import(new URL("index.node.mjs", pkg).href);
const { metricsText, streamFrames } = await import(new URL("observe.mjs", pkg).href);

const clock = new VirtualClock();
configure("beta", { requestVolumeThreshold: 2, healthSnapshotIntervalMs: 0 });
/** A run that takes `ms` on the clock, then succeeds or fails. */
const takes = (ms, ok) => async () => {
  await clock.advance(ms);
  if (!ok) throw new Error("down");
  return 1;
};
const run = (name, ms, ok, fallback = null) =>
  new Command(takes(ms, ok), fallback, { name, clock }).execute().catch(() => undefined);

await run("alpha", 5, true);
await run("alpha", 40, true);
await run("alpha", 2, false, () => 0);
await clock.advance(100);
await run("beta", 1, false);
await run("beta", 1, false);
await run("beta", 1, true, () => 0);
await clock.advance(1000);
process.stdout.write(`${metricsText()}#--stream--\n${streamFrames({ wallClockMs: 1_700_000_000_000 })}`);
