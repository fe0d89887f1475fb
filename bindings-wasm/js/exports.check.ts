// Checked, never run or shipped (scripts/js-typecheck.sh, with the glue):
// the glue's entry modules export exactly the names their .d.ts files
// declare, and their functions, classes and constants fit the declared
// types (a glue function taking less, or returning something else, than
// the .d.ts promises is a type error here).
import * as impl from "./api.mjs";
import type * as pub from "./index.js";
import * as implInit from "./init.mjs";
import type * as pubInit from "./init.js";
import * as implObs from "./observe.mjs";
import type * as pubObs from "./observe.js";
import * as implDash from "./dashboard.mjs";
import * as implDashNode from "./dashboard.node.mjs";
import * as implDashInit from "./dashboard-init.mjs";
import type * as pubDashInit from "./dashboard-init.js";
import type * as pubDash from "./dashboard.js";

/** `true` when `A` and `B` are the same names; otherwise the names only one side has. */
type Same<A, B> = [Exclude<A, B>, Exclude<B, A>] extends [never, never]
  ? true
  : { onlyInGlue: Exclude<A, B>; onlyInDeclarations: Exclude<B, A> };

export const names: [
  Same<keyof typeof impl, keyof typeof pub>,
  Same<keyof typeof implInit, keyof typeof pubInit>,
  Same<keyof typeof implObs, keyof typeof pubObs>,
  Same<keyof typeof implDash, keyof typeof pubDash>,
] = [true, true, true, true];

export const index: Partial<typeof pub> = {
  configure: impl.configure,
  getCommand: impl.getCommand,
  removeCommand: impl.removeCommand,
  configSchema: impl.configSchema,
  VirtualClock: impl.VirtualClock,
  // Not HystrixError: its `code` and `kind` (undefined on the base class)
  // are read through the prototype, where the subclasses define them, so
  // the JS class cannot declare them without shadowing theirs.
};

export const view: pub.CommandView = new impl.Command(() => 1);
export const command: pub.Command = new impl.Command(() => 1);
export const init: typeof pubInit.init = implInit.init;
export const observe: typeof pubObs = implObs;
export const dashboard: typeof pubDash = implDash;
export const dashboardNode: typeof pubDash = implDashNode;
export const dashboardInit: typeof pubDashInit = implDashInit;

