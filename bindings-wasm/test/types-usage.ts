// Typed usage of the whole public API of bindings-wasm/js/index.d.ts.
// Checked, never run:  tsc -p bindings-wasm/test/tsconfig.json
// (the tsconfig maps "hystrix" to ../js/index.d.ts).
//
// The import is type-only and the code sits in a function that is never
// called, so a Node that strips types and picks this file up under
// `node --test bindings-wasm/test/` runs it as an empty module.
import type * as hystrix from "hystrix-resilience";
import type * as hystrixInit from "hystrix-resilience/init";
import type {
  CircuitState,
  Clock,
  CommandOptions,
  CommandSettings,
  EventType,
  Percentiles,
  RunContext,
  Snapshot,
} from "hystrix-resilience";

declare const h: typeof hystrix;
declare const hi: typeof hystrixInit;

type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | void {}

export async function usage(): Promise<void> {
  const {
    Command,
    VirtualClock,
    configure,
    getCommand,
    removeCommand,
    HystrixError,
    CircuitOpenError,
    RejectedError,
    TimeoutError,
    BadRequestError,
    FallbackRejectedError,
    FallbackFailedError,
    InvalidConfigError,
  } = h;

  const clock = new VirtualClock();
  const clock2 = new VirtualClock(1000);
  const now: number = clock.now() + clock2.now();
  void now;

  // --- Commands with generics -------------------------------------------
  // Args and T inferred from a run whose parameters are all annotated; with
  // withContext: true its context comes first and is not an argument of execute().
  const byId = new Command(
    async (ctx: RunContext, id: number) => {
      await clock.sleep(10, ctx.signal);
      return { id };
    },
    (err, id) => {
      const e: unknown = err;
      void e;
      const n: number = id;
      return { id: -n };
    },
    { timeoutMs: 100, clock, withContext: true },
  );
  const v: { id: number } = await byId.execute(1);
  const q: { id: number } = await byId.queue(2);
  void v, q;
  assertType<Equal<Parameters<typeof byId.execute>, [number]>>();

  // Explicit type arguments (the caller's arguments, the run's value, the
  // fallback's value); the fallback's type may differ from the run's.
  const named = new Command<[string, number], string, null>(
    ({ signal }, s, n) => (signal.aborted ? "aborted" : s.repeat(n)),
    (error, s, n) => {
      if (error instanceof TimeoutError) return null;
      return s.length + n > 0 ? null : null;
    },
    { name: "typed-usage", maxConcurrentRequests: 5, withContext: true },
  );
  const r: string | null = await named.execute("ab", 2);
  void r;
  const nm: string = named.name;
  void nm;

  // No arguments; values, promises, thenables.
  const plain = new Command(() => 42);
  const p42: number = await plain.execute();
  const promised = new Command(async () => "x");
  const px: string = await promised.execute();
  const thenable = new Command(() => ({ then: (ok: (v: boolean) => void) => ok(true) }) as PromiseLike<boolean>);
  const pb: boolean = await thenable.execute();
  const ctxOnly = new Command((ctx) => ctx.signal.aborted, null, { withContext: true });
  assertType<Equal<Parameters<typeof ctxOnly.execute>, []>>();
  const ca: boolean = await ctxOnly.execute();
  void p42, px, pb, ca;

  // A fallback may be null or undefined.
  new Command(() => 1, null);
  new Command(() => 1, undefined, { fallbackEnabled: false });

  // Every option.
  const everything: CommandOptions = {
    name: "all-options",
    clock,
    isBadRequest: (e: unknown) => e instanceof RangeError,
    timeoutEnabled: true,
    timeoutMs: 1000,
    maxConcurrentRequests: 10,
    fallbackEnabled: true,
    fallbackMaxConcurrentRequests: 10,
    circuitBreakerEnabled: true,
    requestVolumeThreshold: 20,
    errorThresholdPercentage: 50,
    sleepWindowMs: 5000,
    halfOpenMaxCalls: 1,
    forceOpen: false,
    forceClosed: false,
    rollingWindowMs: 10000,
    rollingWindowBuckets: 10,
    healthSnapshotIntervalMs: 500,
    randomSeed: 0,
    retryMaxAttempts: 1,
    retryOnTimeout: true,
    retryOnRejected: false,
    retryBaseDelayMs: 100,
    retryMultiplierPermille: 2000,
    retryMaxDelayMs: 5000,
    retryJitter: "full",
    deadlineMs: 0,
    retryBudgetPercent: 0,
    retryBudgetMinPerSec: 10,
    retryBudgetWindowMs: 10000,
    retryBudgetWindowBuckets: 10,
    rateLimitForPeriod: 0,
    rateLimitPeriodMs: 1000,
    rateLimitBurst: 0,
    rateLimitTimeoutMs: 0,
    hedgeMaxAttempts: 1,
    hedgeDelayMs: 500,
    hedgeOnFailure: true,
    concurrencyLimitMode: "fixed",
    adaptiveInitialLimit: 20,
    adaptiveMinLimit: 20,
    adaptiveMaxLimit: 200,
    adaptiveWindowMs: 1000,
    adaptiveWindowMinSamples: 10,
    adaptiveDropOnFailure: false,
    aimdBackoffPermille: 900,
    aimdTimeoutMs: 5000,
    gradient2SmoothingPermille: 200,
    gradient2QueueSize: 4,
    gradient2LongWindow: 600,
    gradient2RttTolerancePermille: 1500,
  };
  const all = new Command((x: string) => x, null, everything);

  // configure() takes settings only.
  const settings: CommandSettings = { timeoutMs: 50, forceOpen: true, healthSnapshotIntervalMs: 0 };
  all.configure(settings);
  all.configure({});
  all.configure({ retryJitter: "decorrelated", concurrencyLimitMode: "gradient2" });
  // @ts-expect-error: not one of the jitter names
  all.configure({ retryJitter: "FULL" });
  const schema: hystrix.ConfigSchemaEntry[] = h.configSchema();
  const option: keyof CommandSettings = schema[0].option;
  void option;
  const limited: 10 = new h.RateLimitedError().code;
  void limited;
  const v2: EventType[] = ["RATE_LIMITED", "RETRY", "HEDGE", "RETRY_BUDGET_EXHAUSTED"];
  void v2;

  // --- Snapshots --------------------------------------------------------
  const s: Snapshot = all.snapshot();
  const state: CircuitState = s.state;
  const counts: number[] = [
    s.timeMs,
    s.health.total,
    s.health.errors,
    s.health.errorPercentage,
    s.rolling.SUCCESS,
    s.rolling.FALLBACK_DISABLED,
    s.cumulative.SEMAPHORE_REJECTED,
    s.concurrent,
    s.fallbackConcurrent,
    s.rollingMaxConcurrent,
    s.listenerPanics,
  ];
  const name: string = s.name;
  const lat: Percentiles = s.latencyRun;
  const tot: Percentiles = s.latencyTotal;
  const pct: number[] = [lat.count, lat.mean, lat.p0, lat.p25, lat.p50, lat.p75, lat.p90, lat.p95, lat.p99, lat.p99_5, tot.p100];
  void state, counts, name, pct;

  // --- Listeners --------------------------------------------------------
  const offEvent: () => boolean = all.on("event", (event, atMs) => {
    const e: EventType = event;
    const t: number = atMs;
    void e, t;
  });
  const onState = (from: CircuitState, to: CircuitState, atMs: number): void => {
    void from, to, atMs;
  };
  const offState = all.on("stateChange", onState);
  const removed: boolean = offEvent() && offState();
  const removed2: boolean = all.off("stateChange", onState);
  const onEvent = (event: EventType) => void event;
  all.on("event", onEvent);
  all.off("event", onEvent);
  void removed, removed2;

  // --- Named commands ---------------------------------------------------
  configure("svc");
  configure("svc", { timeoutMs: 200, clock });
  const found = getCommand("svc");
  if (found !== undefined) {
    const fs: Snapshot = found.snapshot();
    found.configure({ forceClosed: true });
    const view: hystrix.CommandView = found;
    // @ts-expect-error: a registry lookup cannot call through the circuit
    await found.execute();
    void fs, view;
  }
  const gone: boolean = removeCommand("svc");
  void gone;

  // --- Clocks -----------------------------------------------------------
  const timer: { cancel(): void } = clock.arm(clock.now() + 5, () => {});
  timer.cancel();
  const slept: Promise<void> = clock.sleep(5);
  await clock.sleep(1, new AbortController().signal).catch(() => {});
  await clock.advance(5);
  await slept;
  // Any object with now() and arm() is a Clock.
  const custom: Clock = { now: () => Date.now(), arm: (_due, _fn) => ({ cancel() {} }) };
  const vc: Clock = clock;
  new Command(() => 1, null, { clock: custom });
  void vc;

  // --- Errors -----------------------------------------------------------
  try {
    await byId.execute(3);
  } catch (e) {
    if (e instanceof HystrixError) {
      const code: number | undefined = e.code;
      const kind: string | undefined = e.kind;
      const msg: string = e.message;
      void code, kind, msg;
    }
    if (e instanceof CircuitOpenError || e instanceof RejectedError || e instanceof TimeoutError) {
      const base: hystrix.HystrixError = e;
      void base;
    }
    if (e instanceof FallbackRejectedError) {
      const cause: unknown = e.cause;
      void cause;
    }
    if (e instanceof FallbackFailedError) {
      const why: unknown = e.original;
      const fbErr: unknown = e.cause;
      void why, fbErr;
    }
    if (e instanceof InvalidConfigError) {
      const key: string = e.key;
      void key;
    }
  }
  const bad = new BadRequestError("missing id", { cause: 42 });
  const bad2 = new BadRequestError();
  const asError: Error = bad;
  const asBase: hystrix.HystrixError = bad2;
  void asError, asBase;
  const timeoutErr: Error = new TimeoutError();
  void timeoutErr;

  // --- Misuse the types refuse ----------------------------------------
  // @ts-expect-error: unknown option key
  new Command(() => 1, null, { timeout: 100 });
  // @ts-expect-error: wrong option value type
  new Command(() => 1, null, { timeoutMs: "100" });
  // @ts-expect-error: wrong argument type
  await byId.execute("1");
  // @ts-expect-error: missing argument
  await byId.execute();
  // @ts-expect-error: too many arguments
  await byId.execute(1, 2);
  // @ts-expect-error: wrong result type
  const wrong: string = await byId.execute(1);
  void wrong;
  // @ts-expect-error: wrong event name
  all.on("events", () => {});
  // @ts-expect-error: "stateChange" listeners receive states, not an event
  all.on("stateChange", (from: EventType) => void from);
  // @ts-expect-error: configure() takes settings only, not name/clock/isBadRequest
  all.configure({ name: "other" });
  // @ts-expect-error: the run must be a function
  new Command(42);
  // @ts-expect-error: the fallback receives the run's arguments
  new Command((n: number) => n, (_e, n: string) => n.length);
  // @ts-expect-error: the fallback receives the caller's arguments, not the context
  new Command((_ctx: RunContext, n: number) => n, (_e, n: RunContext) => n.attempt, { withContext: true });
  // @ts-expect-error: withContext is true or false
  new Command(() => 1, null, { withContext: 1 });
  // @ts-expect-error: without withContext the run gets no context: its first parameter is the caller's
  new Command((ctx: RunContext) => ctx.attempt).execute();
  // @ts-expect-error: configure() does not take withContext (it is not a circuit setting)
  all.configure({ withContext: true });
  // @ts-expect-error: a snapshot has no such field
  void all.snapshot().errors;
  // @ts-expect-error: InvalidConfigError.key is read-only
  new InvalidConfigError().key = "x";
  // @ts-expect-error: getCommand may return undefined
  getCommand("maybe").snapshot();
  // @ts-expect-error: advance takes a number
  await clock.advance("5");

  // The context parameter may be left unannotated (it is a RunContext), or left out entirely.
  const inferred = new Command(async (ctx, id: number) => ({ id, aborted: ctx.signal.aborted }), (_err, id) => ({ id: -id, aborted: false }), {
    timeoutMs: 100,
    withContext: true,
  });
  assertType<Equal<Parameters<typeof inferred.execute>, [number]>>();
  // @ts-expect-error: a RunContext has no such field
  new Command((ctx, id: number) => ctx.attemptt + id, null, { withContext: true });
  // Default and optional trailing parameters are the caller's to give or leave out.
  // (An unannotated default is typed by inference as `any`; annotate it to have it checked.)
  const scaled = new Command((b: number, m: number = 10) => b * m);
  assertType<Equal<Parameters<typeof scaled.execute>, [b: number, m?: number | undefined]>>();
  // @ts-expect-error: the optional parameter is still checked
  await scaled.execute(2, "3");
  const loose: number = await new Command((b: number, m = 10) => b * m).execute(2);
  const s1: number = (await scaled.execute(2)) + (await scaled.execute(2, 3));
  const optional = new Command((url: string, init?: { method: string }) => `${init?.method ?? "GET"} ${url}`);
  const o1: string = (await optional.execute("/a")) + (await optional.execute("/b", { method: "PUT" }));
  const scaledCtx = new Command((_ctx, b: number, m = 10) => b * m, null, { withContext: true });
  const s2: number = await scaledCtx.execute(2);
  void s1, o1, s2, loose;
  const got: { id: number; aborted: boolean } = await inferred.execute(7);
  const noCtx = new Command(async (url: string) => url.length);
  assertType<Equal<Parameters<typeof noCtx.execute>, [string]>>();
  const len: number = await noCtx.execute("https://example.test");
  void got, len;

  // v2: the run's context knows its attempt; a call may take the caller's signal.
  const attempts = new Command(async ({ attempt, signal }: RunContext, id: number) => ({ id, attempt, aborted: signal.aborted }), null, {
    retryMaxAttempts: 3,
    hedgeMaxAttempts: 1,
    withContext: true,
  });
  const ac = new AbortController();
  const withSignal: { id: number; attempt: number; aborted: boolean } | null = await attempts.executeWith({ signal: ac.signal }, 1);
  const noOptions: unknown = await attempts.executeWith({}, 2);
  const snap: Snapshot = attempts.snapshot();
  const limitAndBudget: number = snap.limit + snap.budget;
  const cancelled: InstanceType<typeof h.CancelledError> = new h.CancelledError();
  void withSignal, noOptions, limitAndBudget, cancelled;

  // hystrix/init: the same API plus init(source?).
  await hi.init();
  await hi.init(new URL("https://example.test/hystrix.wasm"));
  await hi.init(new Uint8Array(8));
  const viaInit: number = await new hi.Command(() => 1).execute();
  void viaInit;
}

// dispose(): whether the circuit was live; `disposed` afterwards.
{
  const short = new h.Command(() => 1);
  const wasLive: boolean = short.dispose();
  const gone: boolean = short.disposed;
  void wasLive;
  void gone;
}
