// `hystrix-resilience/observe` (Node): the core renders, this module serves (issue
// #12). The named commands of the registry — or a list given — are
// gathered into a WasmObservation, each at its own clock's time, and the
// core renders the Hystrix 1.5 `hystrix.stream` tick and the Prometheus
// exposition; the dashboard page is the core's bytes. Handlers take
// node:http's (req, res), which Express hands over as they are.
import "./index.node.mjs";
import "./observer.node.mjs";
import { dashboardHtml as pageHtml, observeConstants } from "./observer/hystrix_wasm_observer.js";
import { render } from "./render.mjs";

/** @typedef {import("./observe.js").ObserveRequest} ObserveRequest */
/** @typedef {import("./observe.js").ObserveResponse} ObserveResponse */
/** @typedef {import("./observe.js").RenderOptions} RenderOptions */

export { promClientCollector } from "./observe-prom.mjs";
export { otelInstruments } from "./observe-otel.mjs";

const CONSTANTS = JSON.parse(observeConstants());

/** The Prometheus exposition's content type (`text/plain; version=0.0.4; charset=utf-8`). */
export const PROMETHEUS_CONTENT_TYPE = CONSTANTS.prometheusContentType;
/** The dashboard page's content type. */
export const DASHBOARD_CONTENT_TYPE = CONSTANTS.dashboardContentType;
/** The response headers of `hystrix.stream` (Hystrix 1.5's servlet), name to value. */
export const STREAM_HEADERS = Object.freeze(Object.fromEntries(CONSTANTS.streamHeaders));
/** The keep-alive written after every tick. */
export const PING = CONSTANTS.ping;
/** Hystrix's default interval between ticks (ms) and limit of stream connections. */
export const DEFAULT_INTERVAL_MS = CONSTANTS.intervalMs;
export const DEFAULT_MAX_CONNECTIONS = CONSTANTS.maxConnections;

const PAGE = pageHtml();

/**
 * Checks that `value` is a whole number ≥ `min` (or undefined: `fallback`).
 * @template F
 * @param {number | undefined} value
 * @param {F} fallback
 * @param {string} name
 * @param {number} min
 * @returns {number | F}
 */
