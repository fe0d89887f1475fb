// The call interpreter: drives one core `Call` (wasm `begin`/`input`) by
// carrying out the actions it returns, in order — arm or clear a timer on
// the command's clock, invoke attempt k's run (a `withContext` command's
// with its context `{ attempt, signal }` first), abort attempt k, invoke
// the fallback, settle the caller. No rule of a call lives here: retries, hedges, deadlines,
// rate-limit waits and cancellation are all the core's (semantics §9, §18).
import {
  CancelledError,
  CircuitOpenError,
  FallbackFailedError,
  FallbackRejectedError,
  RateLimitedError,
  RejectedError,
  TimeoutError,
  located,
} from "./errors.mjs";
import { CAMEL } from "./options.mjs";
import { raw, repairStack } from "./wasm-slot.mjs";
import { probe } from "./headroom.mjs";
import { asyncContext, gate } from "./context.mjs";

/** @typedef {import("./registry.mjs").Circuit} Circuit */
/** @typedef {import("./registry.mjs").CircuitClock} CircuitClock */
/** @typedef {import("./command.mjs").Command} Command */
/** @typedef {import("./context.mjs").Job} Job */
/** An attempt's record: attempt 1's is the call itself. @typedef {Attempt | CallState} AttemptRecord */
/** A gate back into a call's async context (context.mjs), or null. @typedef {((job: Job) => void) | null} Gate */

// Action codes (bindings-wasm/src/call.rs), four numbers each: code, x, y, z.
const SET_TIMER = 0;
const CLEAR_TIMER = 1;
const INVOKE = 2;
const ABORT = 3;
const FALLBACK = 4;
const SETTLE_RUN = 5;
const SETTLE_FALLBACK = 6;
const SETTLE_ERROR = 7;
// Input kinds.
const ENDED = 0; // + 0 success, 1 failure, 2 bad request
const STOPPED = 3;
const FALLBACK_OK = 4;
const FALLBACK_FAILED = 5;
const TIMER = 6;
const CANCEL = 7;
const POLL = 8;
// Result of begin/input (a number below 2^53; `&` reads its low bits):
// count, first action's code, flags; begin's id in units of ID_UNIT.
const COUNT = 0xff;
const FIRST = 0x700;
const FINISHED = 1 << 11;
const MOVED = 1 << 12;
const MORE = 1 << 13;
const ID_UNIT = 16384;
/** `(r & FIRST) === ONLY(code)`: the first action is `code`. @type {(code: number) => number} */
const ONLY = (code) => code << 8;
const FIRST_INVOKE = ONLY(INVOKE);
const FIRST_FALLBACK = ONLY(FALLBACK);
const FIRST_SET_TIMER = ONLY(SET_TIMER);
const FIRST_CLEAR = ONLY(CLEAR_TIMER);
const FIRST_SETTLE_RUN = ONLY(SETTLE_RUN);
const FIRST_SETTLE_FALLBACK = ONLY(SETTLE_FALLBACK);
// Compact results (count 0; call.rs): the closed path's steps in the
// number itself, nothing in the buffer. From `begin`: set timer 1 at now +
// d and invoke attempt 1, the result being (d × COMPACT_IDS + id) ×
// ID_UNIT + the flags. From `input`: clear timer 1, settle with attempt
// 1's value.
const COMPACT_START = ONLY(7);
const COMPACT_END = ONLY(6);
const COMPACT_IDS = 65536;
// Error kind codes (errors.mjs).
const K_TIMEOUT = 2;
const K_SHORT_CIRCUITED = 3;
const K_REJECTED = 4;
const K_FALLBACK_REJECTED = 6;
const K_FALLBACK_FAILURE = 7;
const K_CANCELLED = 9;
const K_RATE_LIMITED = 10;

// The stack headroom check (headroom.mjs) is in front of every call into
// the wasm: `fill` (wasm-slot.mjs) puts it in front of every method but
// `input`, the closed path's second crossing, which is probed here before
// each use except two: `ended`'s and `firstEnded`'s. Those run either from a
// promise reaction (a fresh stack) or synchronously after a probed crossing
// of the same call (`begin` in `startCall`, or `input` here), with only glue
// frames live since (the run or fallback invoked meanwhile has returned): far
// within the headroom that probe found. One probe per call, not two. For
// the same reason the interpreter's other calls (the action buffer's place,
// an error's context) are `raw`: callers of `locate` from elsewhere probe.

/** The view of the wasm action buffer (remade when it moved or the memory grew). @type {Float64Array | null} */
let view = null;

/**
 * The action buffer, read after wasm result `r`.
 * @param {number} r
 * @returns {Float64Array}
 */
function actionView(r) {
  // The wasm side sets MOVED whenever the buffer moved or the memory grew
  // (a new ArrayBuffer) since the last result: every result is checked.
  // (Small, with the rare case out of line: it is inlined on the hot path,
  // where V8's budget for inlining is shared by every step of a call.)
  return (r & MOVED) !== 0 || view === null ? newView() : view;
}

/**
 * Whether the actions of wasm result `r` (in the buffer) are exactly
 * [clear timer `tid`, settle with attempt 1's value], the call then over:
 * the general call's form of a compact end.
 * @param {number} r
 * @param {number} tid
 * @returns {boolean}
 */
function clearsAndSettles(r, tid) {
  if ((r & (COUNT | FIRST | FINISHED | MORE)) !== (2 | FIRST_CLEAR | FINISHED)) return false;
  const v = actionView(r);
  return v[1] === tid && v[4] === SETTLE_RUN && v[5] === 1;
}

/** Remakes `view` over the action buffer's place now; returns it. */
function newView() {
  // The place first: asking for it may grow the memory (a new buffer).
  const at = raw.actionsPtr();
  view = new Float64Array(raw.wasmMemory().buffer, at);
  return view;
}

/**
 * How deep host callbacks (runs, fallbacks, classifiers, listeners) may
 * re-enter execute() from inside themselves. Unbounded, the stack would
 * overflow inside wasm, where nothing can be given back; a call refused
 * here holds nothing. Far below the ~400 listener levels Node's stack holds.
 */
