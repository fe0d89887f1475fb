// Browser app with the dashboard mounted: the page's own command, tripped
// on a VirtualClock, shown by `hystrix-resilience/dashboard`. The page's
// result is `window.hystrixCheck` (a promise), what the tile shows.
import { Command, VirtualClock } from "hystrix-resilience";
import { mountDashboard } from "hystrix-resilience/dashboard";

async function check() {
  const clock = new VirtualClock();
  const cmd = new Command(
    () => {
      throw new Error("down");
    },
    () => "fallback",
    { name: "bundled", clock, requestVolumeThreshold: 2, healthSnapshotIntervalMs: 0 },
  );
  const dashboard = mountDashboard(document.body, { commands: [cmd] });
  const before = dashboard.root.querySelector('.tile[data-name="bundled"]').getAttribute("data-state");
  await cmd.execute();
  await cmd.execute();
  dashboard.refresh();
  const tile = dashboard.root.querySelector('.tile[data-name="bundled"]');
  const result = { before, after: tile.getAttribute("data-state"), shown: tile.querySelector(".state").textContent };
  dashboard.dispose();
  return { ...result, left: document.querySelectorAll("[data-hystrix-dashboard]").length };
}

window.hystrixCheck = check().then(
  (result) => ({ result }),
  (e) => ({ error: String(e?.stack ?? e) }),
);
