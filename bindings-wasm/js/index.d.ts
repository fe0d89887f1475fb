// Types for the `hystrix` npm package.

/**
 * What the run of a command made with `withContext: true` receives first,
 * before the caller's arguments: one context per attempt. `attempt` and
 * `signal` are getters (the AbortController is made only if asked for):
 * destructure them (`{ attempt, signal }`) or read them; spreading the
 * context (`{ ...ctx }`) does not copy them.
 */
export interface RunContext {
  /** Which attempt of the call this run is, from 1 (retries and hedges count; so do attempts refused at admission). */
  readonly attempt: number;
  /**
   * Aborted when this attempt is stopped: it timed out, another attempt
   * won a hedge race, or the caller cancelled the call (one per attempt,
   * never shared). The attempt's permit is held until the run settles.
   */
  readonly signal: AbortSignal;
}

/** Per-call options of `executeWith`. */
export interface CallOptions {
  /**
   * The caller's cancellation: aborting it settles the call at once with a
   * `CancelledError` (no fallback, nothing counted in health); the
   * attempts in flight are aborted. A fallback already running is not
   * cancelled (it runs to its end and is recorded). Already aborted: the
   * call is refused before it starts.
   */
  signal?: AbortSignal;
}

/**
 * Command options: the SPEC settings in camelCase, plus `name`, `clock`,
 * `isBadRequest`. The constructor also takes `withContext` (see
 * `Command`), which is not a setting of the circuit.
 */
export interface CommandOptions {
  /** Share one circuit (and its metrics) between every command of this name. */
  name?: string;
  /** Where time comes from; a `VirtualClock` for deterministic tests. */
  clock?: Clock;
  /** Errors the caller caused: no fallback, not counted in health (adds to `BadRequestError`). */
  isBadRequest?: (error: unknown) => boolean;
  /** Whether runs are timed out (default true). */
  timeoutEnabled?: boolean;
  /**
   * A run still going after this long is timed out (default 1000). On the
   * real clock a pending call's timeout keeps a Node process alive, like a
   * setTimeout, until it fires or the run ends.
   */
  timeoutMs?: number;
  /** Bulkhead: runs allowed in flight at once (default 10). */
  maxConcurrentRequests?: number;
  /** Whether a fallback is ever invoked (default true). */
  fallbackEnabled?: boolean;
  /** Fallbacks allowed in flight at once (default 10). */
  fallbackMaxConcurrentRequests?: number;
  /** false: never short-circuits, never trips (default true). */
  circuitBreakerEnabled?: boolean;
  /** Health total needed before the circuit may trip (default 20). */
  requestVolumeThreshold?: number;
  /** Trip when the error percentage is at least this (default 50). */
  errorThresholdPercentage?: number;
  /** How long an open circuit rejects before probing (default 5000). */
  sleepWindowMs?: number;
  /** Probes admitted per half-open episode (default 1). */
  halfOpenMaxCalls?: number;
  /** Short-circuit everything; wins over forceClosed. */
  forceOpen?: boolean;
  /** Admit everything and never trip. */
  forceClosed?: boolean;
  /** Length of the rolling statistics window (default 10000). */
  rollingWindowMs?: number;
  /** Buckets in that window; must divide rollingWindowMs (default 10). */
  rollingWindowBuckets?: number;
  /** How stale the health counts used for decisions may be; 0 = always fresh (default 500). */
  healthSnapshotIntervalMs?: number;
  /** Seed of the command's random generator (default 0). */
  randomSeed?: number;
  /** Attempts per call, the first one included; 1 = no retry (default 1). */
  retryMaxAttempts?: number;
  /** A TIMEOUT attempt may be retried, or trigger a hedge (default true). */
  retryOnTimeout?: boolean;
  /** A SEMAPHORE_REJECTED attempt may be retried, or trigger a hedge (default false). */
  retryOnRejected?: boolean;
  /** Backoff before the first retry, before jitter (default 100). */
  retryBaseDelayMs?: number;
  /** Backoff growth per retry, in thousandths; at least 1000 (default 2000 = ×2). */
  retryMultiplierPermille?: number;
  /** Cap on every backoff delay (default 5000). */
  retryMaxDelayMs?: number;
  /** How a backoff delay is jittered (default "full"). */
  retryJitter?: RetryJitter;
  /** Overall deadline of a call's attempts, from its first attempt's start; 0 = none (default 0). */
  deadlineMs?: number;
  /** Budget units deposited per SUCCESS (a retry costs 100), at most 1000; 0 = no budget (default 0). */
  retryBudgetPercent?: number;
  /** Retries per second allowed on top of the deposits, at most 1000000 (default 10). */
  retryBudgetMinPerSec?: number;
  /** How long budget entries count, 1 to 86400000 (default 10000). */
  retryBudgetWindowMs?: number;
  /** Buckets in that window; must divide retryBudgetWindowMs (default 10). */
  retryBudgetWindowBuckets?: number;
  /** Calls admitted per period; 0 = no rate limiter (default 0). */
  rateLimitForPeriod?: number;
  /** The rate limiter's period (default 1000). */
  rateLimitPeriodMs?: number;
  /** Calls that may pass back to back; 0 = rateLimitForPeriod (default 0). */
  rateLimitBurst?: number;
  /** Longest wait a call accepts for its turn; 0 = never waits (default 0). */
  rateLimitTimeoutMs?: number;
  /** Attempts per call, the primary included; 1 = no hedging; not above 1 with retryMaxAttempts above 1 (default 1). */
  hedgeMaxAttempts?: number;
  /** From the latest attempt's start to the next hedge; 0 = all at once (default 500). */
  hedgeDelayMs?: number;
  /** A retryable failure starts the next hedge at that instant (default true). */
  hedgeOnFailure?: boolean;
  /** Which limit the bulkhead compares with: maxConcurrentRequests ("fixed", the default) or an adaptive one. */
  concurrencyLimitMode?: ConcurrencyLimitMode;
  /** Limit when the adaptive limiter starts, from adaptiveMinLimit to adaptiveMaxLimit (default 20). */
  adaptiveInitialLimit?: number;
  /** Lowest adaptive limit (default 20). */
  adaptiveMinLimit?: number;
  /** Highest adaptive limit; at least adaptiveMinLimit (default 200). */
  adaptiveMaxLimit?: number;
  /** Shortest adaptive sample window (default 1000). */
  adaptiveWindowMs?: number;
  /** Fewest samples in an adaptive window (default 10). */
  adaptiveWindowMinSamples?: number;
  /** A FAILURE counts as a drop (default false). */
  adaptiveDropOnFailure?: boolean;
  /** AIMD cut on a drop, in thousandths, 500 to 999 (default 900). */
  aimdBackoffPermille?: number;
  /** AIMD: a window whose average RTT exceeds this counts as a drop (default 5000). */
  aimdTimeoutMs?: number;
  /** Gradient2 smoothing, in thousandths, at most 1000 (default 200). */
  gradient2SmoothingPermille?: number;
  /** Gradient2 queue allowance (default 4). */
  gradient2QueueSize?: number;
  /** Gradient2 long-RTT averaging window, in samples (default 600). */
  gradient2LongWindow?: number;
  /** Gradient2 RTT tolerance, in thousandths; at least 1000 (default 1500). */
  gradient2RttTolerancePermille?: number;
}