export const MAX_DEPTH = 64;
/** Host callbacks of commands in progress on the stack (`guard.depth`). */
export const guard = { depth: 0 };

/** V8's knob of how many stack frames an error captures (other engines ignore it). @type {ErrorConstructor & { stackTraceLimit?: number }} */
const ErrorStack = Error;

/**
 * An error without a captured stack: refusals are frequent and their stack says nothing.
 * @template {Error} E
 * @param {new () => E} Cls
 * @returns {E}
 */
export function cheap(Cls) {
  const limit = ErrorStack.stackTraceLimit;
  ErrorStack.stackTraceLimit = 0;
  try {
    return new Cls();
  } finally {
    ErrorStack.stackTraceLimit = limit;
  }
}

/** The options an error's context can name, camelCase, by the wasm side's index. @type {string[] | null} */
let settingNames = null;

/**
 * `err` with where it came from: `circuit`'s name, and the option behind an
 * error of kind `code` with its value now, as the core chooses them (one
 * crossing into wasm, no string work; the message is built when read).
 * `elapsedMs` since the call started lets a timeout name `deadlineMs`.
 * @template {import("./index.js").HystrixError} E
 * @param {E} err
 * @param {Circuit} circuit
 * @param {number} code
 * @param {number} [elapsedMs]
 * @returns {E}
 */
export function locate(err, circuit, code, elapsedMs = 0) {
  settingNames ??= raw
    .contextSettings()
    .split(",")
    .map((k) => CAMEL[k] ?? k);
  const c = raw.context.call(circuit.wasm, code, elapsedMs);
  if (c < 0) {
    // A value too large to pack with the index (2^49 or more).
    return located(err, circuit.name, settingNames[-c - 1], raw.contextValue());
  }
  const i = c % 16;
  return located(err, circuit.name, settingNames[i], (c - i) / 16);
}

/**
 * `fn()`, a step of call `st` that settles it, as a promise: its value,
 * or its exception as a rejection. An exception that comes before the
 * call settled is the glue failing (see `lost`): the call is given up.
 * @param {CallState} st
 * @param {() => unknown} fn
 * @returns {Promise<unknown>}
 */
function settled(st, fn) {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    if (!st.settled) {
      lost[lost.length] = st;
      lost[lost.length] = e;
      try {
        salvageSoon();
      } catch {}
    }
    return Promise.reject(e);
  }
}

/**
 * Calls whose glue failed between admission and settlement, each followed
 * by what it failed with: an error escaped a step of the call (a host
 * callback's own failure is caught where it is called, so what reaches
 * here is the JS stack running out under a deep caller, or a bug). Such a
 * call is given up like one whose clock failed: what it holds goes back
 * to the core unrecorded (unless the core settled it already) and its
 * caller gets the error, exactly once. That is done by `salvage`, from a
 * microtask, on a fresh stack: where the step failed there may be no
 * stack left even for that, so the `catch` that finds the failure only
 * records the call here, with no function call that could fail too.
 * Pairs (the call, then its failure), written as two stores, no call.
 * @type {unknown[]}
 */
const lost = [];
/** Whether a microtask that runs `salvage` is queued. */
let salvaging = false;

/** A call admitted by the core whose `CallState` could not even be made. */
class Admitted {
  /**
   * @param {Circuit} circuit
   * @param {number} id
   * @param {number} now
   */
  constructor(circuit, id, now) {
    this.circuit = circuit;
    this.id = id;
    this.now = now;
  }
}

/** Queues `salvage` (once). Throws only if even that finds no stack: callers catch it, and the next call retries. */
function salvageSoon() {
  if (salvaging) return;
  queueMicrotask(salvageNow);
  salvaging = true;
}

/** `salvage` from a microtask, on a fresh stack. */
function salvageNow() {
  salvaging = false;
  salvage(true);
}

/**
 * Gives up every call in `lost` (see there). On a fresh stack (`fresh`) a
 * call whose giving up fails all the same (the core refused it: a bug, or
 * state an earlier overflow inside a wasm frame left broken) still has its
 * caller settled, with that failure, and is dropped; elsewhere (a deep
 * `startCall`) it waits for the microtask.
 * @param {boolean} fresh
 */
function salvage(fresh) {
  repairStack();
  while (lost.length !== 0) {
    const failure = lost.pop();
    const st = /** @type {CallState | Admitted} */ (lost.pop());
    try {
      if (st instanceof Admitted) st.circuit.wasm.release(st.id, st.now);
      else st.abandon(failure);
    } catch (e) {
      if (fresh) {
        if (!(st instanceof Admitted)) {
          st.finished = true;
          st.done(false, e);
        }
        continue;
      }
      // No call before it is recorded again (see `lost`).
      lost[lost.length] = st;
      lost[lost.length] = failure;
      salvageSoon();
      return;
    }
  }
}

// A spread call (`fn(...args, x)`) costs V8 tens of nanoseconds, a tenth of
// a closed-path call: up to three arguments are passed without one.

/**
 * `fn.call(self, ...args)`.
 * @param {unknown} self
 * @param {Function} fn
 * @param {unknown[]} args
 * @returns {unknown}
 */
function callWith(self, fn, args) {
  switch (args.length) {
    case 0:
      return fn.call(self);
    case 1:
      return fn.call(self, args[0]);
    case 2:
      return fn.call(self, args[0], args[1]);
    case 3:
      return fn.call(self, args[0], args[1], args[2]);
    default:
      return fn.apply(self, args);
  }
}

/**
 * Calls attempt `att`'s run: with exactly the caller's arguments, or, for
 * a command made `withContext: true`, with the attempt's context first.
 * @param {Command} cmd
 * @param {unknown[]} args
 * @param {AttemptRecord} att
 */
function callRun(cmd, args, att) {
  if (cmd._withContext) return callFallback(cmd, cmd._run, new RunContext(att), args);
  return callWith(cmd, cmd._run, args);
}

/**
 * `fn.call(self, first, ...args)`.
 * @param {unknown} self
 * @param {Function} fn
 * @param {unknown} first
 * @param {unknown[]} args
 * @returns {unknown}
 */
