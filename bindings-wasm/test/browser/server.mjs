// A small static server for the browser example and its test (127.0.0.1 only).
//
//   /pkg/*      target/npm/hystrix        (the built npm package; scripts/build-npm.sh)
//   /example/*  examples/browser
//   /flaky      a flaky endpoint: cycles fail -> hang -> ok, or ?mode=fail|ok|hang
//   /           redirects to /example/index.html
//
// `node bindings-wasm/test/browser/server.mjs [port]` serves until Ctrl-C;
// the test imports `startServer()` instead.
import http from "node:http";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const MOUNTS = {
  "/pkg/": path.join(root, "target/npm/hystrix"),
  "/example/": path.join(root, "examples/browser"),
};
const TYPES = {
  ".wasm": "application/wasm",
  ".mjs": "text/javascript; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".ts": "text/plain; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};
/** A hanging /flaky request is answered after this long if the client is still there. */
const HANG_LIMIT_MS = 30_000;

function send(res, status, body, type = "text/plain; charset=utf-8", headers = {}) {
  res.writeHead(status, { ...headers, "content-type": type, "cache-control": "no-store" });
  res.end(body);
}

async function serveFile(res, dir, rel, headers) {
  const file = path.join(dir, rel);
  // Refuse anything that escapes the mounted directory.
  if (file !== dir && !file.startsWith(dir + path.sep)) return send(res, 403, "forbidden\n");
  try {
    const info = await stat(file);
    if (!info.isFile()) return send(res, 404, "not found\n");
    const body = await readFile(file);
    send(res, 200, body, TYPES[path.extname(file)] ?? "application/octet-stream", headers);
  } catch {
    send(res, 404, "not found\n");
  }
}

/**
 * Starts the server; resolves with `{ server, url, close() }`. `mounts`
 * (URL prefix -> directory) replaces the default ones; `headers` are added
 * to every file served (e.g. a Content-Security-Policy).
 */
export async function startServer({ port = 0, quiet = true, mounts = MOUNTS, headers = {} } = {}) {
  let hits = 0;
  const hanging = new Set();

  function flaky(req, res, query) {
    hits += 1;
    const cycle = ["fail", "hang", "ok"];
    const mode = ["fail", "ok", "hang"].includes(query.get("mode")) ? query.get("mode") : cycle[(hits - 1) % 3];
    if (!quiet) console.log(`/flaky #${hits}: ${mode}`);
    if (mode === "fail") return send(res, 503, JSON.stringify({ ok: false, n: hits }), "application/json");
    if (mode === "ok") return send(res, 200, JSON.stringify({ ok: true, n: hits }), "application/json");
    // hang: answer nothing until the client gives up (or HANG_LIMIT_MS).
    const timer = setTimeout(() => send(res, 200, JSON.stringify({ ok: true, n: hits, late: true }), "application/json"), HANG_LIMIT_MS);
    hanging.add(timer);
    res.on("close", () => {
      clearTimeout(timer);
      hanging.delete(timer);
    });
  }

  const server = http.createServer((req, res) => {
    const u = new URL(req.url, "http://127.0.0.1");
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, "method not allowed\n");
    if (u.pathname === "/flaky") return flaky(req, res, u.searchParams);
    if (u.pathname === "/" || u.pathname === "/example" || u.pathname === "/example/") {
      res.writeHead(302, { location: "/example/index.html" });
      return res.end();
    }
    for (const [prefix, dir] of Object.entries(mounts)) {
      if (u.pathname.startsWith(prefix)) {
        let rel;
        try {
          rel = decodeURIComponent(u.pathname.slice(prefix.length));
        } catch {
          return send(res, 400, "bad path\n");
        }
        return serveFile(res, dir, rel, headers);
      }
    }
    send(res, 404, "not found\n");
  });

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    server,
    url,
    close() {
      for (const t of hanging) clearTimeout(t);
      hanging.clear();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

// Run directly (not imported, and not picked up as a file by `node --test`).
const direct = process.argv[1] && !process.env.NODE_TEST_CONTEXT;
if (direct && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { url } = await startServer({ port: Number(process.argv[2] ?? 0), quiet: false });
  console.log(`serving ${url}/example/index.html (Ctrl-C to stop)`);
}
