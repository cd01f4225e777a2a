// GET /audit — the Audit page (views/pages/audit.ts) and GET /audit/live, the rows fragment the page
// polls every 2 s for its live tail. Reads only; the JSON API is core/http/routes/audit.ts.
import { Elysia } from "elysia"
import { type AuditFilter, parseTime as queryTime } from "../../../audit/index.ts"
import type { PoolServices } from "../../../pool/services.ts"
import { dashboardPage, liveFragment, type Srv } from "../../dashboard-shell.ts"
import { t } from "../../../../views/i18n.ts"
import { type AuditFilters, auditBody, auditClusterSection, auditRowsTable } from "../../../../views/pages/audit.ts"
import { clusterAuditView } from "../../../audit/cluster-peers.ts"
import { clusterOf } from "../../audit-trail.ts"

const LIVE_ROWS = 50

function filtersOf(request: Request): AuditFilters {
  const q = new URL(request.url).searchParams
  const get = (k: string) => q.get(k)?.trim().slice(0, 330) || undefined
  return { actor: get("actor"), action: get("action"), project: get("project"), from: get("from"), to: get("to") }
}

/** Page filters as a query; a bad time is ignored rather than failing the page. */
function toFilter(f: AuditFilters): AuditFilter {
  const time = (name: string, v?: string) => {
    try {
      return queryTime(name, v)
    } catch {
      return undefined
    }
  }
  return { ...f, from: time("from", f.from), to: time("to", f.to), limit: LIVE_ROWS }
}

export const auditPage = (s: PoolServices) =>
  new Elysia()
    .get("/audit", ({ request, server }) =>
      dashboardPage(s, request, server as Srv, {
        active: "audit",
        title: (l) => t(l, "audit.title"),
        body: async ({ lang }) => {
          const filters = filtersOf(request)
          const retention = await s.audit.retention()
          return auditBody(lang, {
            filters,
            rows: await s.audit.list(toFilter(filters)),
            verify: await s.audit.verify(),
            grade: await s.audit.grade(),
            retention:
              typeof retention === "string"
                ? t(lang, `audit.retention.${retention}`)
                : t(lang, "audit.retention.months", { n: retention.months }),
          })
        },
      }),
    )
    .get("/audit/cluster", ({ request, server }) =>
      liveFragment(s, request, server as Srv, async ({ lang }) => {
        const f = filtersOf(request)
        const view = await clusterAuditView(clusterOf(s), { actor: f.actor, action: f.action, project: f.project })
        return auditClusterSection(lang, view).toString()
      }),
    )
    .get("/audit/live", ({ request, server }) =>
      liveFragment(s, request, server as Srv, async ({ lang }) =>
        auditRowsTable(lang, await s.audit.list(toFilter(filtersOf(request)))).toString(),
      ),
    )