function callFallback(self, fn, first, args) {
  switch (args.length) {
    case 0:
      return fn.call(self, first);
    case 1:
      return fn.call(self, first, args[0]);
    case 2:
      return fn.call(self, first, args[0], args[1]);
    default:
      return fn.call(self, first, ...args);
  }
}

/** The intrinsic `then`: called on promises we hold, never a user's own. */
const promiseThen = Promise.prototype.then;

/**
 * What to wait for when a run or fallback returned `value`: `null` if it is
 * not a thenable; a plain native promise as it is; anything else (a foreign
 * thenable, a subclass, a promise with its own `then`) adopted by a fresh
 * native promise, so callbacks count once. `then` is read exactly once
 * (Promises/A+ 2.3.3.1). It may throw (a getter or proxy trap): callers
 * call it inside their `try`, so that is the run or fallback failing.
 * @param {any} value what a run or fallback returned
 * @returns {Promise<unknown> | null}
 */
function pendingOf(value) {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return null;
  const then = value.then;
  if (typeof then !== "function") return null;
  if (then === promiseThen && value instanceof Promise && value.constructor === Promise) return value;
  return new Promise((resolve, reject) => {
    then.call(value, resolve, reject);
  });
}

/** Attempt k > 1 of a call (attempt 1's record is the call itself, to save an object on the hot path). */
class Attempt {
  /** @param {number} n */
  constructor(n) {
    this.n = n;
    /** @type {AbortController | null} */
    this.ac = null;
    this.aborted = false;
    this.ok = false;
    /** @type {unknown} */
    this.value = undefined;
  }
}

/**
 * What a `withContext` run receives before its arguments: `{ attempt,
 * signal }`. `signal` is read through a getter so the AbortController is
 * created only if the run asks for it (or at an abort). It holds its attempt privately: whatever
 * the run does to this object (writes, `Object.freeze`) cannot reach the
 * call's own state.
 */
class RunContext {
  /** @type {AttemptRecord} */
  #att;

  /** @param {AttemptRecord} att */
  constructor(att) {
    this.#att = att;
  }

  /** Which attempt of the call this run is, from 1 (retries and hedges count). */
  get attempt() {
    return this.#att.n;
  }

  /** Aborted when this attempt times out, loses a hedge race, or the caller cancels (one per attempt). */
  get signal() {
    const att = this.#att;
    if (att.ac === null) att.ac = new AbortController();
    return att.ac.signal;
  }
}

/** A timer of a call beyond the one the call object itself carries. */
class CallTimer {
  /**
   * @param {CallState} call
   * @param {number} tid
   * @param {Gate} open
   */
  constructor(call, tid, open) {
    this.call = call;
    this.tid = tid;
    /** @type {{ cancel(): void } | null} */
    this.handle = null;
    // The gate back into the call's async context (context.mjs), or null.
    this._open = open;
    // Timer-queue links (see timers.mjs), declared here to keep one shape.
    /** @type {import("./timers.mjs").Timer["_bucket"]} */
    this._bucket = null;
    this._due = 0;
    /** @type {import("./timers.mjs").Timer | null} */
    this._prev = null;
    /** @type {import("./timers.mjs").Timer | null} */
    this._next = null;
  }

  /** Fed to the call (the clock fired it). */
  fire() {
    this.call.x?.timers?.delete(this.tid);
    this.call._fired(this.tid, this._open);
  }
}

/** Timer `tid` of `call` fired: fed to the call through a gate (in the call's async context). */
class TimerFired {
  /**
   * @param {CallState} call
   * @param {number} tid
   */
  constructor(call, tid) {
    this.call = call;
    this.tid = tid;
  }

  /** Feeds the timer to the call. */
  run() {
    this.call.input(TIMER, this.tid);
  }
}

/**
 * Arms `timer` (an object with `fire()`) at `due` on `clock`; throws what the clock throws.
 * @param {CircuitClock} clock
 * @param {number} due
 * @param {CallState | CallTimer} timer
 */
function armOn(clock, due, timer) {
  if (typeof clock.armTimer === "function") clock.armTimer(due, timer);
  else armHost(clock, due, timer);
}

/**
 * Arms `timer` at `due` on a host's `clock` (`arm(due, fn)`, see `armOn`).
 * @param {CircuitClock} clock
 * @param {number} due
 * @param {CallState | CallTimer} timer
 */
function armHost(clock, due, timer) {
  timer._due = due;
  const tid = timer instanceof CallTimer ? timer.tid : timer.timer;
  const call = timer instanceof CallTimer ? timer.call : timer;
  const open = timer._open;
  // A host clock's callback names its timer: one that fires after it was
  // cleared (a cancel that failed or did not hold) is dropped, as the core
  // would ignore it, without opening its gate (see `_hostFired`).
  timer.handle = clock.arm(due, () => call._hostFired(tid, open));
}

/**
 * Disarms `timer`, armed by `armOn` on `clock`; throws what the clock throws.
 * Whether its gate is free for another timer of the call: it was taken
 * out of one of our clocks' queues, or a host clock's cancel returned
 * (should that timer fire all the same, `_hostFired` drops it unopened).
 * @param {CircuitClock} clock
 * @param {CallState | CallTimer} timer
 * @returns {boolean}
 */
function disarmOn(clock, timer) {
  if (timer.handle !== null) {
    const h = timer.handle;
    timer.handle = null;
    h.cancel();
    return true;
  }
  return /** @type {Required<CircuitClock>} */ (clock).cancelTimer(timer) === true; // no handle: armed by armTimer
}

/** What few calls need: kept off the hot path's object. */
class Extras {
  constructor() {
    // The clock's first failure (see `_clockFailed`).
    /** @type {unknown} */
    this.clockError = undefined;
    // How the call settled when nobody waits on a promise of ours yet (the untimed path): 1 value, 2 error.
    this.outcome = 0;
    /** @type {unknown} */
    this.result = undefined;
    // Given up (a clock that cannot arm its timers).
    this.abandoned = false;
    // Inputs waiting for the reaction in progress (kind, arg pairs).
    /** @type {number[] | null} */
    this.inq = null;
    // Call timers beyond the one the call object carries, attempts beyond the first.
    /** @type {Map<number, CallTimer> | null} */
    this.timers = null;
    // Attempt n at index n - 2 (an array: a Map would cost a retried call more).
    /** @type {(Attempt | undefined)[] | null} */
    this.attempts = null;
    /** @type {import("./index.js").TimeoutError | null} */
    this.timeoutError = null;
    // The caller's signal and its abort listener.
    /** @type {AbortSignal | undefined} */
    this.signal = undefined;
    /** @type {(() => void) | null} */
    this.onCancel = null;
    // The fallback's value or error.
    /** @type {unknown} */
    this.fb = undefined;
    // Whether the clock failed the call (then `clockError` is set first).
    this.clockFailed = false;
    // The unopened gate of a timer cleared before it fired (see `CallState.gate`), or null.
    /** @type {Gate} */
    this.spare = null;
  }
}

