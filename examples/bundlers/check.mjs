// What every bundled app checks: the package works after a production build
// (commands construct, run, time out, fall back, short-circuit; the real
// clock fires). Returns a plain object the tests compare. The entry files
// import the package by name, with named imports as an app would, and pass
// what they imported.

export async function check({ Command, CircuitOpenError, TimeoutError, VirtualClock }) {
  const clock = new VirtualClock();
  const cmd = new Command(
    ({ signal }, ms) => clock.sleep(ms, signal).then(() => `ok:${ms}`),
    (error, ms) => `fallback:${error instanceof TimeoutError ? "timeout" : error.kind}:${ms}`,
    { clock, timeoutMs: 50, withContext: true },
  );
  const fast = cmd.execute(10);
  await clock.advance(10);
  const slow = cmd.execute(100);
  await clock.advance(50);
  const open = new Command(() => "run", null, { forceOpen: true });
  const refused = await open.execute().then(
    () => "ran",
    (e) => (e instanceof CircuitOpenError ? e.kind : String(e)),
  );
  // The real clock: a run that never settles times out after 20 ms.
  const real = new Command(() => new Promise(() => {}), (e) => e.kind, { timeoutMs: 20 });
  return { fast: await fast, slow: await slow, refused, real: await real.execute(), state: cmd.snapshot().state };
}

/** What `check()` resolves to when the package works. */
export const EXPECTED = {
  fast: "ok:10",
  slow: "fallback:timeout:100",
  refused: "short_circuited",
  real: "timeout",
  state: "closed",
};
