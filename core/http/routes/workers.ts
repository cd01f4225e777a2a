// GET /v1/workers — live workers, their hardware, models and slot use (no secrets).
import { Elysia } from "elysia"
import type { PoolServices } from "../../pool/services.ts"

export const workerRoutes = (s: PoolServices) => new Elysia().get("/v1/workers", () => s.scheduler.snapshot())
