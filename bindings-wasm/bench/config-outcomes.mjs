// Every outcome of the configurations in stdin (one JSON object of SPEC
// keys per line, as tests/config-diff/cases.py writes them), through one
// npm package, each as a JS user gives it (camelCase options): an
// anonymous construction, a named construction over an existing command
// at default settings (conflicts), a named construction of a new name,
// `configure()` of a configured name before its first use then its
// construction with the same options, and `configure()` of a live
// command. One line per case: each outcome, "ok" or the error's class,
// `.key`, `.command` and message (the conflict's values too). Two
// packages are byte-identical in behaviour on these settings when their
// outputs are equal (BENCHMARKS.md, "Session 11: package size").
//   node bindings-wasm/bench/config-outcomes.mjs PACKAGE_DIR < cases.jsonl > out.txt
import { createInterface } from "node:readline";
import path from "node:path";
import { pathToFileURL } from "node:url";

const pkg = path.resolve(process.argv[2] ?? "target/npm/hystrix");
const { Command, configure, getCommand, removeCommand } = await import(pathToFileURL(path.join(pkg, "index.node.mjs")).href);

const camel = (k) => k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());

/** What `f` did: "ok" (with what `after` reads then) or the error it threw, every field. */
function outcome(f, after = () => "") {
  try {
    f();
    return `ok${after()}`;
  } catch (e) {
    const fields = ["key", "command", "existing", "given"].filter((k) => e[k] !== undefined).map((k) => `${k}=${JSON.stringify(e[k])}`);
    return `${e.constructor.name}(${fields.join(",")}) ${e.message}`;
  }
}

/**
 * The settings in force of the named command, if it has one: the words
 * the observer module reads of it (`observed`: its observer snapshot at
 * time 0 and every setting), an internal of the package both builds have.
 * @param {string} name
 */
function settingsOf(name) {
  const view = getCommand(name);
  return view === undefined ? " (none)" : ` [${Array.from(view._circuit.wasm.observed(0)).join(",")}]`;
}

let n = 0;
const out = [];
for await (const line of createInterface({ input: process.stdin })) {
  const options = Object.fromEntries(Object.entries(JSON.parse(line)).map(([k, v]) => [camel(k), v]));
  const name = `c${n++}`;
  const row = [];
  row.push(outcome(() => new Command(() => null, null, options).dispose()));
  // A named construction over an existing command at default settings.
  const base = new Command(() => null, null, { name });
  row.push(outcome(() => new Command(() => null, null, { ...options, name }), () => settingsOf(name)));
  // configure() of the live command, then what is in force.
  row.push(outcome(() => configure(name, options), () => settingsOf(name)));
  base.dispose();
  removeCommand(name);
  // A new name, constructed with the options.
  row.push(outcome(() => new Command(() => null, null, { ...options, name }).dispose()));
  removeCommand(name);
  // configure() before first use, then a construction with the same options.
  row.push(outcome(() => configure(name, options)));
  row.push(outcome(() => new Command(() => null, null, { ...options, name }), () => settingsOf(name)));
  getCommand(name)?.dispose?.();
  removeCommand(name);
  out.push(row.join("\t"));
}
process.stdout.write(out.join("\n") + "\n");
