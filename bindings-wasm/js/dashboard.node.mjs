// `hystrix-resilience/dashboard` under Node (no DOM of its own: for pages
// rendered by jsdom and the like, and for tests): loads the observer module
// from its bytes, then is dashboard-mount.mjs.
import "./observer.node.mjs";

export * from "./dashboard-mount.mjs";