/** How a retry's backoff delay is jittered (`retryJitter`). */
export type RetryJitter = "none" | "full" | "equal" | "decorrelated";

/** Which limit the bulkhead compares with (`concurrencyLimitMode`). */
export type ConcurrencyLimitMode = "fixed" | "aimd" | "gradient2";

/** One setting as the core describes it (`configSchema()`). */
export interface ConfigSchemaEntry {
  /** The camelCase option. */
  option: keyof CommandSettings;
  /** The SPEC (snake_case) key. */
  key: string;
  type: "bool" | "int" | "name";
  default: boolean | number | string;
  /** Integers: the smallest value accepted on its own. */
  min?: number;
  /** Integers: the largest value accepted on its own. */
  max?: number;
  /** Named settings: every value accepted. */
  values?: string[];
}

/** Every setting in SPEC order, as the core describes it. */
export function configSchema(): ConfigSchemaEntry[];

/** The settings alone, for `configure`. */
export type CommandSettings = Omit<CommandOptions, "name" | "clock" | "isBadRequest">;

/**
 * Anything with a millisecond `now()` and timers: `VirtualClock`, or the
 * built-in real clock. If `now()` or `arm()` throws at admission the call
 * rejects with that error, unrun and holding nothing; if `now()` or a
 * timer's `cancel()` throws later, the call finishes at the last instant
 * the clock gave (permits and fallback slots come back) and then rejects
 * with the clock's error.
 */
export interface Clock {
  /** The current time in whole milliseconds; never decreasing. */
  now(): number;
  /** Calls `fn` once the clock reaches `due`; the handle cancels it. */
  arm(due: number, fn: () => void): { cancel(): void };
}

/** SPEC event type names. */
export type EventType =
  | "SUCCESS"
  | "FAILURE"
  | "TIMEOUT"
  | "BAD_REQUEST"
  | "SHORT_CIRCUITED"
  | "SEMAPHORE_REJECTED"
  | "FALLBACK_SUCCESS"
  | "FALLBACK_FAILURE"
  | "FALLBACK_REJECTION"
  | "FALLBACK_MISSING"
  | "FALLBACK_DISABLED"
  | "CANCELLED"
  | "RATE_LIMITED"
  | "RETRY"
  | "HEDGE"
  | "RETRY_BUDGET_EXHAUSTED";

