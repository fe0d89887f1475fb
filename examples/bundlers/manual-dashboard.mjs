// The dashboard app through the entries without top-level await
// ("hystrix-resilience/init", "hystrix-resilience/dashboard/init"), built as an
// es2020 IIFE: it loads both wasm modules from URLs of its choosing.
import { init, Command, VirtualClock } from "hystrix-resilience/init";
import { init as initDashboard, mountDashboard } from "hystrix-resilience/dashboard/init";
import { checkDashboard } from "./dashboard-check.mjs";

window.hystrixCheck = Promise.all([
  init(new URL("./hystrix.wasm", document.baseURI)),
  initDashboard(new URL("./hystrix-observer.wasm", document.baseURI)),
])
  .then(() => checkDashboard({ Command, VirtualClock, mountDashboard }))
  .then(
    (result) => ({ result }),
    (e) => ({ error: String(e?.stack ?? e) }),
  );
