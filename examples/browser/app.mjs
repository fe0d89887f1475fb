// The browser example: a live Command against /flaky, shown in the DOM and
// in the built-in dashboard mounted in the page (fed by the page's own
// command, no server), and `window.hystrixSelfCheck()`, a deterministic
// run on a VirtualClock.
//
// Serve it with `node bindings-wasm/test/browser/server.mjs` (which mounts the
// built package at /pkg/ and this directory at /example/) and open
// /example/index.html. `?live=0` turns the live loop off.
import { Command, VirtualClock, TimeoutError, CircuitOpenError } from "/pkg/index.web.mjs";
import { mountDashboard } from "/pkg/dashboard.mjs";

const $ = (id) => document.getElementById(id);
const t0 = performance.now();
const stamp = () => `${((performance.now() - t0) / 1000).toFixed(1).padStart(5)}s`;

// ------------------------------------------------------------ live demo --
const LIVE = new URLSearchParams(location.search).get("live") !== "0";
const INTERVAL_MS = 400;
const MAX_LOG = 40;
let mode = "auto";
let paused = false;

const live = new Command(
  async ({ signal }) => {
    const url = mode === "auto" ? "/flaky" : `/flaky?mode=${mode}`;
    const res = await fetch(url, { signal, cache: "no-store" });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return res.json();
  },
  (error) => ({ fallback: true, why: error?.kind ?? error?.message ?? String(error) }),
  {
    name: "live-flaky",
    timeoutMs: 300,
    requestVolumeThreshold: 3,
    errorThresholdPercentage: 50,
    sleepWindowMs: 2000,
    healthSnapshotIntervalMs: 0,
    rollingWindowMs: 10000,
    rollingWindowBuckets: 10,
    // The run gets its attempt's context ({ attempt, signal }) first.
    withContext: true,
  },
);

function log(text, cls = "") {
  const li = document.createElement("li");
  li.textContent = `${stamp()}  ${text}`;
  if (cls) li.className = cls;
  const ul = $("log");
  ul.prepend(li);
  while (ul.children.length > MAX_LOG) ul.lastElementChild.remove();
}

const ORDER = [
  "SUCCESS",
  "FAILURE",
  "TIMEOUT",
  "SHORT_CIRCUITED",
  "SEMAPHORE_REJECTED",
  "BAD_REQUEST",
  "FALLBACK_SUCCESS",
  "FALLBACK_FAILURE",
  "FALLBACK_REJECTION",
  "FALLBACK_MISSING",
  "FALLBACK_DISABLED",
  "CANCELLED",
  "RATE_LIMITED",
  "RETRY",
  "HEDGE",
  "RETRY_BUDGET_EXHAUSTED",
];

function render() {
  const snap = live.snapshot();
  const st = $("state");
  st.textContent = snap.state;
  st.dataset.state = snap.state;
  const h = snap.health;
  $("health").textContent = `health: ${h.errors}/${h.total} errors (${h.errorPercentage}%)`;
  const rows = ORDER.map((k) => {
    const v = snap.rolling[k] ?? 0;
    return `<tr class="${v ? "" : "zero"}" data-event="${k}"><td>${k}</td><td class="n">${v}</td></tr>`;
  });
  $("counts").innerHTML = rows.join("");
}

// The dashboard of `hystrix.stream`, drawn here from the frames the core
// renders for this page's command every 500 ms.
window.hystrixDashboard = mountDashboard($("dashboard"), { commands: [live] });

live.on("stateChange", (from, to) => {
  log(`circuit ${from} -> ${to}`, "st");
  render();
});

async function callOnce() {
  const started = performance.now();
  try {
    const v = await live.execute();
    const took = Math.round(performance.now() - started);
    if (v.fallback) log(`fallback (${v.why}) in ${took} ms`, "fb");
    else log(`ok #${v.n} in ${took} ms`, "ok");
  } catch (e) {
    log(`error ${e?.name}: ${e?.message}`, "err");
  }
  render();
}

async function loop() {
  for (;;) {
    if (!paused) await callOnce();
    await new Promise((r) => setTimeout(r, INTERVAL_MS));
  }
}

for (const b of document.querySelectorAll("#modes button")) {
  b.addEventListener("click", () => {
    mode = b.dataset.mode;
    for (const o of document.querySelectorAll("#modes button")) o.setAttribute("aria-pressed", String(o === b));
    log(`backend mode: ${mode}`);
  });
}
$("pause").addEventListener("click", () => {
  paused = !paused;
  $("pause").textContent = paused ? "resume" : "pause";
});

render();
if (LIVE) loop();
else log("live loop off (?live=0)");

// ----------------------------------------------------------- self-check --
/**
 * Deterministic: a VirtualClock command that times out (the run waits on its
 * signal), trips, short-circuits to the fallback and recovers after the sleep
 * window. Resolves with what it observed; `ok` is true when all of it matched.
 */
