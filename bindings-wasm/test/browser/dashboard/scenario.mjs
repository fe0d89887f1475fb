// The page of dashboard.test.mjs: its own commands on a VirtualClock and
// the dashboard mounted from the package (served at /pkg/), with the
// steps the test drives through `window.dashScenario`. `node --test`
// also runs every module under test/: outside a browser it does nothing.
if (typeof document === "object") await main();

async function main() {
  const { Command, VirtualClock } = await import("/pkg/index.web.mjs");
  const { mountDashboard } = await import("/pkg/dashboard.mjs");

  // The intervals the page has running (the test checks that stop() ends the dashboard's).
  const live = new Set();
  const { setInterval: set, clearInterval: clear } = window;
  window.setInterval = (fn, ms, ...args) => {
    const id = set(fn, ms, ...args);
    live.add(id);
    return id;
  };
  window.clearInterval = (id) => {
    live.delete(id);
    clear(id);
  };

  const SLEEP_WINDOW_MS = 5000;
  const clock = new VirtualClock();
  let behaviour = "fail";
  /** A command whose run waits `ms` of virtual time, then fails or succeeds as `behaviour` says. */
  function scenarioCommand(name) {
    return new Command(
      async (ms) => {
        if (ms) await clock.sleep(ms);
        if (behaviour === "fail") throw new Error("backend down");
        return "ok";
      },
      () => "fallback",
      {
        name,
        clock,
        timeoutMs: 10_000,
        requestVolumeThreshold: 3,
        errorThresholdPercentage: 50,
        sleepWindowMs: SLEEP_WINDOW_MS,
        healthSnapshotIntervalMs: 0,
      },
    );
  }
  const cmd = scenarioCommand("checkout");
  const other = scenarioCommand("search");
  let probe = null;

  // Feeds every 50 ms: the test waits for the timer to show the trip, and
  // calls refresh() where it wants a tick at once.
  const handle = mountDashboard(document.getElementById("dashboard"), { commands: [cmd], intervalMs: 50 });
  let second = null;

  window.dashScenario = {
    liveIntervals: () => live.size,
    /** `n` failing calls, 10 ms of virtual time apart. */
    async fail(n) {
      behaviour = "fail";
      for (let i = 0; i < n; i++) {
        await cmd.execute();
        await clock.advance(10);
      }
      return cmd.snapshot().state;
    },
    /** One call while open: short-circuited. */
    async shortCircuit() {
      await cmd.execute();
      return cmd.snapshot().state;
    },
    /** Past the sleep window (no call yet: still open until a probe is let through). */
    async passSleepWindow() {
      await clock.advance(SLEEP_WINDOW_MS + 1);
      handle.refresh();
      return cmd.snapshot().state;
    },
    /** A probe that takes 100 ms of virtual time starts (and stays in flight). */
    async startProbe() {
      behaviour = "ok";
      probe = cmd.execute(100);
      await Promise.resolve();
      handle.refresh();
      return cmd.snapshot().state;
    },
    /** The probe succeeds. */
    async finishProbe() {
      await clock.advance(100);
      const value = await probe;
      handle.refresh();
      return { value, state: cmd.snapshot().state };
    },
    refresh: () => handle.refresh(),
    /** A second dashboard, of `search`, fed every 20 ms. */
    mountSecond() {
      second = mountDashboard(document.getElementById("second"), { commands: ["search"], intervalMs: 20 });
      return second.running;
    },
    /** Calls of `search` (they change its counts). */
    async callSearch(n) {
      behaviour = "ok";
      for (let i = 0; i < n; i++) await other.execute();
    },
    stopSecond() {
      second.stop();
      second.stop();
      return { running: second.running, refreshed: second.refresh() };
    },
    /** A dashboard with no options: every named command of the page, in name order; then disposed. */
    mountAll() {
      const all = mountDashboard(document.getElementById("second"));
      const names = [...all.root.querySelectorAll(".tile")].map((t) => t.getAttribute("data-name"));
      all.dispose();
      return names;
    },
    /**
     * Commands named like Object.prototype's properties, each called once,
     * in a dashboard of their own: the tile names it shows, and its status.
     */
    async oddNames() {
      behaviour = "ok";
      const names = ["__proto__", "constructor", "hasOwnProperty", "toString"];
      for (const name of names) await scenarioCommand(name).execute();
      const odd = mountDashboard(document.getElementById("second"), { commands: names, intervalMs: 1000 });
      const shown = [...odd.root.querySelectorAll(".tile")].map((t) => t.getAttribute("data-name"));
      const status = odd.root.querySelector(".status").textContent;
      odd.dispose();
      return { shown, status };
    },
    disposeSecond() {
      second.dispose();
      return document.querySelectorAll("[data-hystrix-dashboard]").length;
    },
  };
}