/**
 * What a reaction of the untimed or open path returns for a call that goes
 * on (see `CallState.firstEnded`): a thenable. The engine adopts it as the
 * caller's promise's outcome in one microtask, calling its `then` with
 * that promise's own resolving functions, which the call then settles
 * directly. (A promise of ours there would cost the promise and its
 * resolvers, and the caller a second microtask after the call settled.)
 * Only the engine sees it (a reaction's return value goes nowhere else),
 * unless a program overrides `Promise[Symbol.species]`: hence one-shot.
 */
class Continued {
  /** @param {CallState} call */
  constructor(call) {
    /** @type {CallState | null} */
    this.call = call;
  }

  /**
   * Called once, by the engine: the call settles the caller's promise
   * through `resolve`/`reject`; one that settled meanwhile (`done`
   * recorded how, nobody waiting yet) is delivered now.
   * @param {(value: unknown) => void} resolve
   * @param {(error: unknown) => void} reject
   */
  then(resolve, reject) {
    // One-shot: only the first caller is answered. (Code that overrides
    // `Promise[Symbol.species]` can see this object; a second `then` must
    // not take the caller's promise's resolvers away.)
    const call = this.call;
    if (call === null) return;
    this.call = null;
    if (!call.settled) {
      call.resolve = resolve;
      call.reject = reject;
      return;
    }
    let value;
    try {
      value = call._result();
    } catch (e) {
      reject(e);
      return;
    }
    resolve(value);
  }
}

/** One call in flight: the core call's id, its timers and attempts, and the caller's promise. */
export class CallState {
  /**
   * @param {Command} command
   * @param {Circuit} circuit
   * @param {unknown[]} args
   * @param {number} now
   */
  constructor(command, circuit, args, now) {
    this.command = command;
    this.circuit = circuit;
    this.clock = circuit.clock;
    this.id = 0;
    this.args = args;
    // The last instant the clock gave for this call (see `now`), and its start.
    this.at = now;
    this.t0 = now;
    /** @type {((value: unknown) => void) | null} */
    this.resolve = null;
    /** @type {((error: unknown) => void) | null} */
    this.reject = null;
    this.settled = false;
    this.finished = false;
    this.busy = false;
    // The first input that came during the reaction in progress (kind -1: none); more wait in `x.inq`.
    this.pk = -1;
    this.pa = 0;
    // The call timer this object carries itself (-1: none), and its gate
    // back into the call's async context (context.mjs), or null.
    this.timer = -1;
    /** @type {Gate} */
    this._open = null;
    // Attempt 1 (this object is its record; its number is `n`).
    /** @type {AbortController | null} */
    this.ac = null;
    this.aborted = false;
    this.ok = false;
    /** @type {unknown} */
    this.value = undefined;
    // What few calls need (see `Extras`), made on first use.
    /** @type {Extras | null} */
    this.x = null;
    // Timer-queue links (see timers.mjs), declared here to keep one shape.
    /** @type {import("./timers.mjs").Timer["_bucket"]} */
    this._bucket = null;
    this._due = 0;
    /** @type {import("./timers.mjs").Timer | null} */
    this._prev = null;
    /** @type {import("./timers.mjs").Timer | null} */
    this._next = null;
    /** @type {{ cancel(): void } | null} */
    this.handle = null;
  }

  /** This record's attempt: the call's own record is attempt 1's. */
  get n() {
    return 1;
  }

  /** The call's rarely needed state. */
  get more() {
    if (this.x === null) this.x = new Extras();
    return this.x;
  }

  /**
   * Starts the call in the general way with the actions of `begin` (`r`): returns the caller's promise.
   * @param {number} r
   * @returns {Promise<unknown>}
   */
  start(r) {
    const promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.drive(r);
    return promise;
  }

  /** The clock's time, never going back; a clock that throws ends the call with its error (see `_clockFailed`). */
  now() {
    try {
      const t = this.clock.now();
      if (typeof t === "number" && t > this.at) this.at = t;
    } catch (e) {
      this._clockFailed(e);
    }
    return this.at;
  }

  /**
   * The clock failed the call: it ends with `error` (the first such failure).
   * @param {unknown} error
   */
  _clockFailed(error) {
    const x = this.more;
    if (x.clockFailed) return;
    // The error first: a call marked failed must have the error it failed with.
    x.clockError = error;
    x.clockFailed = true;
  }

  /**
   * An input from outside (a run's end, a timer, the caller): fed at once, or after the reaction in progress.
   * @param {number} kind
   * @param {number} arg
   */
  input(kind, arg) {
    if (this.finished) return;
    if (this.busy) {
      const x = this.x;
      if (this.pk === -1 && (x === null || x.inq === null || x.inq.length === 0)) {
        this.pk = kind;
        this.pa = arg;
        return;
      }
      const m = this.more;
      if (m.inq === null) m.inq = [];
      m.inq.push(kind, arg);
      return;
    }
    let r;
    try {
      // From anywhere (a clock's timer, a signal, a host callback): see `input`.
      probe();
      r = this.circuit.wasm.input(this.id, this.now(), kind, arg);
      // Before any call: a step that fails from here on must know the core may have ended the call.
      if ((r & FINISHED) !== 0) this.finished = true;
      this.drive(r);
    } catch (e) {
      lost[lost.length] = this;
      lost[lost.length] = e;
      try {
        salvageSoon();
      } catch {}
    }
  }