async function hystrixSelfCheck() {
  const clock = new VirtualClock();
  const SLEEP_WINDOW = 1000;
  const options = {
    clock,
    withContext: true,
    timeoutMs: 100,
    requestVolumeThreshold: 2,
    errorThresholdPercentage: 50,
    sleepWindowMs: SLEEP_WINDOW,
    healthSnapshotIntervalMs: 0,
  };
  let behaviour = "hang";
  let runs = 0;
  let abortReason = null;
  const run = ({ signal }, label) => {
    runs += 1;
    if (behaviour === "hang") {
      return new Promise((_, reject) => {
        signal.addEventListener(
          "abort",
          () => {
            abortReason = signal.reason?.name ?? String(signal.reason);
            reject(signal.reason);
          },
          { once: true },
        );
      });
    }
    if (behaviour === "fail") throw new Error(`backend failed (${label})`);
    return `ok:${label}`;
  };
  const describe = (e) => ({ name: e?.name, kind: e?.kind, code: e?.code });
  const fallback = (error, label) => ({ fallback: true, label, error: describe(error), isTimeout: error instanceof TimeoutError, isCircuitOpen: error instanceof CircuitOpenError });

  const cmd = new Command(run, fallback, options);
  const transitions = [];
  const events = [];
  cmd.on("stateChange", (from, to, at) => transitions.push({ from, to, at }));
  cmd.on("event", (e, at) => events.push({ event: e, at }));
  const state = () => cmd.snapshot().state;
  const out = { transitions, events };

  // 1. Time out: the run hangs until its signal aborts.
  const pending = cmd.execute("slow");
  await clock.advance(150);
  const t = await pending;
  out.timeout = { ...t.error, servedByFallback: t.fallback === true, isTimeoutError: t.isTimeout, signalAbortedWith: abortReason, state: state() };
  // The same without a fallback: the caller gets the TimeoutError itself.
  const bare = new Command(run, null, { clock, timeoutMs: 100, withContext: true });
  const bareCall = bare.execute("bare").then(
    () => ({ rejected: false }),
    (e) => ({ rejected: true, ...describe(e), isTimeoutError: e instanceof TimeoutError }),
  );
  await clock.advance(150);
  out.timeoutWithoutFallback = await bareCall;

  // 2. Trip: one more error reaches the volume threshold at 100% errors.
  behaviour = "fail";
  const f = await cmd.execute("broken");
  out.trip = { cause: f.error, servedByFallback: f.fallback === true, state: state() };

  // 3. Short-circuit: the run is not even called; the fallback answers.
  behaviour = "ok";
  const runsBefore = runs;
  const s = await cmd.execute("while-open");
  out.shortCircuit = { ...s.error, servedByFallback: s.fallback === true, isCircuitOpenError: s.isCircuitOpen, runCalled: runs !== runsBefore, state: state() };

  // 4. Recover: past the sleep window a probe is let through and succeeds.
  await clock.advance(SLEEP_WINDOW + 1);
  const r = await cmd.execute("probe");
  out.recovery = { value: r, state: state() };
  out.rolling = cmd.snapshot().rolling;
  out.virtualTimeMs = clock.now();

  out.ok =
    out.timeout.name === "TimeoutError" &&
    out.timeout.kind === "timeout" &&
    out.timeout.servedByFallback &&
    out.timeoutWithoutFallback.name === "TimeoutError" &&
    out.trip.state === "open" &&
    out.shortCircuit.kind === "short_circuited" &&
    out.shortCircuit.servedByFallback &&
    !out.shortCircuit.runCalled &&
    out.recovery.value === "ok:probe" &&
    out.recovery.state === "closed";

  $("selfcheck").textContent =
    `${out.ok ? "PASS" : "FAIL"}\n` +
    `timeout:       ${out.timeout.name} (${out.timeout.kind}), signal aborted with ${out.timeout.signalAbortedWith}, fallback: ${out.timeout.servedByFallback}\n` +
    `no fallback:   rejected with ${out.timeoutWithoutFallback.name}\n` +
    `trip:          state ${out.trip.state}\n` +
    `short-circuit: ${out.shortCircuit.name} (${out.shortCircuit.kind}), fallback: ${out.shortCircuit.servedByFallback}, run called: ${out.shortCircuit.runCalled}\n` +
    `recovery:      ${JSON.stringify(out.recovery.value)}, state ${out.recovery.state}\n` +
    `transitions:   ${transitions.map((x) => `${x.from}->${x.to}@${x.at}`).join(", ")}`;
  $("selfcheck").dataset.ok = String(out.ok);
  return out;
}

window.hystrixSelfCheck = hystrixSelfCheck;
$("run-selfcheck").addEventListener("click", () =>
  hystrixSelfCheck().catch((e) => {
    $("selfcheck").textContent = `self-check threw: ${e?.stack ?? e}`;
  }),
);
