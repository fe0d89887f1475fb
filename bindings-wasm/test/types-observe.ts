// Typed usage of bindings-wasm/js/observe.d.ts (`hystrix-resilience/observe`).
// Checked, never run: tsc -p bindings-wasm/test/tsconfig.json. Type-only
// imports in a function never called, as in types-usage.ts.
import type * as observe from "hystrix-resilience/observe";
import type { Command } from "hystrix-resilience";
import type { ObserveRequest, ObserveResponse, StreamHandler, StreamStats } from "hystrix-resilience/observe";

export function observeUsage(
  o: typeof observe,
  cmd: Command,
  req: ObserveRequest,
  res: ObserveResponse,
  promClient: observe.PromClientModule,
  meter: observe.OtelMeter,
): void {
  const text: string = o.metricsText();
  const some: string = o.metricsText({ commands: [cmd, "users"] });
  const tick: string = o.streamFrames({ wallClockMs: 1, commands: ["users"] });
  const page: string = o.dashboardHtml();
  const ct: string = o.PROMETHEUS_CONTENT_TYPE + o.DASHBOARD_CONTENT_TYPE + o.PING;
  const headers: Readonly<Record<string, string>> = o.STREAM_HEADERS;
  const n: number = o.DEFAULT_INTERVAL_MS + o.DEFAULT_MAX_CONNECTIONS;
  o.metricsHandler()(req, res);
  o.dashboardHandler()(req, res);
  const stream: StreamHandler = o.streamHandler({ intervalMs: 250, maxConnections: 10, writeTimeoutMs: 5000, headers: { "Access-Control-Allow-Origin": "*" } });
  stream(req, res);
  const stats: StreamStats = stream.stats();
  const clients: number = stats.clients + stats.served + stats.refused + stats.dropped;
  stream.close();
  // The stream handler listens for "error" on the response too (a client gone mid-write).
  res.on("error", () => {});
  // writeHead's result is not used: a response whose writeHead returns nothing fits.
  const minimal: ObserveResponse = {
    headersSent: false,
    writeHead() {},
    write: () => true,
    end() {},
    destroy() {},
    on() {},
  };
  o.metricsHandler()(req, minimal);

  // @ts-expect-error intervalMs is a number
  o.streamHandler({ intervalMs: "fast" });
  // @ts-expect-error commands are commands or names
  o.metricsText({ commands: [42] });
  const families: observe.MetricFamily[] = o.metricFamilies({ commands: ["users"] });
  for (const f of families) {
    if (f.type === "histogram") {
      const bounds: number[] = f.buckets;
      const counts: number[] = f.samples[0].counts;
      void [bounds, counts, f.samples[0].sum];
    } else {
      const v: number = f.samples[0].value;
      void [v, f.otelUnit, f.labelNames];
    }
  }
  const prom = o.promClientCollector(promClient, { registers: [promClient.register], commands: ["users"] });
  prom.unregister();
  const otel = o.otelInstruments(meter, { commands: [cmd] });
  otel.close();
  // @ts-expect-error the prom-client module, not a registry
  o.promClientCollector(promClient.register);
  void [text, some, tick, page, ct, headers, n, clients, prom.metrics, otel.instruments];
}
