// Node app: prints the check's result as one JSON line.
import { Command, CircuitOpenError, TimeoutError, VirtualClock } from "hystrix";
import { check } from "./check.mjs";

// Keeps the process alive while the real-clock timeout is pending.
const keep = setInterval(() => {}, 1000);
console.log(JSON.stringify(await check({ Command, CircuitOpenError, TimeoutError, VirtualClock })));
clearInterval(keep);
