// Browser app: the page's result is `window.hystrixCheck` (a promise).
import { Command, CircuitOpenError, TimeoutError, VirtualClock } from "hystrix-resilience";
import { check } from "./check.mjs";

window.hystrixCheck = check({ Command, CircuitOpenError, TimeoutError, VirtualClock }).then(
  (result) => ({ result }),
  (e) => ({ error: String(e?.stack ?? e) }),
);
