// Browser app through the entry without top-level await ("hystrix-resilience/init"),
// built as an es2020 IIFE: it loads the wasm from a URL of its choosing.
import { init, Command, CircuitOpenError, TimeoutError, VirtualClock } from "hystrix-resilience/init";
import { check } from "./check.mjs";

window.hystrixCheck = init(new URL("./hystrix.wasm", document.baseURI))
  .then(() => check({ Command, CircuitOpenError, TimeoutError, VirtualClock }))
  .then(
    (result) => ({ result }),
    (e) => ({ error: String(e?.stack ?? e) }),
  );
