// GET /v1/workers — live workers, their hardware, models and slot use (no secrets).
import { Elysia } from "elysia"
import type { Scheduler } from "../../scheduler/scheduler.ts"
import type { PoolContext } from "../context.ts"

export const workerRoutes = (scheduler: Scheduler) => (_ctx: PoolContext) =>
  new Elysia().get("/v1/workers", () => scheduler.snapshot())