/** Circuit states. */
export type CircuitState = "closed" | "open" | "half_open";

/** Latency percentiles in ms over the 60 s percentile window. */
export interface Percentiles {
  count: number;
  mean: number;
  p0: number;
  p25: number;
  p50: number;
  p75: number;
  p90: number;
  p95: number;
  p99: number;
  p99_5: number;
  p100: number;
}

/**
 * A command observed at one instant. Keys are camelCase like the options:
 * the SPEC's snake_case name with the letter after each underscore
 * capitalised (`fallback_concurrent` -> `fallbackConcurrent`); event-type
 * names and `p99_5` are unchanged.
 */
export interface Snapshot {
  name: string;
  timeMs: number;
  state: CircuitState;
  health: { total: number; errors: number; errorPercentage: number };
  rolling: Record<EventType, number>;
  cumulative: Record<EventType, number>;
  /** Run permits held now. */
  concurrent: number;
  /** Fallbacks in flight now. */
  fallbackConcurrent: number;
  /** Highest run concurrency in the rolling window. */
  rollingMaxConcurrent: number;
  latencyRun: Percentiles;
  latencyTotal: Percentiles;
  /** Listener calls that threw (JS exceptions) since the command was created. */
  listenerPanics: number;
  /** The bulkhead's limit in force: `maxConcurrentRequests`, or the adaptive limit (SPEC §15.1). */
  limit: number;
  /** The retry budget's balance (SPEC §12); 0 while the budget is off. May be negative. */
  budget: number;
}

/** A fallback of a command whose caller passes `A`: `(error, ...args)`, a value, a promise or a thenable. */
export type Fallback<A extends unknown[], F> = (error: unknown, ...args: A) => F | PromiseLike<F>;

/**
 * A circuit seen from outside: its name, snapshots, settings and
 * listeners, with no way to call through it (what `getCommand` returns).
 * Every `Command` is one too.
 */
export class CommandView {
  protected constructor();
  /** The name ("" for an anonymous command). */
  readonly name: string;
  /** Whether the circuit was disposed (`Command.dispose`): every other method then throws. */
  readonly disposed: boolean;
  /** State, health, counts, latency, concurrency. */
  snapshot(): Snapshot;
  /** Changes settings live; throws InvalidConfigError (and changes nothing) on a bad one. */
  configure(settings: CommandSettings): void;
  /** Listens to every recorded event; returns a function that removes this registration. */
  on(type: "event", callback: (event: EventType, atMs: number) => void): () => boolean;
  /** Listens to state transitions; returns a function that removes this registration. */
  on(type: "stateChange", callback: (from: CircuitState, to: CircuitState, atMs: number) => void): () => boolean;
  /**
   * Hears what "event" and "stateChange" listeners throw (each is also
   * counted in the snapshot's `listenerPanics`). Without an "error"
   * listener such an exception is rethrown in a microtask: an uncaught
   * exception, as a throwing callback is in Node. The call is never
   * affected. One an "error" listener throws is counted and rethrown.
   */
  on(type: "error", callback: (error: unknown) => void): () => boolean;
  /** Removes the latest registration of `callback` for `type`. */
  off(type: "event" | "stateChange" | "error", callback: (...args: never[]) => void): boolean;
}

/**
 * A run (and optional fallback) executed through one circuit breaker,
 * bulkhead and set of metrics: `execute(...args)` calls `run(...args)`
 * with exactly the caller's arguments (`A`), so any function can be
 * wrapped, default and optional parameters included; it may return a
 * value (`T`), a promise or a thenable. `fallback(error, ...args)`
 * likewise (`F`).
 *
 * With `withContext: true` the run receives its attempt's `RunContext`
 * first: `run({ attempt, signal }, ...args)` (the fallback is unchanged).
 *
 * Where Node's APIs are, everything a call does later — its timeout, the
 * fallback, retries after a backoff, hedges, rate-limit waits, aborting
 * its runs' signals, settling — runs in the async context
 * (`AsyncLocalStorage`) of the caller who started it. (One exception: an
 * event or stateChange listener registered while a call is in flight may
 * hear that call's timeout outside it.)
 */
