// Async context per call. A clock fires every call's timers from one place
// (the real clock: one setTimeout for all of them), so a timeout, the
// fallback it leads to, a retry after its backoff or a hedge would run in
// the async context (Node's AsyncLocalStorage) of whichever call armed that
// setTimeout. A gate brings the work back: made when a timer is armed —
// always from inside the call's own context — it is a promise whose one
// reaction is registered there, and a promise reaction runs in the context
// it was registered in, whatever mechanism the runtime uses
// (async_hooks, AsyncContextFrame, an APM's hooks). Opening the gate when
// the timer fires runs the call's work in a microtask, in the call's
// context. No node:async_hooks import: it is on wherever Node's APIs are
// (Node, Deno, Bun; through any entry point, `hystrix/init` and bundles
// included), off in browsers, which have no async context to keep.
//
// Made only where the timer's firing can run user code: always for the
// timers of calls with more than one attempt or timer (the core's general
// actions), and for the usual single timeout only if the command has a
// fallback or `withContext` runs, or its circuit event/stateChange
// listeners, retry/hedge/rate-limit options or any clock but the default
// real one (registry.mjs `refreshGates`, call.mjs `startCall`). Otherwise the
// timeout only rejects the caller's promise, whose reactions run in the
// context they were registered in. A listener registered while a call is
// in flight may hear that call's timeout in the context of whatever armed
// the clock's timer: calls started after it are gated.
//
// A gate never opened is not wasted where it can serve again: a call hands
// the gate of a timer it cleared unfired to the next timer it arms (call.mjs
// `CallState.gate`), so a retried call with a timeout per attempt makes one
// gate per attempt, not two.
//
// Cost: one promise and one reaction per gate made: ~50 ns of CPU per
// timed call in Node 20 with no AsyncLocalStorage in use, against ~180 ns
// for an AsyncResource per call and ~20 µs for AsyncResource.bind. Node 20
// offers no public way to tell whether any async context is tracked at all
// (process.binding prints a deprecation warning), so where a gate may be
// needed (above) it is made, tracked or not.

/** Whether calls bring their timer work back into their caller's async context: where Node's APIs are. */
export const asyncContext = {
  follow: typeof (/** @type {{ process?: { versions?: { node?: unknown } } }} */ (globalThis)).process?.versions?.node === "string",
};

const NativePromise = Promise;
const promiseThen = Promise.prototype.then;

/** Work a gate runs once opened. @typedef {{ run(): void }} Job */

/**
 * Runs `job`; what it throws is reported as uncaught.
 * @param {Job} job
 */
function runJob(job) {
  try {
    job.run();
  } catch (e) {
    // Reported like a throwing timer callback (an uncaught exception), not as a rejection nobody handles.
    queueMicrotask(() => {
      throw e;
    });
  }
}

/**
 * Captures the current async context: returns `open(job)`, which may be
 * called once from any context and then runs `job.run()` in a microtask,
 * in the context that was current when the gate was made. A gate never
 * opened holds nothing but itself (garbage once dropped).
 * @returns {(job: Job) => void}
 */
export function gate() {
  // A closure per gate measured faster than one shared executor writing
  // module variables (~55 against ~100 ns on the closed path).
  /** @type {((job: Job) => void) | undefined} */
  let open;
  promiseThen.call(
    new NativePromise((/** @type {(job: Job) => void} */ resolve) => {
      open = resolve;
    }),
    runJob,
    ignore,
  );
  // The executor runs synchronously: `open` is set, unless the JS stack
  // ran out right there (the promise then rejects, and `ignore` keeps that
  // from surfacing as an unhandled rejection); the call's glue gives the
  // call up (call.mjs, `lost`).
  if (open === undefined) throw new RangeError("Maximum call stack size exceeded (hystrix: no stack left to capture the call's async context)");
  return open;
}

/** The rejection of a gate whose executor found no stack (see `gate`): nothing to do. */
function ignore() {}
