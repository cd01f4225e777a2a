// The browser-facing shell in mounting order: the wizard gate (a global hook), static assets, the
// wizard, sign-in, and the dashboard (its "/:page" placeholder goes last so real pages win).
import type { RoutePlugin } from "../app.ts"
import type { SetupGate } from "../../setup/gate.ts"
import type { Scheduler } from "../../scheduler/scheduler.ts"
import { assetRoutes } from "./assets.ts"
import { authRoutes } from "./auth.ts"
import { dashboardRoutes } from "./dashboard.ts"
import { setupGateRoutes, setupRoutes, type SetupHooks } from "./setup.ts"

export const shellRoutes = (gate: SetupGate, scheduler: Scheduler, hooks: SetupHooks = {}): RoutePlugin[] => [
  setupGateRoutes(gate),
  assetRoutes,
  setupRoutes(gate, hooks),
  (ctx) => authRoutes(ctx),
  dashboardRoutes(scheduler),
]
