// JavaScript's verdicts on the configurations in stdin (one JSON object per
// line): each object's SPEC keys written as the camelCase options a JS user
// passes (`timeout_ms` -> `timeoutMs`), after JSON.parse; refusals are
// named back in SPEC keys.
import { createInterface } from "node:readline";
import { Command, InvalidConfigError } from "../../target/npm/hystrix/index.node.mjs";

const camel = (k) => k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
const snake = (k) => k.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
const out = [];
for await (const line of createInterface({ input: process.stdin })) {
  const options = Object.fromEntries(Object.entries(JSON.parse(line)).map(([k, v]) => [camel(k), v]));
  try {
    new Command(() => null, null, options);
    out.push("ok");
  } catch (e) {
    if (!(e instanceof InvalidConfigError)) throw e;
    out.push(`err ${snake(e.key)}`);
  }
}
process.stdout.write(out.join("\n") + "\n");
