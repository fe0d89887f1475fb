// The Node host of tests/observe/: hystrix-resilience/observe's handlers on node:http,
// with the Rust example's `--demo states` traffic on the real clock
// (`tripped` always fails and stays open, `healthy` always succeeds).
//   node tests/observe/hosts/node-server.mjs 127.0.0.1:0 [--interval-ms N] [--max-connections N] [--cors ORIGIN] [--demo states|none]
// Prints "node-server: http://HOST:PORT/..." on stderr once it listens.
import http from "node:http";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const pkg = pathToFileURL(path.join(process.env.HYSTRIX_NPM ?? path.join(root, "target/npm/hystrix"), "/"));
const { Command, configure } = await import(new URL("index.node.mjs", pkg).href);
const observe = await import(new URL("observe.mjs", pkg).href);

const args = process.argv.slice(2);
let addr = "127.0.0.1:8080";
const opts = { demo: "states" };
for (let i = 0; i < args.length; i++) {
  const value = () => args[++i] ?? (() => { throw new Error(`${args[i - 1]} needs a value`); })();
  switch (args[i]) {
    case "--interval-ms": opts.intervalMs = Number(value()); break;
    case "--max-connections": opts.maxConnections = Number(value()); break;
    case "--cors": opts.cors = value(); break;
    case "--demo": opts.demo = value(); break;
    default: addr = args[i];
  }
}
const headers = opts.cors ? { "Access-Control-Allow-Origin": opts.cors } : {};
const stream = observe.streamHandler({ intervalMs: opts.intervalMs, maxConnections: opts.maxConnections, headers });
const metrics = observe.metricsHandler();
const page = observe.dashboardHandler();

const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  switch (url.pathname) {
    case "/metrics": return metrics(req, res);
    case "/hystrix.stream":
    case "/proxy.stream": return stream(req, res);
    case "/hystrix": return page(req, res);
    case "/": return res.writeHead(302, { Location: `/hystrix${url.search}` }).end();
    default: return res.writeHead(404, { "Content-Type": "text/plain" }).end("not found\n");
  }
});

if (opts.demo === "states") {
  configure("tripped", { requestVolumeThreshold: 3, healthSnapshotIntervalMs: 0, sleepWindowMs: 60_000 });
  const tripped = new Command(async () => { throw new Error("down"); }, () => 0, { name: "tripped" });
  const healthy = new Command((i) => new Promise((r) => setTimeout(() => r(i), i % 5)), null, { name: "healthy" });
  let i = 0;
  const loop = async () => {
    await tripped.execute();
    await healthy.execute(i++);
    setTimeout(loop, 25);
  };
  loop();
} else if (opts.demo !== "none") {
  throw new Error(`--demo: states or none (got ${opts.demo})`);
}

const [host, port] = [addr.slice(0, addr.lastIndexOf(":")), Number(addr.slice(addr.lastIndexOf(":") + 1))];
server.listen(port, host, () => {
  const a = server.address();
  process.stderr.write(`node-server: http://${a.address}:${a.port}/hystrix.stream, /hystrix (dashboard), /metrics\n`);
});