function wholeOption(value, fallback, name, min) {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

/**
 * The Prometheus text exposition of the registry's named commands (or of
 * `options.commands`: commands, views or names), rendered by the core.
 * @param {RenderOptions} [options]
 */
export function metricsText(options) {
  return render(options, "metricsText", (o) => o.prometheus());
}

/**
 * The metric families `metricsText` is written from, as the core gives
 * them: `[{ name, help, type, unit, otelUnit, labelNames, samples }]`
 * (histograms also have `buckets`; see observe.d.ts). What the prom-client
 * and OpenTelemetry bridges read: they know no metric name themselves.
 * @param {RenderOptions} [options]
 * @returns {import("./observe.js").MetricFamily[]}
 */
export function metricFamilies(options) {
  return JSON.parse(render(options, "metricFamilies", (o) => o.families()));
}

/**
 * One tick of `hystrix.stream`: `data: {json}\n\n` per command, sorted by
 * name ("" without commands). `options.wallClockMs` is the frames'
 * `currentTime` (default `Date.now()`); `options.commands` as for `metricsText`.
 * @param {import("./observe.js").StreamFramesOptions} [options]
 */
export function streamFrames(options) {
  const wall = wholeOption(options?.wallClockMs, undefined, "streamFrames: options.wallClockMs", 0) ?? Date.now();
  return render(options, "streamFrames", (o) => o.streamFrames(wall));
}

/** The built-in dashboard page (one self-contained HTML file). */
export function dashboardHtml() {
  return PAGE;
}

/**
 * Answers `status` with the one-line reason `body` (plain text).
 * @param {ObserveResponse} res
 * @param {number} status
 * @param {string} body
 * @param {Record<string, string>} [headers]
 */
function plain(res, status, body, headers = {}) {
  // Not `writeHead(...).end(...)`: only node:http's writeHead returns the response.
  res.writeHead(status, { ...headers, "Content-Type": "text/plain", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Answers 405 to anything but GET and HEAD; whether it did.
 * @param {ObserveRequest} req
 * @param {ObserveResponse} res
 */
function refuseMethod(req, res) {
  if (req.method === "GET" || req.method === "HEAD") return false;
  plain(res, 405, "only GET\n", { Allow: "GET, HEAD" });
  return true;
}

/**
 * Sends `body` with `type` (no body for HEAD).
 * @param {ObserveRequest} req
 * @param {ObserveResponse} res
 * @param {string} type
 * @param {string} body
 */
function send(req, res, type, body) {
  res.writeHead(200, { "Content-Type": type, "Content-Length": Buffer.byteLength(body) });
  res.end(req.method === "HEAD" ? undefined : body);
}

/**
 * A 500 with the reason (a broken clock, a command gone…).
 * @param {ObserveResponse} res
 * @param {any} e what rendering threw
 */
function fail(res, e) {
  if (res.headersSent) return res.destroy(e);
  plain(res, 500, `hystrix: rendering failed: ${e?.message ?? e}\n`);
}

/**
 * `(req, res)` serving `metricsText(options)` as Prometheus text (format 0.0.4).
 * @param {RenderOptions} [options]
 * @returns {import("./observe.js").Handler}
 */
export function metricsHandler(options) {
  metricsText(options); // Bad options fail here, not at the first scrape.
  return (req, res) => {
    if (refuseMethod(req, res)) return;
    let body;
    try {
      body = metricsText(options);
    } catch (e) {
      return fail(res, e);
    }
    send(req, res, PROMETHEUS_CONTENT_TYPE, body);
  };
}

/**
 * `(req, res)` serving the dashboard page; it reads `hystrix.stream` next to itself, or its `?stream=` URL.
 * @returns {import("./observe.js").Handler}
 */
export function dashboardHandler() {
  return (req, res) => {
    if (refuseMethod(req, res)) return;
    send(req, res, DASHBOARD_CONTENT_TYPE, PAGE);
  };
}

/**
 * Why a request's `delay` (Hystrix 1.4's per-client interval, ignored) is refused, or null.
 * @param {ObserveRequest} req
 */
function badDelay(req) {
  const query = new URL(req.url ?? "/", "http://x").searchParams;
  for (const value of query.getAll("delay")) {
    if (!/^[0-9]+$/.test(value) || Number(value) < 1) {
      return `bad query: delay must be a positive integer of milliseconds (got ${JSON.stringify(value)})\n`;
    }
  }
  return null;
}

/**
 * `(req, res)` serving `hystrix.stream` as server-sent events: Hystrix
 * 1.5's headers, then every `intervalMs` (default 500) one tick rendered
 * once for every client, followed by `ping: \n\n`. Past `maxConnections`
 * (default 5) clients a request gets 503 with the reason. A client that
 * does not read loses ticks (never buffered without bound) and is dropped
 * after `writeTimeoutMs` (default 10 000). The ticker runs only while a
 * client is connected and never keeps the process alive (unref'd).
 * `headers` are added to every answer (e.g. CORS). The handler's `stats()`
 * reports `{ clients, served, refused, dropped }`; `close()` ends every
 * stream. `commands` as for `metricsText`.
 * @param {import("./observe.js").StreamHandlerOptions} [options]
 * @returns {import("./observe.js").StreamHandler}
 */
export function streamHandler(options = {}) {
  if (options === null || typeof options !== "object") throw new TypeError("streamHandler: options must be an object");
  const intervalMs = wholeOption(options.intervalMs, DEFAULT_INTERVAL_MS, "streamHandler: options.intervalMs", 1);
  const maxConnections = wholeOption(options.maxConnections, DEFAULT_MAX_CONNECTIONS, "streamHandler: options.maxConnections", 0);
  const writeTimeoutMs = wholeOption(options.writeTimeoutMs, 10_000, "streamHandler: options.writeTimeoutMs", 1);
  const extra = options.headers ?? {};
  if (extra === null || typeof extra !== "object") throw new TypeError("streamHandler: options.headers must be an object");
  const renderOptions = { commands: options.commands };
  render(renderOptions, "streamHandler", () => {}); // Bad commands fail now.

  /** @typedef {{ res: ObserveResponse, stalledSince: number | null }} Client */
  /** @type {Set<Client>} */
  const clients = new Set();
  const stats = { served: 0, refused: 0, dropped: 0 };
  /** @type {ReturnType<typeof setInterval> | null} */
  let ticker = null;

  const tick = () => {
    let text;
    try {
      text = render(renderOptions, "streamHandler", (o) => o.streamFrames(Date.now())) + PING;
    } catch (e) {
      for (const c of clients) c.res.destroy(/** @type {Error} */ (e));
      return;
    }
    const now = Date.now();
    for (const c of clients) {
      if (c.stalledSince !== null) {
        stats.dropped += 1;
        if (now - c.stalledSince >= writeTimeoutMs) c.res.destroy();
        continue;
      }
      if (!c.res.write(text)) c.stalledSince = now;
    }
  };
  const leave = (/** @type {Client} */ c) => {
    if (!clients.delete(c)) return;
    if (clients.size === 0 && ticker !== null) {
      clearInterval(ticker);
      ticker = null;
    }
  };

  const handler = (/** @type {ObserveRequest} */ req, /** @type {ObserveResponse} */ res) => {
    if (refuseMethod(req, res)) return;
    const bad = badDelay(req);
    if (bad !== null) return plain(res, 400, bad, extra);
    if (clients.size >= maxConnections) {
      stats.refused += 1;
      plain(res, 503, `MaxConcurrentConnections reached: ${maxConnections}\n`, extra);
      return;
    }
    stats.served += 1;
    res.writeHead(200, { ...STREAM_HEADERS, ...extra });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    res.flushHeaders?.();
    const c = { res, stalledSince: null };
    clients.add(c);
    res.on("drain", () => (c.stalledSince = null));
    res.on("close", () => leave(c));
    res.on("error", () => leave(c)); // a write to a client that is gone: it leaves, the process lives on
    req.on("close", () => {
      // The client hung up (an IncomingMessage also closes after its body
      // has been read: only a destroyed socket means gone).
      if (req.socket?.destroyed) leave(c);
    });
    if (ticker === null) {
      ticker = setInterval(tick, intervalMs);
      ticker.unref();
    }
  };
  handler.stats = () => ({ clients: clients.size, ...stats });
  handler.close = () => {
    for (const c of [...clients]) {
      c.res.end();
      leave(c);
    }
  };
  return handler;
}
