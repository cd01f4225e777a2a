// GET /topology — the Topology page (§0.4): bonded pools and their links; GET /topology/live, its fragment.
import { Elysia } from "elysia"
import type { PoolServices } from "../../../pool/services.ts"
import { dashboardPage, liveFragment } from "../../dashboard-shell.ts"
import { html } from "../../../../views/html.ts"
import { topologyBody, topologyLive, topologyTitle } from "../../../../views/topology.ts"

export const topologyPage = (s: PoolServices) => {
  const fed = s.federation!
  return new Elysia()
    .get("/topology", ({ request, server }) =>
      dashboardPage(s, request, server, {
        active: "topology",
        title: topologyTitle,
        body: async ({ lang }) => topologyBody(lang, await fed.topology()),
      }),
    )
    .get("/topology/live", ({ request, server }) =>
      liveFragment(s, request, server, async ({ lang }) => html`${topologyLive(lang, await fed.topology())}`.value),
    )
}
