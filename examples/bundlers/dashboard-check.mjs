// What the dashboard apps check (dashboard.mjs, manual-dashboard.mjs): the
// page's own command, tripped on a VirtualClock, shown by a mounted
// dashboard; resolves with what its tile shows.

/**
 * @param {{ Command: any, VirtualClock: any, mountDashboard: any }} hystrix the package's exports
 */
export async function checkDashboard({ Command, VirtualClock, mountDashboard }) {
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
