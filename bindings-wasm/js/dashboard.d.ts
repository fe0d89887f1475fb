// Types for `hystrix-resilience/dashboard` (browsers): the built-in dashboard fed by the page's own commands.
import type { CommandView } from "./index.js";

/** Options of `mountDashboard`. */
export interface MountDashboardOptions {
  /** Commands, views or registered names to show (a name nobody registered is a RangeError); by default every named command, looked up at each refresh. */
  commands?: ReadonlyArray<CommandView | string>;
  /** Milliseconds between refreshes: an integer ≥ 1 (default 500). */
  intervalMs?: number;
}

/** A mounted dashboard. */
export interface MountedDashboard {
  /** Draws a tick now; whether it drew (false once stopped, or when rendering failed). */
  refresh(): boolean;
  /** Ends the feeding and the view's timers; the last tick stays shown. Idempotent. */
  stop(): void;
  /** Stops, then removes the dashboard from its element. Idempotent. Where the runtime has `Symbol.dispose`, `[Symbol.dispose]()` does the same (for `using`). */
  dispose(): void;
  /** Whether it is still fed. */
  readonly running: boolean;
  /** The (open) shadow root the dashboard is drawn in. */
  readonly root: ShadowRoot;
}

/** Milliseconds between two refreshes by default: 500. */
export const DEFAULT_REFRESH_MS: number;

/**
 * Mounts the built-in dashboard into `element` (in a shadow root) and feeds
 * it, every `intervalMs`, the `hystrix.stream` frames the core renders for
 * the page's own commands: no server, no EventSource. Load the package
 * (import "hystrix-resilience", or await init()) first.
 */
export function mountDashboard(element: Element, options?: MountDashboardOptions): MountedDashboard;
