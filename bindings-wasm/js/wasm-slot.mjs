// Where an entry point puts the loaded wasm module's exports (internal).
import { HystrixError } from "./errors.mjs";
import { guardClass, guarded, probe } from "./headroom.mjs";

/** The wasm-bindgen class of the core's commands (web and bundler builds declare it alike). @typedef {typeof import("./web/hystrix_wasm.js").WasmCommand} WasmCommandClass */

/**
 * `WasmCommand` null until an entry point has loaded the command module (`hystrix-resilience/init` before `await init()`);
 * whatever can run first checks (see `notLoaded`). `WasmObservation` and
 * `dashboardHtml` null until the observer module (the renderers: its own
 * wasm, js/observer.*.mjs) is loaded, by the observe and dashboard entries.
 * @type {{
 *   WasmCommand: WasmCommandClass | null,
 *   WasmObservation: typeof import("./observer/hystrix_wasm_observer.js").WasmObservation | null,
 *   dashboardHtml: (() => string) | null,
 * }}
 */
export const slot = { WasmCommand: null, WasmObservation: null, dashboardHtml: null };

/** @typedef {import("./web/hystrix_wasm.js").WasmCommand} WasmCommandInstance */

/**
 * The wasm calls the call interpreter (call.mjs) makes in a run of the glue
 * that a probed crossing began: unguarded (`fill` keeps them before it
 * guards the class), as a probe of their own, a few frames deeper than the
 * one that passed, could fail there and give up a call for nothing.
 */
export const raw = {
  /** @type {() => number} */
  actionsPtr: () => 0,
  /** @type {() => WebAssembly.Memory} */
  wasmMemory: () => {
    throw notLoaded("reading the action buffer");
  },
  /** @type {() => string} */
  contextSettings: () => "",
  /** @type {(this: WasmCommandInstance, code: number, elapsedMs: number) => number} */
  context: () => 0,
  /** @type {() => number} */
  contextValue: () => 0,
};

/** The wasm-bindgen classes whose methods `fill` put behind the probe already. */
const guardedClasses = new WeakSet();

/**
 * Fills `slot` with the command module's class (an entry point, once the
 * wasm is instantiated; it says the wasm is loaded), every call into the
 * wasm behind the stack headroom check (`headroom.mjs`):
 * `WasmCommand.begin` with fixed arity, every other method through
 * `guardClass` — except `input`, the hot path's second crossing, and
 * constructors: their callers call `probe` first (call.mjs says where
 * `input` need not; it also calls the methods in `raw` unguarded).
 * @param {WasmCommandClass} WasmCommand
 */
export function fill(WasmCommand) {
  if (!guardedClasses.has(WasmCommand)) {
    guardedClasses.add(WasmCommand);
    raw.actionsPtr = WasmCommand.actionsPtr;
    raw.wasmMemory = WasmCommand.wasmMemory;
    raw.contextSettings = WasmCommand.contextSettings;
    raw.context = WasmCommand.prototype.context;
    raw.contextValue = WasmCommand.contextValue;
    guardClass(WasmCommand, ["begin", "input"]);
    const p = WasmCommand.prototype;
    const begin = p.begin;
    /** @type {typeof begin} */
    p.begin = function (now, hasFallback, general) {
      probe();
      return begin.call(this, now, hasFallback, general);
    };
  }
  slot.WasmCommand = WasmCommand;
}

/**
 * Fills `slot` with the observer module's exports (observer.node.mjs,
 * observer-init.mjs, once it is instantiated), behind the same headroom
 * check as the command module's (the constructor: render.mjs probes).
 * @param {typeof import("./observer/hystrix_wasm_observer.js").WasmObservation} WasmObservation
 * @param {() => string} dashboardHtml
 */
export function fillObserver(WasmObservation, dashboardHtml) {
  if (!guardedClasses.has(WasmObservation)) {
    guardedClasses.add(WasmObservation);
    guardClass(WasmObservation, []);
  }
  slot.dashboardHtml = guarded(dashboardHtml);
  slot.WasmObservation = WasmObservation;
}

/**
 * The wasm's shadow stack pointer (its `__stack_pointer` global, exported
 * by the build) and what it must read whenever no wasm frame is live. A JS
 * stack overflow that lands inside a wasm frame unwinds it without the
 * epilogue that pops its shadow-stack frame: left so, every such overflow
 * would leak a frame until the shadow stack ran into the heap ("memory
 * access out of bounds" in every command). `repairStack` puts it back.
 * `saved` holds its value at each listener the wasm is calling now (the
 * only JS that runs while a wasm frame is live).
 * @type {{ sp: WebAssembly.Global | null, top: number, saved: number[] }}
 */
export const shadow = { sp: null, top: 0, saved: [] };

/**
 * Records the wasm's exports' shadow stack pointer (an entry point, right
 * after instantiating, with no wasm frame live).
 * @param {Record<string, unknown>} exports
 */
export function trackShadowStack(exports) {
  const sp = exports.__stack_pointer;
  if (sp instanceof WebAssembly.Global) {
    shadow.sp = sp;
    shadow.top = sp.value;
  }
}

/**
 * Puts the shadow stack pointer back where it was when the wasm frames
 * live now were entered (after a JS exception came out of a wasm call).
 */
export function repairStack() {
  const sp = shadow.sp;
  if (sp === null) return;
  const saved = shadow.saved;
  const want = saved.length === 0 ? shadow.top : saved[saved.length - 1];
  if (sp.value !== want) sp.value = want;
}

/**
 * The error for `doing` something before the wasm is loaded (`hystrix-resilience/init` before `await init()`).
 * @param {string} doing
 */
export function notLoaded(doing) {
  return new HystrixError(`hystrix is not loaded yet: with "hystrix-resilience/init", await init() before ${doing}`);
}