  /**
   * Carries out the actions of wasm result `r`, then feeds the inputs that
   * came meanwhile, one reaction at a time.
   * @param {number} r
   */
  drive(r) {
    this.busy = true;
    try {
      for (;;) {
        if ((r & FINISHED) !== 0) this.finished = true;
        this.perform(r);
        if ((r & MORE) !== 0 && !this.finished) {
          // The rest of this reaction's actions, before any other input.
          probe();
          r = this.circuit.wasm.input(this.id, this.at, POLL, 0);
          continue;
        }
        if (this.finished) break;
        let kind = this.pk;
        let arg = this.pa;
        if (kind !== -1) this.pk = -1;
        else {
          const x = this.x;
          if (x === null || x.inq === null || x.inq.length === 0) break;
          // Pairs: not empty, so both are there.
          kind = /** @type {number} */ (x.inq.shift());
          arg = /** @type {number} */ (x.inq.shift());
        }
        probe();
        r = this.circuit.wasm.input(this.id, this.now(), kind, arg);
      }
    } catch (e) {
      // The stack ran out mid-reaction (or a bug): the call is given up, its caller settled once.
      lost[lost.length] = this;
      lost[lost.length] = e;
      this.busy = false;
      try {
        salvageSoon();
      } catch {}
    } finally {
      this.busy = false;
    }
  }

  /**
   * Carries out the actions of wasm result `r` in order. The buffer is
   * shared by every call and user code (a run, a clock) may start another
   * call: every action is read before the first one is carried out.
   * @param {number} r
   */
  perform(r) {
    if ((r & FINISHED) !== 0) this.finished = true;
    const n = r & COUNT;
    if (n === 0) {
      if ((r & FIRST) === COMPACT_END) {
        this.act(CLEAR_TIMER, 1, 0, 0);
        if (this.x === null || !this.x.abandoned) this.act(SETTLE_RUN, 1, 0, 0);
      }
      return;
    }
    const v = actionView(r);
    if (n === 1) return this.act(v[0], v[1], v[2], v[3]);
    if (n === 2) {
      const c = v[4];
      const x = v[5];
      const y = v[6];
      const z = v[7];
      this.act(v[0], v[1], v[2], v[3]);
      if (this.x === null || !this.x.abandoned) this.act(c, x, y, z);
      return;
    }
    const q = Array.from(v.subarray(0, 4 * n));
    for (let i = 0; i < q.length && !(this.x !== null && this.x.abandoned); i += 4) this.act(q[i], q[i + 1], q[i + 2], q[i + 3]);
  }

  /**
   * Carries out one action: `code` with its numbers `x`, `y`, `z` (see the codes at the top).
   * @param {number} code
   * @param {number} x
   * @param {number} y
   * @param {number} z
   */
  act(code, x, y, z) {
    switch (code) {
      case SET_TIMER:
        return this.arm(x, y, true);
      case CLEAR_TIMER:
        return this.clear(x);
      case INVOKE:
        return this.invoke(x === 1 ? this : this.attempt(x));
      case ABORT:
        return this.abort(x, y);
      case FALLBACK:
        return this.fallback(this.original(x, y));
      case SETTLE_RUN:
        return this.done(true, x === 1 ? this.value : this.attempt(x).value);
      case SETTLE_FALLBACK:
        return this.done(true, this.more.fb);
      case SETTLE_ERROR:
        return this.done(false, this.error(z, x, y));
    }
  }

  /**
   * Attempt `n`'s record (made on first use; attempt 1's is the call itself).
   * @param {number} n
   * @returns {AttemptRecord}
   */
  attempt(n) {
    if (n === 1) return this;
    const x = this.more;
    // Room for attempts 2 and 3 (a literal [] grows to 17 slots at its first store).
    if (x.attempts === null) x.attempts = new Array(2);
    let att = x.attempts[n - 2];
    if (att === undefined) x.attempts[n - 2] = att = new Attempt(n);
    return att;
  }

  /**
   * Arms call timer `tid` at `due` on the call's clock; a clock that throws
   * gives the call up. `gated`: whether its firing may run user code (see
   * `startCall`), so that it must come back into the call's async context.
   * @param {number} tid
   * @param {number} due
   * @param {boolean} gated
   */
  arm(tid, due, gated) {
    if (this.timer === -1) return this.armOwn(tid, due, gated);
    // Arming happens in the call's own async context (its start, or work
    // that came through a gate or a reaction of its own): captured here.
    const open = gated && asyncContext.follow ? this.gate() : null;
    const t = new CallTimer(this, tid, open);
    const x = this.more;
    if (x.timers === null) x.timers = new Map();
    x.timers.set(tid, t);
    try {
      armOn(this.clock, due, t);
    } catch (e) {
      this.x?.timers?.delete(tid);
      // The clock cannot time the call: it is given up, what it holds
      // given back unrecorded, and the caller gets the clock's error.
      this.abandon(e);
    }
  }

  /**
   * `arm` for the timer this object carries itself (none armed yet): the
   * usual timeout, kept small to be inlined into `startCall`.
   * @param {number} tid
   * @param {number} due
   * @param {boolean} gated
   */
  armOwn(tid, due, gated) {
    // In the call's own async context (see `arm`).
    this._open = gated && asyncContext.follow ? this.gate() : null;
    this.timer = tid;
    try {
      armOn(this.clock, due, this);
    } catch (e) {
      this.timer = -1;
      this._open = null;
      // As in `arm`: the call is given up, the caller gets the clock's error.
      this.abandon(e);
    }
  }

  /**
   * A gate back into the call's async context for a timer armed now: the
   * spare one of a timer cleared unfired if there is one (made in the same
   * context: a call arms its timers only in its own), else a new one.
   * @returns {(job: Job) => void}
   */
  gate() {
    const x = this.x;
    if (x === null || x.spare === null) return gate();
    const g = x.spare;
    x.spare = null;
    return g;
  }

