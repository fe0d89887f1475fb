// A flaky HTTP backend and a client that calls it through a hystrix Command.
//
//   node examples/node/flaky.mjs        (after scripts/build-npm.sh)
//
// The server (node:http, 127.0.0.1, random port) is healthy for its first
// few requests, then has an outage of OUTAGE_HITS requests during which it
// fails some with HTTP 500 and hangs others (never answers). The client calls
// it with `fetch(url, { signal })` every TICK_MS through a Command with a
// 200 ms timeout and a fallback. The timeline shows: successes, failures, a
// timeout that aborts the fetch, the circuit tripping, short-circuits served
// by the fallback and recovery once the sleep window is over and the backend
// is healthy again. Exit code 0 only if a trip and a recovery were observed.
// The outage is counted in requests, not milliseconds, and the client calls
// until it has seen the recovery: the story is the same on a slow or loaded
// machine (where a fixed schedule could miss the outage or stop too early).
import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

const pkg = new URL("../../target/npm/hystrix/index.node.mjs", import.meta.url);
const { Command } = await import(pkg.href).catch((e) => {
  console.error(`cannot load ${pkg.pathname}: run scripts/build-npm.sh first\n${e.message}`);
  process.exit(1);
});

const TICK_MS = 60; // one call every TICK_MS
const HEALTHY_HITS = 4; // the server answers its first requests fine
const OUTAGE_HITS = 4; // then misbehaves for this many requests
const OUTAGE_PATTERN = ["fail", "hang", "fail", "fail"]; // cycled during the outage
const SLEEP_WINDOW_MS = 1000;
const GIVE_UP_MS = 60_000; // hard stop: only a circuit that never trips or never recovers gets here

const t0 = performance.now();
const ms = () => String(Math.round(performance.now() - t0)).padStart(5) + " ms";
const log = (who, msg) => console.log(`${ms()}  ${who.padEnd(7)} ${msg}`);

// ---------------------------------------------------------------- server --
let hits = 0;
const hanging = new Set();
const server = http.createServer((req, res) => {
  hits += 1;
  const n = hits;
  let mode = "ok";
  if (n > HEALTHY_HITS && n <= HEALTHY_HITS + OUTAGE_HITS) {
    mode = OUTAGE_PATTERN[(n - HEALTHY_HITS - 1) % OUTAGE_PATTERN.length];
  }
  if (mode === "fail") {
    log("server", `#${n} -> 500`);
    res.writeHead(500, { "content-type": "text/plain" }).end("internal error\n");
  } else if (mode === "hang") {
    log("server", `#${n} -> (hangs)`);
    hanging.add(res);
    res.on("close", () => {
      hanging.delete(res);
      if (!res.writableEnded) log("server", `#${n} client went away (fetch aborted)`);
    });
  } else {
    log("server", `#${n} -> 200`);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ n, price: 42 }));
  }
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${server.address().port}/price`;
log("server", `listening on ${url}`);

// ---------------------------------------------------------------- client --
const getPrice = new Command(
  async ({ signal }) => {
    let res;
    try {
      res = await fetch(url, { signal });
    } catch (e) {
      if (signal.aborted) log("client", `fetch aborted (${signal.reason?.name ?? "aborted"})`);
      throw e;
    }
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return (await res.json()).price;
  },
  // The fallback: a stale, cached price.
  (error) => ({ price: 40, stale: true, why: error.kind ?? error.message }),
  {
    // The run receives its attempt's context ({ attempt, signal }) first,
    // then execute()'s own arguments (none here).
    withContext: true,
    timeoutMs: 200,
    requestVolumeThreshold: 4,
    errorThresholdPercentage: 50,
    sleepWindowMs: SLEEP_WINDOW_MS,
    healthSnapshotIntervalMs: 0,
  },
);

let tripped = false;
let recovered = false;
getPrice.on("stateChange", (from, to) => {
  log("circuit", `*** ${from} -> ${to}${to === "open" ? " (tripped)" : ""}`);
  if (to === "open") tripped = true;
  if (tripped && from === "half_open" && to === "closed") recovered = true;
});

let okAfterRecovery = 0;
for (let call = 1; performance.now() - t0 < GIVE_UP_MS && okAfterRecovery < 3; call++) {
  const started = performance.now();
  const value = await getPrice.execute();
  const took = Math.round(performance.now() - started);
  const { state, health } = getPrice.snapshot();
  const what =
    typeof value === "object"
      ? `fallback price ${value.price} (stale; cause: ${value.why})`
      : `price ${value}`;
  log("client", `call ${String(call).padStart(2)}: ${what} in ${took} ms  [${state}, errors ${health.errors}/${health.total}]`);
  if (recovered && typeof value !== "object") okAfterRecovery += 1;
  await sleep(TICK_MS);
}

const { rolling } = getPrice.snapshot();
const counts = Object.entries(rolling)
  .filter(([, v]) => v > 0)
  .map(([k, v]) => `${k}=${v}`)
  .join(" ");
log("client", `rolling counts: ${counts}`);

for (const res of hanging) res.end();
server.closeAllConnections();
await new Promise((resolve) => server.close(resolve));

console.log(`\ntripped: ${tripped}, recovered: ${recovered}`);
process.exitCode = tripped && recovered ? 0 : 1;
