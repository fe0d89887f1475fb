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
