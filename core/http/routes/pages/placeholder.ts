// GET /:page — the pages whose issue has not landed yet ("coming with issue …"). Mounted LAST in
// app.ts's table: "/:page" would otherwise answer for real pages mounted after it.
import { Elysia } from "elysia"
import { CelluleError } from "../../../errors.ts"
import type { PoolServices } from "../../../pool/services.ts"
import { dashboardPage } from "../../dashboard-shell.ts"
import { t } from "../../../../views/i18n.ts"
import { NAV, placeholderBody } from "../../../../views/layout.ts"

export const placeholderPage = (s: PoolServices) =>
  new Elysia().get("/:page", ({ request, server, params }) => {
    const item = NAV.find((n) => n.href === `/${params.page}` && n.issue)
    if (!item) throw new CelluleError("not_found", "no such page", 404)
    return dashboardPage(s, request, server, {
      active: item.id,
      title: (l) => t(l, item.label),
      body: ({ lang }) => placeholderBody(lang, item),
    })
  })