  /**
   * Disarms call timer `tid` (if still armed).
   * @param {number} tid
   */
  clear(tid) {
    let t;
    let open;
    if (this.timer === tid) {
      t = this;
      open = this._open;
      this.timer = -1;
      this._open = null;
    } else {
      t = this.x?.timers?.get(tid);
      if (t === undefined) return;
      open = t._open;
      this.x?.timers?.delete(tid);
    }
    try {
      // A gate whose timer can no longer fire was never opened: kept for the
      // next timer (not by a call that is finishing: it arms no more).
      if (disarmOn(this.clock, t) && open !== null && !this.finished) this.more.spare = open;
    } catch (e) {
      // A host clock's cancel failed: the call goes on (its timer, should
      // it fire, is ignored by the core), and ends with that error.
      this._clockFailed(e);
    }
  }

  /** Our clocks fire the call object itself: the timer it carries. */
  fire() {
    const tid = this.timer;
    const open = this._open;
    this.timer = -1;
    this._open = null;
    if (tid !== -1) this._fired(tid, open);
  }

  /**
   * A host clock fired timer `tid` (armed with gate `open`). One cleared
   * already (its cancel failed or did not hold) is dropped: the core would
   * ignore it, and its gate may be another timer's now (see `gate`).
   * @param {number} tid
   * @param {Gate} open
   */
  _hostFired(tid, open) {
    if (this.timer === tid) {
      this.timer = -1;
      this._open = null;
    } else if (this.x?.timers?.delete(tid) !== true) return;
    this._fired(tid, open);
  }

  /**
   * Timer `tid` fired: fed to the core now, or, through its gate, in a
   * microtask in the call's own async context. A timer cleared meanwhile
   * is ignored by the core.
   * @param {number} tid
   * @param {Gate} open
   */
  _fired(tid, open) {
    if (open === null) this.input(TIMER, tid);
    else open(new TimerFired(this, tid));
  }

  /**
   * Gives the call up (its clock failed it): everything it holds goes back unrecorded.
   * @param {unknown} error
   */
  abandon(error) {
    this._clockFailed(error);
    this.more.abandoned = true;
    if (!this.finished) {
      // Marked once given back: a salvage that runs out of stack in
      // `release` is done again (see `lost`).
      this.circuit.wasm.release(this.id, this.at);
      this.finished = true;
    }
    for (const att of [this, ...(this.x?.attempts ?? [])]) {
      if (att !== undefined && att.ac !== null && !att.aborted) att.ac.abort(error);
    }
    this.done(false, error);
  }

  /**
   * Runs attempt `att` (a `withContext` run gets `{ attempt, signal }` first).
   * @param {AttemptRecord} att
   */
  invoke(att) {
    let pending;
    guard.depth++;
    try {
      const result = callRun(this.command, this.args, att);
      // Inside the `try`: a `then` getter or a proxy trap that throws is the
      // run failing, like a throw from `run` itself.
      pending = pendingOf(result);
      if (pending === null) {
        att.ok = true;
        att.value = result;
      }
    } catch (e) {
      pending = null;
      att.ok = false;
      att.value = e;
    } finally {
      guard.depth--;
    }
    if (pending === null) this.ended(att);
    else
      promiseThen.call(
        pending,
        (v) => {
          att.ok = true;
          att.value = v;
          this.ended(att);
        },
        (e) => {
          att.ok = false;
          att.value = e;
          this.ended(att);
        },
      );
  }

  /**
   * Attempt `att`'s run ended (`att.ok`, `att.value`): an outcome, or, once aborted, its stop.
   * @param {AttemptRecord} att
   */
  ended(att) {
    if (att.aborted) return this.input(STOPPED, att.n);
    if (att === this && att.ok && !this.busy && !this.finished && this.resolve !== null) return this.firstOk();
    this.input(att.ok ? ENDED : this.command._isBad(att.value) ? ENDED + 2 : ENDED + 1, att.n);
  }

  /**
   * The hot path: attempt 1's run succeeded, nothing else in progress, the
   * caller's promise made. Usually the core answers [clear the timer this
   * object carries, settle with the run's value], and, with nothing rare
   * about the call (`x`) and the timer on a clock of ours (no host
   * `handle`), that is done here: the timer out of the clock's queue,
   * the caller resolved. Anything else is driven in general. A step that
   * throws gives the call up (see `lost`); the timer is cancelled before
   * the call counts as settled, so that its caller is settled once, by
   * `salvage`, if the cancel throws.
   */
  firstOk() {
    try {
      const r = this.circuit.wasm.input(this.id, this.now(), ENDED, 1);
      // Before any other step, as in `input`: a step that fails from here
      // on must know the core may have ended the call (its id reused).
      if ((r & FINISHED) !== 0) this.finished = true;
      if (
        this.x === null &&
        this.handle === null &&
        ((r & (COUNT | FIRST | FINISHED | MORE)) === (COMPACT_END | FINISHED) ? this.timer === 1 : clearsAndSettles(r, this.timer))
      ) {
        this.timer = -1;
        this._open = null;
        /** @type {Required<CircuitClock>} */ (this.clock).cancelTimer(this); // no handle: armed by armTimer
        this.settled = true;
        /** @type {(value: unknown) => void} */ (this.resolve)(this.value);
        return;
      }
      this.drive(r);
    } catch (e) {
      // Only the glue's own steps throw here (see `lost`).
      lost[lost.length] = this;
      lost[lost.length] = e;
      try {
        salvageSoon();
      } catch {}
    }
  }

  /**
   * Signals attempt `n`'s run to stop (`reason`: timeout or cancelled); it reports when it has.
   * @param {number} n
   * @param {number} reason
   */
  abort(n, reason) {
    const att = this.attempt(n);
    if (att.aborted) return;
    att.aborted = true;
    // Only a `withContext` run can see a signal; nobody asked for it yet: it is handed out aborted.
    if (att.ac === null && !this.command._withContext) return;
    const err = reason === K_TIMEOUT ? this.timeoutError() : this.made(new CancelledError(), K_CANCELLED);
    if (att.ac === null) att.ac = new AbortController();
    guard.depth++;
    try {
      att.ac.abort(err);
    } finally {
      guard.depth--;
    }
  }

  /**
   * The original error: attempt `a`'s own, or one of kind `k` made here.
   * @param {number} a
   * @param {number} k
   * @returns {unknown}
   */
  original(a, k) {
    if (a > 0) return this.attempt(a).value;
    switch (k) {
      case K_TIMEOUT:
        return this.timeoutError();
      case K_SHORT_CIRCUITED:
        return this.made(cheap(CircuitOpenError), k);
      case K_REJECTED:
        return this.made(cheap(RejectedError), k);
      case K_RATE_LIMITED:
        return this.made(cheap(RateLimitedError), k);
      default:
        return undefined;
    }
  }

