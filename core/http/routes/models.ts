// GET /v1/models — the models live workers serve now (OpenAI list shape, plus Cellule's kind/slots).
import { Elysia } from "elysia"
import type { PoolServices } from "../../pool/services.ts"

export const modelsRoutes = (s: PoolServices) =>
  new Elysia().get("/v1/models", () => ({
    object: "list",
    data: s.scheduler.liveModels().map((m) => ({
      id: m.id,
      object: "model",
      created: Math.floor(s.startedAt / 1000),
      owned_by: s.config.poolName,
      cellule: { kind: m.kind, workers: m.workers, slots: m.slots },
    })),
  }))
