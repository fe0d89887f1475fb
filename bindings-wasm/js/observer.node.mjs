// The observer module (the core's renderers, in their own wasm) for Node:
// instantiated synchronously from its bytes (node/observer-wasm.mjs), as
// index.node.mjs instantiates the command module; imported by the observe
// and dashboard entries only, so that importing the package loads no
// renderer. Puts its exports into the slot.
import { Buffer } from "node:buffer";
import { initSync, WasmObservation, dashboardHtml } from "./observer/hystrix_wasm_observer.js";
import wasmBase64 from "./node/observer-wasm.mjs";
import { fillObserver } from "./wasm-slot.mjs";

initSync({ module: Buffer.from(wasmBase64, "base64") });
fillObserver(WasmObservation, dashboardHtml);
