// Headless Debian Chromium through playwright-core, for the browser tests.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

/** Where Debian's chromium package puts the browser. */
export const CHROMIUM = "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Why the browser tests cannot run here, or null when Chromium is installed. */
export function chromiumMissing() {
  return existsSync(CHROMIUM) ? null : `${CHROMIUM} is missing: apt-get install -y chromium chromium-driver`;
}

/**
 * Runs `fn(context)` with a browser context on a fresh profile (a temp
 * dir, through launchPersistentContext: playwright wants --user-data-dir
 * that way rather than in `args`), and cleans up whatever `fn` does.
 */
export async function withChromium(fn) {
  const { chromium } = await import("playwright-core");
  const profile = await mkdtemp(path.join(tmpdir(), "hystrix-chromium-"));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
    return await fn(context);
  } finally {
    await context?.close();
    await rm(profile, { recursive: true, force: true });
  }
}