  /**
   * `err`, made for this call's command (kind `code`): names the command and the option behind it.
   * @template {import("./index.js").HystrixError} E
   * @param {E} err
   * @param {number} code
   * @returns {E}
   */
  made(err, code) {
    return locate(err, this.circuit, code);
  }

  /** The call's one TimeoutError (its attempts' signals and the caller see the same object). */
  timeoutError() {
    const more = this.more;
    if (more.timeoutError === null) {
      more.timeoutError = locate(new TimeoutError(), this.circuit, K_TIMEOUT, Math.max(0, this.at - this.t0));
    }
    return more.timeoutError;
  }

  /**
   * The caller's error of kind `kind`, whose original is `a`/`k`.
   * @param {number} kind
   * @param {number} a
   * @param {number} k
   * @returns {unknown}
   */
  error(kind, a, k) {
    switch (kind) {
      case K_CANCELLED:
        return this.made(
          new CancelledError(undefined, this.x?.signal === undefined ? undefined : { cause: this.x.signal.reason }),
          K_CANCELLED,
        );
      case K_FALLBACK_REJECTED:
        return this.made(new FallbackRejectedError(undefined, { cause: this.original(a, k) }), K_FALLBACK_REJECTED);
      case K_FALLBACK_FAILURE: {
        /** @type {import("./registry.mjs").Writable<import("./index.js").FallbackFailedError>} */
        const err = this.made(new FallbackFailedError(undefined, { cause: this.more.fb }), K_FALLBACK_FAILURE);
        err.original = this.original(a, k);
        return err;
      }
      default:
        return this.original(a, k);
    }
  }

  /**
   * Invokes the fallback with `original` (why it is wanted) and the caller's arguments; feeds its end to the call.
   * @param {unknown} original
   */
  fallback(original) {
    const cmd = this.command;
    let out;
    let pending;
    guard.depth++;
    try {
      out = callFallback(cmd, /** @type {Function} */ (cmd._fallback), original, this.args); // asked for: there is one
      // As for the run: a throwing `then` getter is the fallback failing.
      pending = pendingOf(out);
    } catch (e) {
      this.more.fb = e;
      this.input(FALLBACK_FAILED, 0);
      return;
    } finally {
      guard.depth--;
    }
    if (pending === null) {
      this.more.fb = out;
      this.input(FALLBACK_OK, 0);
    } else
      promiseThen.call(
        pending,
        (v) => {
          this.more.fb = v;
          this.input(FALLBACK_OK, 0);
        },
        (e) => {
          this.more.fb = e;
          this.input(FALLBACK_FAILED, 0);
        },
      );
  }

  /**
   * Settles the caller (once). A clock that failed the call gives its error instead.
   * @param {boolean} ok
   * @param {unknown} value
   */
  done(ok, value) {
    if (this.settled) return;
    this.settled = true;
    const x = this.x;
    if (x !== null && x.onCancel !== null) {
      /** @type {AbortSignal} */ (x.signal).removeEventListener("abort", x.onCancel); // watch() set both
      x.onCancel = null;
    }
    if (x !== null && x.clockFailed) {
      ok = false;
      value = x.clockError;
    }
    if (this.resolve === null) {
      const m = this.more;
      m.outcome = ok ? 1 : 2;
      m.result = value;
    } else if (ok) this.resolve(value);
    else /** @type {(error: unknown) => void} */ (this.reject)(value); // set with resolve
  }

  /**
   * The caller's `signal` (an AbortSignal): its abort cancels the call (semantics §18).
   * @param {AbortSignal} signal
   */
  watch(signal) {
    const x = this.more;
    x.signal = signal;
    x.onCancel = () => this.input(CANCEL, 0);
    signal.addEventListener("abort", x.onCancel, { once: true });
  }

  /**
   * Starts the untimed path (see `untimedEnded`): nothing can settle the
   * call before its run ends. Returns the caller's promise.
   * @returns {Promise<unknown>}
   */
  startUntimed() {
    let pending;
    guard.depth++;
    try {
      const result = callRun(this.command, this.args, this);
      pending = pendingOf(result);
      if (pending === null) return settled(this, () => this.untimedEnded(true, result, false));
    } catch (e) {
      return settled(this, () => this.untimedEnded(false, e, false));
    } finally {
      guard.depth--;
    }
    return promiseThen.call(
      pending,
      (v) => this.untimedEnded(true, v, true),
      (e) => this.untimedEnded(false, e, true),
    );
  }

  /**
   * The untimed path: the run of attempt 1 was invoked by `execute` itself
   * and nothing else was asked (no timer, no signal), so the caller's
   * promise is the run's own, chained. The run ended: its value, or
   * whatever the call goes on to (a fallback, retries) as a promise, or
   * (`chained`: returned from the chain's reaction) as a `Continued`.
   * @param {boolean} ok
   * @param {unknown} value
   * @param {boolean} chained
   * @returns {unknown}
   */
  untimedEnded(ok, value, chained) {
    this.ok = ok;
    this.value = value;
    return this.firstEnded(ok ? ENDED : this.command._isBad(value) ? ENDED + 2 : ENDED + 1, 1, FIRST_SETTLE_RUN, value, chained);
  }

