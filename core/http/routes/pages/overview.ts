// GET / — the Overview page; GET /overview/live (the HTMX-refreshed fragment), /overview/stream (the
// same fragment as Server-Sent Events) and /overview.json (its data, for scripts).
import { Elysia } from "elysia"
import type { PoolServices } from "../../../pool/services.ts"
import { dashboardPage, liveFragment, liveStream, requirePageAdmin } from "../../dashboard-shell.ts"
import { html } from "../../../../views/html.ts"
import { t, type Lang } from "../../../../views/i18n.ts"
import { overviewBody, overviewLive, type OverviewData } from "../../../../views/pages/overview.ts"

export const overviewPage = (s: PoolServices) => {
  async function overviewData(): Promise<OverviewData> {
    const profile = await s.setup.readProfile()
    const snap = s.scheduler.snapshot()
    return {
      poolName: s.config.poolName,
      company: profile?.company ?? "",
      sector: profile?.sector ?? "",
      sites: profile?.sites ?? [],
      workers: snap.workers.map((w) => ({
        id: w.id,
        name: w.name,
        hardware: w.hardware,
        activity: w.activity,
        models: w.models,
      })),
      models: s.scheduler.liveModels(),
      queueDepth: snap.queue_depth,
    }
  }
  const live = async (lang: Lang) =>
    html`<p class="muted"><small>${t(lang, "overview.live")}</small></p>${overviewLive(lang, await overviewData())}`
      .value

  return new Elysia()
    .get("/", ({ request, server }) =>
      dashboardPage(s, request, server, {
        active: "overview",
        title: (l) => t(l, "overview.title"),
        body: async ({ lang }) => overviewBody(lang, await overviewData()),
      }),
    )
    .get("/overview/live", ({ request, server }) => liveFragment(s, request, server, ({ lang }) => live(lang)))
    .get("/overview/stream", async ({ request, server }) => {
      const who = await requirePageAdmin(s, request, server)
      return liveStream(() => live(who.lang), s.config.dashboardStreamMs)
    })
    .get("/overview.json", async ({ request, server }) => {
      await requirePageAdmin(s, request, server)
      return overviewData()
    })
}
