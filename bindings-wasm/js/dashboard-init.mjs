// `hystrix-resilience/dashboard/init`: the dashboard without top-level
// await (IIFE, es2020 bundles; apps that host the wasm files), for apps on
// `hystrix-resilience/init`: importing it loads nothing; `await init()` of
// this module loads the observer module (the renderers' wasm), then
// `mountDashboard` works once the package's own `init()` is done too.
export * from "./dashboard-mount.mjs";
export { initObserver as init } from "./observer-init.mjs";
