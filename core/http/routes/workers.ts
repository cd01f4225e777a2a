// GET /v1/workers — public: how many workers and what they serve, in aggregate (core/workers/summary.ts).
// GET /v1/admin/workers — administrators: each live worker, its hardware, models and slot use.
import { Elysia } from "elysia"
import type { PoolServices } from "../../pool/services.ts"
import { workersSummary } from "../../workers/summary.ts"
import { adminGuard } from "../guards.ts"

export const workerRoutes = (s: PoolServices) =>
  new Elysia()
    .get("/v1/workers", () => workersSummary(s.scheduler.snapshot()))
    .use(new Elysia().use(adminGuard(s)).get("/v1/admin/workers", () => s.scheduler.snapshot()))
