// Typed usage of bindings-wasm/js/dashboard.d.ts (`hystrix-resilience/dashboard`).
// Checked, never run: tsc -p bindings-wasm/test/tsconfig.json.
import type * as dashboard from "hystrix-resilience/dashboard";
import type { Command } from "hystrix-resilience";
import type { MountedDashboard } from "hystrix-resilience/dashboard";

export function dashboardUsage(d: typeof dashboard, cmd: Command, element: Element): void {
  const all: MountedDashboard = d.mountDashboard(element);
  const some = d.mountDashboard(element, { commands: [cmd, "users"], intervalMs: 250 });
  const drew: boolean = some.refresh();
  const running: boolean = some.running;
  const root: ShadowRoot = some.root;
  const n: number = d.DEFAULT_REFRESH_MS;
  some.stop();
  all.dispose();
  // @ts-expect-error intervalMs is a number
  d.mountDashboard(element, { intervalMs: "fast" });
  // @ts-expect-error commands are commands or names
  d.mountDashboard(element, { commands: [42] });
  // @ts-expect-error the element is a DOM element
  d.mountDashboard("#dashboard");
  void [drew, running, root, n];
}
