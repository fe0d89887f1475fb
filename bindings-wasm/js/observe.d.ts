// Types for `hystrix-resilience/observe` (Node): the core renders, these serve.
import type { CommandView } from "./index.js";

/** What the handlers read of a request: node:http's `IncomingMessage` (Express's `req`) fits. */
export interface ObserveRequest {
  method?: string;
  url?: string;
  socket?: { destroyed?: boolean } | null;
  on(event: "close", listener: () => void): unknown;
}

/** What the handlers use of a response: node:http's `ServerResponse` (Express's `res`) fits. */
export interface ObserveResponse {
  readonly headersSent: boolean;
  writeHead(status: number, headers?: Record<string, string | number>): unknown;
  write(chunk: string): boolean;
  end(chunk?: string): unknown;
  destroy(error?: Error): unknown;
  flushHeaders?(): void;
  /** The stream handler listens for all three ("error": a write to a client that is gone). */
  on(event: "close" | "drain" | "error", listener: () => void): unknown;
}

/** Which commands to render: the registry's named commands by default. */
export interface RenderOptions {
  /** Commands, views or registered names (a name nobody registered is a RangeError). */
  commands?: ReadonlyArray<CommandView | string>;
}

/** Options of `streamFrames`. */
export interface StreamFramesOptions extends RenderOptions {
  /** The frames' `currentTime` in epoch milliseconds (default `Date.now()`). */
  wallClockMs?: number;
}

/** Options of `streamHandler`. */
export interface StreamHandlerOptions extends RenderOptions {
  /** Milliseconds between ticks (default 500). */
  intervalMs?: number;
  /** Streams served at once; past it a client gets 503 (default 5). */
  maxConnections?: number;
  /** A client that reads nothing for this long is dropped (default 10 000 ms). */
  writeTimeoutMs?: number;
  /** Headers added to every answer, e.g. `{ "Access-Control-Allow-Origin": "*" }`. */
  headers?: Record<string, string>;
}

/** A node:http (or Express) request handler. */
export type Handler = (req: ObserveRequest, res: ObserveResponse) => void;

/** What a stream handler has done so far. */
export interface StreamStats {
  /** Clients connected now. */
  clients: number;
  /** Streams served since the handler was made. */
  served: number;
  /** Requests refused with 503. */
  refused: number;
  /** Ticks a slow client missed. */
  dropped: number;
}

/** The `hystrix.stream` handler, with its counters and a way to end every stream. */
export interface StreamHandler extends Handler {
  /** The handler's counters. */
  stats(): StreamStats;
  /** Ends every open stream. */
  close(): void;
}

/** `text/plain; version=0.0.4; charset=utf-8`. */
export const PROMETHEUS_CONTENT_TYPE: string;
/** `text/html; charset=utf-8`. */
export const DASHBOARD_CONTENT_TYPE: string;
/** The `hystrix.stream` response headers (Hystrix 1.5), name to value. */
export const STREAM_HEADERS: Readonly<Record<string, string>>;
/** `ping: \n\n`, written after every tick. */
export const PING: string;
/** 500 ms. */
export const DEFAULT_INTERVAL_MS: number;
/** 5 connections. */
export const DEFAULT_MAX_CONNECTIONS: number;

/** The Prometheus text exposition (format 0.0.4) of the commands, rendered by the core. */
export function metricsText(options?: RenderOptions): string;
/** One `hystrix.stream` tick: `data: {json}\n\n` per named command, sorted by name. */
export function streamFrames(options?: StreamFramesOptions): string;
/** The built-in dashboard page. */
export function dashboardHtml(): string;
/** Serves `metricsText(options)` with the Prometheus content type. */
export function metricsHandler(options?: RenderOptions): Handler;
/** Serves `hystrix.stream` as server-sent events. */
export function streamHandler(options?: StreamHandlerOptions): StreamHandler;
/** Serves the dashboard page. */
export function dashboardHandler(): Handler;

/** One series of a counter or gauge family: label values (in `labelNames` order) and its value. */
export interface MetricSample {
  labels: string[];
  value: number;
}

