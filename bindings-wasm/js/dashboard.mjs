// `hystrix-resilience/dashboard` for browsers and bundlers: loads the
// observer module (the renderers' wasm, with top-level await), then is
// dashboard-mount.mjs. Listed in package.json's sideEffects, as the module
// it loads is: a bundler must not drop the loading.
import "./observer.web.mjs";

export * from "./dashboard-mount.mjs";
