// Where an entry point puts the loaded wasm module's exports (internal).
export const slot = { WasmCommand: null, configSchema: null, WasmObservation: null, dashboardHtml: null };
