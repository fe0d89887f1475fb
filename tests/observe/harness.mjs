// Shared pieces of the observe tests: the Rust example server
// (core/examples/observe_server.rs) on an ephemeral port, raw HTTP, free
// ports, and headless Debian Chromium through playwright-core.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, "../..");
/** The example binary; `make observe-test` builds it first. */
export const SERVER = process.env.OBSERVE_SERVER || path.join(ROOT, "target/debug/examples/observe_server");
export const CHROMIUM = "/usr/bin/chromium";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The Python of the venv `make observe-test` prepares (target/py-test). */
export const PYTHON = process.env.OBSERVE_PYTHON || path.join(ROOT, "target/py-test/bin/python");

/**
 * The hosts that serve the same routes: the Rust example, and the Node and
 * Python servers of tests/observe/hosts/ built on each binding's observe
 * module (`--demo states` traffic in each).
 */
export const HOSTS = {
  rust: (args) => [SERVER, args],
  node: (args) => [process.execPath, [path.join(HERE, "hosts/node-server.mjs"), ...args]],
  python: (args) => [PYTHON, [path.join(HERE, "hosts/python-server.py"), ...args]],
};

/**
 * Starts the example server on 127.0.0.1:0 with `args`; resolves to
 * { base, host, port, pid, stop } once it prints its address.
 */
export function startServer(args = [], t) {
  if (!existsSync(SERVER)) throw new Error(`${SERVER} is missing: cargo build -p hystrix-core --example observe_server`);
  return startHost("rust", args, t);
}

/** `startServer` for any of `HOSTS` (`rust`, `node`, `python`). */
export function startHost(kind, args = [], t) {
  const [cmd, argv] = HOSTS[kind](["127.0.0.1:0", ...args]);
  const child = spawn(cmd, argv, { stdio: ["ignore", "ignore", "pipe"] });
  const stop = () => {
    if (child.exitCode === null) child.kill("SIGKILL");
  };
  t?.after(stop);
  return new Promise((resolve, reject) => {
    let err = "";
    const timer = setTimeout(() => reject(new Error(`${kind} host did not start: ${err}`)), 15_000);
    child.stderr.on("data", (chunk) => {
      err += chunk;
      const m = /http:\/\/(127\.0\.0\.1):(\d+)\//.exec(err);
      if (m) {
        clearTimeout(timer);
        const port = Number(m[2]);
        resolve({ base: `http://127.0.0.1:${port}`, host: m[1], port, pid: child.pid, stop });
      }
    });
    child.on("error", (e) => reject(new Error(`${kind} host: ${e.message}`)));
    child.on("exit", (code) => reject(new Error(`${kind} host exited (${code}): ${err}`)));
  });
}

/** A port nobody listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * A raw socket that sent `GET target`; `text()` is everything received so
 * far (latin1, so byte-exact), `ended` resolves when the server closes.
 */
export function rawGet(port, target, method = "GET") {
  const sock = net.connect(port, "127.0.0.1");
  const state = { sock, received: "" };
  sock.setEncoding("latin1");
  sock.on("data", (d) => (state.received += d));
  sock.on("error", () => {});
  state.ended = new Promise((r) => sock.on("close", r));
  sock.write(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  state.text = () => state.received;
  state.until = (pattern, ms = 5000) => {
    if (pattern.test(state.received)) return Promise.resolve(state.received);
    return new Promise((resolve, reject) => {
      const done = (err) => {
        clearTimeout(timer);
        sock.off("data", check);
        sock.off("close", closed);
        err ? reject(err) : resolve(state.received);
      };
      const check = () => pattern.test(state.received) && done();
      const closed = () => setImmediate(() => (pattern.test(state.received) ? done() : done(fail("closed"))));
      const fail = (why) => new Error(`${why} waiting for ${pattern} in ${JSON.stringify(state.received.slice(0, 400))}`);
      const timer = setTimeout(() => done(fail("timed out")), ms);
      sock.on("data", check);
      sock.on("close", closed);
    });
  };
  state.close = () => sock.destroy();
  return state;
}

/** GET `url`: { status, headers, body }. */
export async function get(url) {
  const res = await fetch(url, { redirect: "manual" });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** The server's /stats as { stream_clients, ... }. */
export async function stats(base) {
  const { body } = await get(`${base}/stats`);
  return Object.fromEntries(body.trim().split("\n").map((l) => l.split(" ")).map(([k, v]) => [k, Number(v)]));
}

/** Resident memory of a process in KiB (Linux). */
export function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m[1]);
}

/** Why the browser tests cannot run here, or null. */
export function chromiumMissing() {
  return existsSync(CHROMIUM) ? null : `${CHROMIUM} is missing: apt-get install -y chromium`;
}

/** Runs `fn(context)` in headless Chromium on a fresh profile. */
export async function withChromium(fn) {
  const { chromium } = await import("playwright-core");
  const profile = await mkdtemp(path.join(tmpdir(), "hystrix-observe-"));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    });
    return await fn(context);
  } finally {
    await context?.close();
    await rm(profile, { recursive: true, force: true });
  }
}
