// The observer module (the core's renderers, in their own wasm) for
// browsers and bundlers, loaded with top-level await, like the browser
// entry's command module (its file, observer/hystrix_wasm_observer_bg.wasm,
// is found relative to the glue). Imported by `hystrix-resilience/dashboard`
// only, so that a page without the dashboard loads no renderer.
import { initObserver } from "./observer-init.mjs";

await initObserver();
