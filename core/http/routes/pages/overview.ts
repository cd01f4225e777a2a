// GET / — the Overview page; GET /overview/live (the HTMX-refreshed fragment), /overview/stream (the
// same fragment as Server-Sent Events) and /overview.json (its data, for scripts).
import { Elysia } from "elysia"
import type { PoolServices } from "../../../pool/services.ts"
import { dashboardPage, liveFragment, liveStream, pageRequest, requirePageAdmin } from "../../dashboard-shell.ts"
import { html } from "../../../../views/html.ts"
import { t, type Lang } from "../../../../views/i18n.ts"
import { overviewBody, overviewLive, type OverviewData } from "../../../../views/pages/overview.ts"
import { networkType } from "../../../federation/topology.ts"

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
      proxies: s.proxiesSeen.list(),
    }
  }
  /** §0.1: bonded sites, machines contributing on every pool, the detected network, the MoE profile. */
  async function clusterData(): Promise<OverviewData["cluster"]> {
    const links = (await s.federation?.links().catch(() => [])) ?? []
    const trusted = links.filter((l) => l.trust_level >= s.config.minTrustLevel)
    const peers = s.forwarder ? await s.forwarder.peersLoad().catch(() => []) : []
    return {
      sites: trusted.map((l) => ({ name: l.pool_name ?? l.url, link: l.link, trust: l.trust_level })),
      endpoints: s.scheduler.workers.size + peers.reduce((n, p) => n + (p.workers ?? 0), 0),
      networkType: networkType(trusted.map((l) => l.link)),
      moe: s.scheduler.moeProfile(),
    }
  }
  const live = async (lang: Lang) =>
    html`<p class="muted"><small>${t(lang, "overview.live")}</small></p>${overviewLive(lang, await overviewData())}`
      .value

  return new Elysia()
    .get("/", async ({ request, server }) => {
      // An administrator scoped to projects lands on them: the overview is the cluster's (core/http/admin-scope.ts).
      const who = await pageRequest(s, request, server)
      if (who?.admin.projects) return new Response(null, { status: 303, headers: { location: "/projects" } })
      return dashboardPage(s, request, server, {
        who: who ?? undefined,
        active: "overview",
        title: (l) => t(l, "overview.title"),
        body: async ({ lang }) => overviewBody(lang, { ...(await overviewData()), cluster: await clusterData() }),
      })
    })
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