/** One series of a histogram family: label values, cumulative counts per bound, count and sum. */
export interface HistogramSample {
  labels: string[];
  /** Observations at or below each of the family's `buckets` (cumulative). */
  counts: number[];
  /** Every observation (the `+Inf` bucket). */
  count: number;
  /** The sum of the observations, in the family's unit. */
  sum: number;
}

/** What every metric family has. */
interface MetricFamilyBase {
  /** The metric's name (`hystrix_…`; counters end in `_total`). */
  name: string;
  /** One sentence on what it counts. */
  help: string;
  /** The Prometheus unit word: `"seconds"` or `""`. */
  unit: string;
  /** The same unit for OpenTelemetry (UCUM): `"s"` or `""`. */
  otelUnit: string;
  /** Label names of every series, `name` and `group` first. */
  labelNames: string[];
}

/** A counter or gauge family. */
export interface ScalarMetricFamily extends MetricFamilyBase {
  type: "counter" | "gauge";
  samples: MetricSample[];
}

/** A histogram family. */
export interface HistogramMetricFamily extends MetricFamilyBase {
  type: "histogram";
  /** Upper bounds of the buckets, ascending (`+Inf` implied). */
  buckets: number[];
  /** The same bounds as the text exposition writes them (`"0.005"`, … `"10"`). */
  le: string[];
  samples: HistogramSample[];
}

/** One metric family, as the core renders it (`metricsText` is written from these). */
export type MetricFamily = ScalarMetricFamily | HistogramMetricFamily;

/** The metric families of the commands (the structured form of `metricsText`). */
export function metricFamilies(options?: RenderOptions): MetricFamily[];

/** What the bridge uses of a prom-client `Registry`. */
export interface PromClientRegistry {
  registerMetric(metric: any): void;
  removeSingleMetric(name: string): void;
  getSingleMetric(name: string): unknown;
}

/** What the bridge uses of the prom-client module (pass `import * as promClient from "prom-client"`). */
export interface PromClientModule {
  Counter: new (config: any) => object;
  Gauge: new (config: any) => object;
  Histogram: new (config: any) => object;
  register: PromClientRegistry;
}

/** Options of `promClientCollector`. */
export interface PromClientOptions extends RenderOptions {
  /** The registries to join (default `[promClient.register]`). */
  registers?: PromClientRegistry[];
}

/** The prom-client metrics made, one per family, and a way to remove them. */
export interface PromClientBridge {
  /** prom-client Counter, Gauge and Histogram objects (their `get()` reads the core). */
  metrics: object[];
  /** Removes the metrics from every registry they joined. */
  unregister(): void;
}

/** Registers one prom-client metric per family, filled from a fresh render at each scrape. */
export function promClientCollector(promClient: PromClientModule, options?: PromClientOptions): PromClientBridge;

/** What the bridge uses of an OpenTelemetry `Meter` (`@opentelemetry/api` ≥ 1.3). */
export interface OtelMeter {
  createObservableCounter(name: string, options?: { description?: string; unit?: string }): any;
  createObservableGauge(name: string, options?: { description?: string; unit?: string }): any;
  addBatchObservableCallback(callback: (result: any) => void, observables: any[]): void;
  removeBatchObservableCallback(callback: (result: any) => void, observables: any[]): void;
}

/** What the bridge uses of the `@opentelemetry/api` module: its global meter provider. */
export interface OtelApi {
  metrics: { getMeter(name: string, version?: string): OtelMeter };
}

/** The observable instruments made and a way to stop observing. */
export interface OtelBridge {
  /** The instruments (a histogram family has three: `_bucket`, `_sum`, `_count`). */
  instruments: unknown[];
  /** Removes the batch callback: nothing more is observed. */
  close(): void;
}

/**
 * Observable instruments for every family on a meter (or the api module's
 * global meter `hystrix-resilience`): counters as ObservableCounters,
 * gauges as ObservableGauges, histograms as `_bucket` (attribute `le`),
 * `_sum` and `_count` ObservableCounters; one render per collection.
 */
export function otelInstruments(meterOrApi: OtelMeter | OtelApi, options?: RenderOptions): OtelBridge;
