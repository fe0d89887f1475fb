// Node app: prints the check's result as one JSON line.
import { Command, CircuitOpenError, TimeoutError, VirtualClock } from "hystrix-resilience";
import { check } from "./check.mjs";

console.log(JSON.stringify(await check({ Command, CircuitOpenError, TimeoutError, VirtualClock })));
