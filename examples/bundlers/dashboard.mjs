// Browser app with the dashboard mounted: the page's own command, tripped
// on a VirtualClock, shown by `hystrix-resilience/dashboard`. The page's
// result is `window.hystrixCheck` (a promise), what the tile shows.
import { Command, VirtualClock } from "hystrix-resilience";
import { mountDashboard } from "hystrix-resilience/dashboard";
import { checkDashboard } from "./dashboard-check.mjs";

window.hystrixCheck = checkDashboard({ Command, VirtualClock, mountDashboard }).then(
  (result) => ({ result }),
  (e) => ({ error: String(e?.stack ?? e) }),
);