  /**
   * Feeds input `kind` (`arg`) of a call that no promise of ours waits on
   * yet (`untimedEnded`, `fallbackEnded`): returns `value` if the call
   * settles with it at once (its only action is `settle`, of code `fast`),
   * else what the call settles with, or a promise of it — or, `chained`
   * (what a promise reaction returns, which the engine adopts), a
   * `Continued`: the caller's promise then is settled by the call itself.
   * @param {number} kind
   * @param {number} arg
   * @param {number} fast
   * @param {unknown} value
   * @param {boolean} chained
   * @returns {unknown}
   */
  firstEnded(kind, arg, fast, value, chained) {
    try {
      const r = this.circuit.wasm.input(this.id, this.now(), kind, arg);
      if ((r & (COUNT | FIRST | FINISHED | MOVED)) === (1 | fast | FINISHED) && (this.x === null || !this.x.clockFailed)) {
        this.finished = true;
        this.settled = true;
        return value;
      }
      if ((r & FINISHED) !== 0) this.finished = true;
      this.drive(r);
    } catch (e) {
      // Only the glue's own steps throw here (see `lost`).
      lost[lost.length] = this;
      lost[lost.length] = e;
      try {
        salvageSoon();
      } catch {}
    }
    if (this.settled) return this._result();
    if (chained) return new Continued(this);
    return new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /**
   * The open path: the call's first action is its fallback, invoked here
   * with no promise of ours yet; a fallback that returns a value settles
   * the call with it at once (usually).
   * @param {unknown} original
   * @returns {Promise<unknown>}
   */
  fallbackFirst(original) {
    const cmd = this.command;
    let out;
    let pending;
    guard.depth++;
    try {
      out = callFallback(cmd, /** @type {Function} */ (cmd._fallback), original, this.args); // asked for: there is one
      pending = pendingOf(out);
    } catch (e) {
      return settled(this, () => this.fallbackEnded(false, e, false));
    } finally {
      guard.depth--;
    }
    if (pending === null) return settled(this, () => this.fallbackEnded(true, out, false));
    return promiseThen.call(
      pending,
      (v) => this.fallbackEnded(true, v, true),
      (e) => this.fallbackEnded(false, e, true),
    );
  }

  /**
   * The fallback invoked by `fallbackFirst` ended: its value, or what the
   * call settles with, or a promise of it (a `Continued` if `chained`, see
   * `firstEnded`).
   * @param {boolean} ok
   * @param {unknown} value
   * @param {boolean} chained
   * @returns {unknown}
   */
  fallbackEnded(ok, value, chained) {
    this.more.fb = value;
    // A failed fallback never settles with its value: -1 matches no action.
    return this.firstEnded(ok ? FALLBACK_OK : FALLBACK_FAILED, 0, ok ? FIRST_SETTLE_FALLBACK : -1, value, chained);
  }

  /**
   * How the call settled before anyone waited (the untimed path): its value, or its error thrown.
   * @returns {unknown}
   */
  _result() {
    const x = /** @type {Extras} */ (this.x); // done() recorded the outcome there
    if (x.outcome === 1) return x.result;
    throw x.result;
  }
}

/**
 * Starts a call of `command` (through `circuit`) at `now`; returns the caller's promise.
 * @param {Command} command
 * @param {Circuit} circuit
 * @param {unknown[]} args
 * @param {number} now
 * @param {AbortSignal | undefined} signal
 * @returns {Promise<unknown>}
 */
export function startCall(command, circuit, args, now, signal) {
  if (lost.length !== 0 && !salvaging) salvage(false);
  // Admission: one crossing, done whole or not at all. From here on the
  // call holds what it was admitted with, so every failure of the glue's
  // own steps (the JS stack running out under a deep caller) gives it
  // back and settles the caller once (`lost`).
  const r = circuit.wasm.begin(now, command._fallback !== undefined, signal !== undefined);
  const low = r & (ID_UNIT - 1);
  const hi = (r - low) / ID_UNIT;
  // A compact start (the closed path, see COMPACT_START) carries its timer's delay above the id.
  const compact = (low & (COUNT | FIRST)) === COMPACT_START;
  const id = compact ? hi & (COMPACT_IDS - 1) : hi;
  /** @type {CallState | null} */
  let st = null;
  // The caller's promise once made by the timed path (what it returns if the glue fails there).
  /** @type {Promise<unknown> | null} */
  let made = null;
  try {
    const call = new CallState(command, circuit, args, now);
    st = call;
    call.id = id;
    // Timed (the default): timer `tid` to arm at `due`, then attempt 1.
    let tid = -1;
    let due = 0;
    if (compact) {
      tid = 1;
      // `+now`: the number the wasm read (a host clock may hand back a
      // numeric string or a Date; the buffer's due was always a number).
      due = +now + (hi - id) / COMPACT_IDS;
    }
    const first = signal === undefined && (low & COUNT) === 1 ? low & (FIRST | MOVED) : -1;
    if (first === FIRST_FALLBACK) {
      // Refused at admission (or by the rate limiter), with a fallback.
      const v = actionView(r);
      return call.fallbackFirst(call.original(v[1], v[2]));
    }
    if (first === FIRST_INVOKE) return call.startUntimed();
    if (signal !== undefined) call.watch(signal);
    else if (tid === -1 && (low & (COUNT | FIRST)) === (2 | FIRST_SET_TIMER)) {
      // The same as a compact start, in the buffer.
      const v = actionView(r);
      if (v[4] === INVOKE && v[5] === 1) {
        tid = v[1];
        due = v[2];
      }
    }
    if (tid !== -1) {
      // Timed (the default): arm the timeout, then run attempt 1. Its
      // firing times attempt 1 out; that runs user code only if the
      // command has a fallback or `withContext` runs, or its circuit
      // listeners, a plan of more attempts or any clock but the default (see
      // `refreshGates`, registry.mjs): only then is the timer gated back
      // into the caller's async context. Without, nothing but the glue
      // and the core runs until the caller's promise is rejected, and a
      // promise's reactions run in their own registration's context.
      const promise = new Promise((resolve, reject) => {
        call.resolve = resolve;
        call.reject = reject;
      });
      made = promise;
      call.busy = true;
      try {
        call.armOwn(tid, due, command._gates || circuit.gates);
        if (!call.settled) call.invoke(call);
      } finally {
        call.busy = false;
      }
      if (call.pk !== -1 || call.x !== null) call.drive(0);
      return promise;
    }
    return call.start(r);
  } catch (e) {
    // See `lost`: nothing here may call a function before the call is recorded.
    if (st !== null) {
      lost[lost.length] = st;
      lost[lost.length] = e;
    } else if ((low & FINISHED) === 0) {
      lost[lost.length] = new Admitted(circuit, id, now);
      lost[lost.length] = e;
    }
    repairStack();
    try {
      salvageSoon();
    } catch {}
    return made !== null ? made : Promise.reject(e);
  }
}
