// Types of dashboard-view.mjs, which scripts/build-npm.sh copies from the
// core (core/src/observe/dashboard.js): for tsc --checkJs of dashboard.mjs
// only (scripts/js-typecheck.sh); not shipped, and the core's script itself
// is not type-checked.

/** What `dashboardView` returns: draw a parsed stream frame, set the status line, end the view's timer. */
export interface DashboardView {
  show(frame: unknown): void;
  status(text: string): void;
  stop(): void;
}

/** Draws the dashboard inside `host` (an element or a shadow root); `stream` adds the served page's stream picker. */
export function dashboardView(host: Element | ShadowRoot, stream?: string): DashboardView;
