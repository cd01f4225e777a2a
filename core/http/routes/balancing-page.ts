// GET /balancing — the Worker balancing dashboard page (declared headcount vs contributing
// machines, usage per API key). Gathers plain data from core and hands it to the view.
import { Elysia } from "elysia"
import type { ApiKeys } from "../../auth/api-keys.ts"
import type { Scheduler } from "../../scheduler/scheduler.ts"
import type { Forwarder } from "../../scheduler/forward.ts"
import { balancingBody, type BalancingData } from "../../../views/pages/balancing.ts"
import { t } from "../../../views/i18n.ts"
import { dashboardPage } from "./dashboard.ts"
import type { PoolContext } from "../context.ts"

export const balancingPage = (scheduler: Scheduler, keys: ApiKeys, forwarder?: Forwarder) => (ctx: PoolContext) => {
  async function data(): Promise<BalancingData> {
    const sites = await ctx.db.sql<{ name: string; headcount: number }[]>`select name, headcount from sites order by name`.catch(() => [])
    const llm = scheduler.liveModels().filter((m) => m.kind === "llm")
    const here = llm.map((m) => scheduler.capacity(m.id))
    const pools: BalancingData["pools"] = [
      { name: ctx.config.poolName, self: true, workers: scheduler.workers.size, slots: here.reduce((n, c) => n + c.slots, 0), busy: here.reduce((n, c) => n + c.busy, 0) },
      ...(forwarder ? (await forwarder.peersLoad()).map((p) => ({ ...p, self: false })) : []),
    ]
    const usage = (await keys.usage(30)).map((r) => ({
      day: new Date(r.day).toISOString().slice(0, 10),
      key: (r.name as string | null) ?? "anonymous",
      tokens: Number(r.prompt_tokens) + Number(r.completion_tokens),
    }))
    const list = (await keys.list()).map((k) => ({ ...k, revoked: k.revoked_at !== null }))
    return { sites: [...sites], pools, usage, keys: list }
  }
  return new Elysia().get("/balancing", async ({ request, server }) =>
    dashboardPage(ctx, request, server, {
      active: "balancing",
      title: (lang) => t(lang, "balancing.title"),
      body: async ({ lang }) => balancingBody(lang, await data()),
    }),
  )
}
