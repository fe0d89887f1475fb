// `hystrix-resilience/dashboard` (browsers; dashboard.mjs loads the
// observer module first, then is this module): the built-in dashboard mounted
// into a page and fed by that page's own commands — no server, no
// EventSource. Every interval the core renders the `hystrix.stream` tick
// of the commands (the frames a stream would send) and the view draws it.
// The view is the page's own script (dashboard-view.mjs, the core's
// dashboard.js) and its style the page's <style>, taken from the core's
// page: one copy of each. CSP-friendly: no eval, no inline style element
// (a constructed stylesheet in a shadow root).
import { dashboardView } from "./dashboard-view.mjs";
import { describe } from "./clocks.mjs";
import { render } from "./render.mjs";
import { slot } from "./wasm-slot.mjs";

/** Milliseconds between two refreshes of a mounted dashboard, by default (Hystrix's stream interval). */
export const DEFAULT_REFRESH_MS = 500;

/** The page's stylesheet, from the core's dashboard page (made once). @type {string | null} */
let sheetText = null;

/** The <style> of the core's page. */
function pageStyle() {
  if (sheetText === null) {
    // mountDashboard's first render() refused an unloaded wasm.
    const page = /** @type {() => string} */ (slot.dashboardHtml)();
    const start = page.indexOf("<style>");
    const end = page.indexOf("</style>");
    if (start < 0 || end < start) throw new Error("hystrix: the core's dashboard page has no <style> (a broken build)");
    sheetText = `:host{display:block}\n${page.slice(start + "<style>".length, end)}`;
  }
  return sheetText;
}

/**
 * Gives `shadow` the page's style: a constructed stylesheet where supported (no CSP style-src needed), else a <style>.
 * @param {ShadowRoot} shadow
 */
function adoptStyle(shadow) {
  const css = pageStyle();
  const Sheet = shadow.ownerDocument.defaultView?.CSSStyleSheet;
  if (Sheet && "adoptedStyleSheets" in shadow && "replaceSync" in Sheet.prototype) {
    const sheet = new Sheet();
    sheet.replaceSync(css);
    shadow.adoptedStyleSheets = [sheet];
  } else {
    const style = shadow.ownerDocument.createElement("style");
    style.textContent = css;
    shadow.appendChild(style);
  }
}

/**
 * The frames of one `hystrix.stream` tick (`data: {json}\n\n` each), parsed.
 * @param {string} text
 */
function parseTick(text) {
  /** @type {unknown[]} */
  const frames = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("data: ")) frames.push(JSON.parse(line.slice("data: ".length)));
  }
  return frames;
}

/**
 * Checks `options` of mountDashboard; returns `{ commands, intervalMs }`.
 * @param {import("./dashboard.js").MountDashboardOptions} [options]
 */
function checkOptions(options) {
  if (options === undefined) return { commands: undefined, intervalMs: DEFAULT_REFRESH_MS };
  if (options === null || typeof options !== "object") {
    throw new TypeError(`mountDashboard: options must be an object, got ${describe(options)}`);
  }
  const intervalMs = options.intervalMs ?? DEFAULT_REFRESH_MS;
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 1) {
    throw new RangeError(`mountDashboard: options.intervalMs must be an integer ≥ 1 (milliseconds), got ${describe(options.intervalMs)}`);
  }
  return { commands: options.commands, intervalMs };
}

/**
 * Mounts the built-in dashboard into `element` (in a shadow root, so the
 * page's styles and the dashboard's do not mix) and feeds it the page's
 * own commands: `options.commands` (commands, views or registered names;
 * by default every named command, looked up at each refresh), every
 * `options.intervalMs` (default 500). Returns a handle: `refresh()`
 * draws a tick now (while fed; whether it drew), `stop()` ends the
 * feeding and the view's timers (the last tick stays shown), `dispose()`
 * (or `using`) stops and removes the dashboard from `element`. Bad arguments throw at once; a tick that
 * fails (a command disposed since) is reported in the dashboard's status
 * line and the next tick tries again.
 * @param {Element} element
 * @param {import("./dashboard.js").MountDashboardOptions} [options]
 * @returns {import("./dashboard.js").MountedDashboard}
 */
export function mountDashboard(element, options) {
  if (element === null || typeof element !== "object" || typeof element.attachShadow !== "function") {
    throw new TypeError(`mountDashboard: element must be a DOM element, got ${describe(element)}`);
  }
  const { commands, intervalMs } = checkOptions(options);
  const renderOptions = { commands };
  render(renderOptions, "mountDashboard", () => {}); // Bad commands (and an unloaded wasm) fail now.

  const host = element.ownerDocument.createElement("div");
  host.setAttribute("data-hystrix-dashboard", "");
  const shadow = host.attachShadow({ mode: "open" });
  adoptStyle(shadow);
  const view = dashboardView(shadow);
  element.appendChild(host);

  /** @type {ReturnType<typeof setInterval> | null} */
  let timer = null;
  const refresh = () => {
    if (timer === null) return false;
    let frames;
    try {
      frames = parseTick(render(renderOptions, "mountDashboard", (o) => o.streamFrames(Date.now())));
    } catch (/** @type {any} */ e) {
      view.status(`rendering failed: ${e?.message ?? e}`);
      return false;
    }
    // One frame the view cannot draw costs that tile, not the others.
    let failed = 0;
    for (const frame of frames) {
      try {
        view.show(frame);
      } catch {
        failed += 1;
      }
    }
    const note = failed === 0 ? "" : `; ${failed} could not be drawn`;
    view.status(`this page's commands (${frames.length}), every ${intervalMs} ms${note}`);
    return true;
  };
  timer = setInterval(refresh, intervalMs);
  refresh();

  const stop = () => {
    if (timer === null) return;
    clearInterval(timer);
    timer = null;
    view.stop();
  };
  const dispose = () => {
    stop();
    host.remove();
  };
  /** @type {import("./dashboard.js").MountedDashboard & { [Symbol.dispose]?: () => void }} */
  const handle = {

    refresh,
    stop,
    dispose,
    /** Whether it is still fed. */
    get running() {
      return timer !== null;
    },
    /** The shadow root the dashboard is drawn in. */
    get root() {
      return shadow;
    },
  };
  if (typeof Symbol.dispose === "symbol") handle[Symbol.dispose] = dispose;
  return handle;
}