export class Command<A extends unknown[] = any[], T = unknown, F = T> extends CommandView {
  /** A run that receives its attempt's context first, then the caller's arguments. */
  constructor(
    run: (context: RunContext, ...args: A) => T | PromiseLike<T>,
    fallback: Fallback<A, F> | null | undefined,
    options: CommandOptions & { withContext: true },
  );
  /** A run that receives exactly the caller's arguments. */
  constructor(run: (...args: A) => T | PromiseLike<T>, fallback?: Fallback<A, F> | null, options?: CommandOptions & { withContext?: false });
  /**
   * Runs through the command: the run's value, or the fallback's. Never
   * throws; rejects with a RangeError, unadmitted, when runs, fallbacks or
   * listeners have re-entered execute() 64 deep, and with a TypeError when
   * called detached from its command.
   */
  execute(...args: A): Promise<T | F>;
  /**
   * As `execute(...args)`, with per-call options: `signal` lets the caller
   * give up (rejects with `CancelledError`).
   */
  executeWith(options: CallOptions, ...args: A): Promise<T | F>;
  /** The seed's Queue: starts now and returns the promise. */
  queue(...args: A): Promise<T | F>;
  /**
   * Ends the circuit (shared by every Command of this name): its wasm
   * memory is freed now, or once the calls in flight have ended, and
   * reused; the name leaves the registry if this circuit is the one
   * registered. Later calls reject, and snapshot/configure/on throw, a
   * HystrixError naming the command. Returns whether it was live until
   * now. Where the runtime has `Symbol.dispose`, `[Symbol.dispose]()` does
   * the same (for `using`).
   */
  dispose(): boolean;
}

/** Sets options of the named command (made if needed). */
export function configure(name: string, options?: CommandSettings & { clock?: Clock }): void;
/** A view for observing the named circuit (no `execute`), or undefined if there is none. */
export function getCommand(name: string): CommandView | undefined;
/** Forgets a name; its state is freed once no command uses it. */
export function removeCommand(name: string): boolean;

/** A virtual clock for deterministic tests: nothing moves until `advance`. */
export class VirtualClock implements Clock {
  constructor(start?: number);
  now(): number;
  arm(due: number, fn: () => void): { cancel(): void };
  /** Resolves after `ms` virtual milliseconds; rejects with the signal's reason if aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Moves time forward by `ms` (a non-negative integer, else a TypeError),
   * firing due timers in order and settling every reaction after each. Time
   * never goes back. An advance started while another is under way waits
   * for it and moves on from where it ended; one called synchronously from
   * inside a timer callback runs at once from that timer's instant, and the
   * outer advance ends at the later of its own target and where that got.
   */
  advance(ms: number): Promise<void>;
}

/** Base class of every error hystrix itself throws (its subclasses carry `code` and `kind`). */
export class HystrixError extends Error {
  /** The stable numeric code shared by every binding (undefined on the base class). */
  readonly code: number | undefined;
  /** The SPEC error kind (undefined on the base class). */
  readonly kind: string | undefined;
  /** The name of the command the error comes from ("" for an anonymous one; undefined for an error made by your own code). */
  command?: string;
  /** The option behind the error, camelCase (`timeoutMs`, `sleepWindowMs`, ...; "" when none). */
  setting?: string;
  /** That option's value when the error was made. */
  value?: number;
}
/** The circuit was open and no fallback answered (code 3). */
export class CircuitOpenError extends HystrixError {
  readonly code: 3;
  readonly kind: "short_circuited";
}
/** The bulkhead was full and no fallback answered (code 4). */
export class RejectedError extends HystrixError {
  readonly code: 4;
  readonly kind: "rejected";
}
/** The run timed out and no fallback answered (code 2). */
export class TimeoutError extends HystrixError {
  readonly code: 2;
  readonly kind: "timeout";
}
/** Throw from a run for the caller's own fault: no fallback, not counted in health (code 5). */
export class BadRequestError extends HystrixError {
  constructor(message?: string, options?: { cause?: unknown });
  readonly code: 5;
  readonly kind: "bad_request";
}
/** Too many fallbacks in flight; `cause` is why the fallback was wanted (code 6). */
export class FallbackRejectedError extends HystrixError {
  readonly code: 6;
  readonly kind: "fallback_rejected";
}
/** The fallback failed; `cause` is its error, `original` why it was wanted (code 7). */
export class FallbackFailedError extends HystrixError {
  readonly code: 7;
  readonly kind: "fallback_failure";
  readonly original: unknown;
}
/** An option broke a rule; `key` names it (code 8). */
export class InvalidConfigError extends HystrixError {
  readonly code: 8;
  readonly kind: "invalid_config";
  readonly key: string;
}
/** The caller cancelled the call before it settled (code 9); never passed to a fallback. */
export class CancelledError extends HystrixError {
  readonly code: 9;
  readonly kind: "cancelled";
}
/** The rate limiter refused the call and no fallback answered (code 10). */
export class RateLimitedError extends HystrixError {
  readonly code: 10;
  readonly kind: "rate_limited";
}
/**
 * A command of that name already exists with a different value for an
 * option given again (code 11); change settings with `configure()`.
 */
export class SettingsConflictError extends HystrixError {
  readonly code: 11;
  readonly kind: "settings_conflict";
  /** The first differing option, camelCase. */
  readonly key: string;
  /** The existing command's value, as JSON. */
  readonly existing: string;
  /** The value given, as JSON. */
  readonly given: string;
}
