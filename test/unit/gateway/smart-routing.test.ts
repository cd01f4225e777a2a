// SmartRouter (core/gateway/smart-routing.ts) in-process, with a fake embedder: the closest tier whose
// model is live serves, prototypes come from settings (else the defaults) and are embedded once, and a
// prompt with no embedder or no tier model is a 503 that says what to do.
import { afterAll, beforeAll, expect, test } from "bun:test"
import { ManualClock } from "../../../core/clock.ts"
import type { Database } from "../../../core/db/client.ts"
import { DEFAULT_PROTOTYPES, SmartRouter, cosine } from "../../../core/gateway/smart-routing.ts"
import type { EmbeddingService } from "../../../core/rag/embed.ts"
import type { Scheduler } from "../../../core/scheduler/scheduler.ts"
import { testDatabase } from "../../support/db.ts"
import { cleanupAll } from "../../support/proc.ts"

let db: Database
const clock = new ManualClock()
const embedded: string[] = []
let embedder: string | null = "mini"
// three axes: greeting words, code words, everything else
const vec = (t: string) => [/hello|bonjour/i.test(t) ? 1 : 0, /code|bug|sql/i.test(t) ? 1 : 0, 0.1]
const embeddings: EmbeddingService = {
  model: () => embedder,
  slots: () => 1,
  countTokens: async (_m, texts) => texts.map(() => 1),
  embed: async (_m, texts) => {
    embedded.push(...texts)
    return { vectors: texts.map(vec), workerId: "w" }
  },
}
let live = ["fast-model", "code-model"]
const scheduler = {
  liveModels: () => live.map((id) => ({ id, kind: "llm" as const, slots: 1, workers: 1 })),
} as unknown as Scheduler
const set = (key: string, value: string) =>
  db.sql`insert into cluster_settings (key, value, hlc, origin) values (${key}, ${JSON.stringify(value)}::text::jsonb, '0', 'test')
         on conflict (key) do update set value = excluded.value`

beforeAll(async () => {
  db = await testDatabase()
  await set("smart_routing.prototypes.fast", "hello bonjour")
  await set("smart_routing.prototypes.code", "code bug sql")
  await set("smart_routing.model.fast", "fast-model")
  await set("smart_routing.model.code", "code-model")
  await set("smart_routing.model.reasoning", "reasoning-model")
}, 120_000)
afterAll(cleanupAll)

test("the closest tier serves; prototypes are embedded once", async () => {
  const r = new SmartRouter(db.sql, clock, embeddings, scheduler)
  expect(await r.route("hello there")).toMatchObject({ tier: "fast", model: "fast-model" })
  expect(await r.route("fix this code")).toMatchObject({ tier: "code", model: "code-model" })
  // prompts twice, the three prototypes once (reasoning's is the built-in default)
  expect(embedded.filter((t) => t === DEFAULT_PROTOTYPES.reasoning).length).toBe(1)
  expect(embedded.filter((t) => t === "hello bonjour").length).toBe(1)
  expect(r.routed.get({ tier: "code", model: "code-model" })).toBe(1)
})

test("a tier whose model is not live gives way to the next closest", async () => {
  live = ["fast-model"]
  const r = new SmartRouter(db.sql, clock, embeddings, scheduler)
  expect(await r.route("fix this code")).toMatchObject({ tier: "fast", model: "fast-model" })
  live = ["fast-model", "code-model"]
  // a key that may not use the code model
  expect(await r.route("fix this code", (m) => m !== "code-model")).toMatchObject({ tier: "fast" })
  live = []
  await expect(r.route("fix this code")).rejects.toMatchObject({ code: "smart_routing_unavailable", status: 503 })
  live = ["fast-model", "code-model"]
})

test("the catalogue's tier assignment wins over the smart_routing.model setting", async () => {
  await db.sql`insert into tier_models (tier, file_name) values ('code', 'catalogue-code.gguf')`
  live = ["fast-model", "code-model", "catalogue-code"]
  try {
    const r = new SmartRouter(db.sql, clock, embeddings, scheduler)
    expect(await r.modelForTier("code")).toBe("catalogue-code")
    expect(await r.route("fix this code")).toMatchObject({ tier: "code", model: "catalogue-code" })
    // the setting still fills a tier the catalogue leaves empty
    expect(await r.modelForTier("fast")).toBe("fast-model")
  } finally {
    await db.sql`delete from tier_models where tier = 'code'`
    live = ["fast-model", "code-model"]
  }
})

test("no live embedder: 503 smart_routing_unavailable", async () => {
  embedder = null
  const r = new SmartRouter(db.sql, clock, embeddings, scheduler)
  await expect(r.route("hello")).rejects.toMatchObject({ code: "smart_routing_unavailable", status: 503 })
  embedder = "mini"
})

test("cosine", () => {
  expect(cosine([1, 0], [1, 0])).toBeCloseTo(1)
  expect(cosine([1, 0], [0, 1])).toBeCloseTo(0)
  expect(cosine([0, 0], [1, 1])).toBe(0)
})
