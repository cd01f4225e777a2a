// GET /projects — the Projects page (views/pages/projects.ts): the list and the creation form; GET
// /projects/:pid a project's documents, upload (the browser posts to the documents API itself, for its
// progress bar), search and deletion; GET /projects/:pid/documents/live the documents fragment the page
// polls every 2 s. Forms: POST /projects, /projects/:pid/search, /projects/:pid/documents/:id/delete,
// /projects/:pid/delete. Admin session only, CSRF on every form; the work is core/rag's, audited as
// the API audits it.
import { Elysia } from "elysia"
import type { PoolServices } from "../../../pool/services.ts"
import { adminActor, audited } from "../../audit-trail.ts"
import { adminProjectCaller as scoped } from "../../project-caller.ts"
import { scopedCannotCreate } from "../../../rag/index.ts"
import {
  dashboardPage,
  formAction,
  htmlResponse,
  liveFragment,
  loginRedirect,
  pageRequest,
  type PageRequest,
  type Srv,
} from "../../dashboard-shell.ts"
import { html } from "../../../../views/html.ts"
import { t } from "../../../../views/i18n.ts"
import {
  documentsTable,
  type Flash,
  projectBody,
  projectsListBody,
  searchResults,
} from "../../../../views/pages/projects.ts"

const SEARCH_TOP_K = 5

/** The creation form's errors, field by field (codes of projects.err.*). */
export function projectFormErrors(form: Record<string, unknown>): Record<string, string> {
  const name = String(form.name ?? "").trim()
  const description = String(form.description ?? "")
  const errors: Record<string, string> = {}
  if (!name) errors.name = "name_required"
  else if (name.length > 200) errors.name = "name_too_long"
  if (description.length > 2000) errors.description = "description_too_long"
  return errors
}

export const projectsPage = (s: PoolServices) => {
  const rag = s.rag
  const unavailable = (request: Request, server: Srv) =>
    dashboardPage(s, request, server, {
      active: "projects",
      title: (l) => t(l, "projects.title"),
      body: ({ lang }) => html`<p class="muted" id="projects-unavailable">${t(lang, "projects.unavailable")}</p>`,
    })
  if (!rag)
    return new Elysia()
      .get("/projects", ({ request, server }) => unavailable(request, server as Srv))
      .get("/projects/*", ({ request, server }) => unavailable(request, server as Srv))

  const actor = (who: PageRequest, request: Request, server: Srv) => ({
    actor: adminActor(who.admin),
    request,
    server,
  })

  const listPage = (
    request: Request,
    server: Srv,
    o: {
      who?: PageRequest
      status?: number
      errors?: Record<string, string>
      submitted?: Record<string, string>
      flash?: Flash
    } = {},
  ) =>
    dashboardPage(s, request, server, {
      who: o.who,
      status: o.status,
      active: "projects",
      title: (l) => t(l, "projects.title"),
      body: async ({ lang, admin }) =>
        projectsListBody(lang, {
          projects: await rag.projects.list(scoped(admin)),
          csrf: admin.csrf,
          errors: o.errors,
          submitted: o.submitted,
          flash: o.flash,
        }),
    })

  const detailPage = async (
    request: Request,
    server: Srv,
    pid: string,
    o: { who?: PageRequest; status?: number; flash?: Flash; search?: Parameters<typeof projectBody>[1]["search"] } = {},
  ) => {
    const who = o.who ?? (await pageRequest(s, request, server))
    if (!who) return loginRedirect(request)
    const project = await rag.projects.require(scoped(who.admin), pid)
    return dashboardPage(s, request, server, {
      who,
      status: o.status,
      active: "projects",
      title: project.name,
      scripts: ["/assets/projects.js"],
      body: async ({ lang, admin }) =>
        projectBody(lang, {
          project,
          documents: await rag.documents.list(pid),
          csrf: admin.csrf,
          flash: o.flash,
          search: o.search,
        }),
    })
  }

  return new Elysia()
    .get("/projects", ({ request, server }) => listPage(request, server as Srv))
    .post("/projects", async ({ request, server, body }) => {
      const form = (body ?? {}) as Record<string, unknown>
      const who = await pageRequest(s, request, server as Srv, form)
      if (!who) return loginRedirect(request)
      const errors = projectFormErrors(form)
      const submitted = { name: String(form.name ?? ""), description: String(form.description ?? "") }
      if (Object.keys(errors).length) return listPage(request, server as Srv, { who, status: 400, errors, submitted })
      const name = submitted.name.trim()
      if (who.admin.projects) {
        const e = scopedCannotCreate()
        return listPage(request, server as Srv, {
          who,
          status: e.status,
          flash: { ok: false, text: `${e.code}: ${e.message}` },
        })
      }
      const created = await audited(
        s,
        actor(who, request, server as Srv),
        { action: "project.create", details: { name } },
        () => rag.projects.create({ name, description: submitted.description.trim() }),
        (p) => ({ target: `project:${p.id}`, project: p.id }),
      )
      return new Response(null, { status: 303, headers: { location: `/projects/${created.id}` } })
    })
    .get("/projects/:pid", ({ request, server, params }) => detailPage(request, server as Srv, params.pid))
    .get("/projects/:pid/documents/live", ({ request, server, params }) =>
      liveFragment(s, request, server as Srv, async ({ lang, admin }) => {
        await rag.projects.require(scoped(admin), params.pid)
        return documentsTable(lang, params.pid, await rag.documents.list(params.pid), admin.csrf).toString()
      }),
    )
    .post("/projects/:pid/search", async ({ request, server, body, params }) => {
      const form = (body ?? {}) as Record<string, unknown>
      const who = await pageRequest(s, request, server as Srv, form)
      if (!who) return loginRedirect(request)
      const { pid } = params
      const query = String(form.query ?? "")
        .trim()
        .slice(0, 4000)
      const hits = query
        ? (
            await audited(
              s,
              actor(who, request, server as Srv),
              {
                action: "document.search",
                project: pid,
                details: { top_k: SEARCH_TOP_K, query_chars: query.length },
              },
              async () => {
                await rag.projects.require(scoped(who.admin), pid)
                return rag.search.search(pid, query, SEARCH_TOP_K)
              },
              (r) => ({ details: { mode: r.mode, hits: r.hits.length } }),
            )
          ).hits
        : []
      // HTMX swaps the results in; without script, the whole page comes back with them.
      if (request.headers.get("hx-request") === "true")
        return htmlResponse(searchResults(who.lang, query, hits).toString())
      return detailPage(request, server as Srv, pid, { who, search: { query, hits } })
    })
    .post("/projects/:pid/documents/:id/delete", ({ request, server, body, params }) =>
      formAction(s, request, server as Srv, body, {
        audit: () => ({ action: "document.delete", target: `document:${params.id}`, project: params.pid }),
        run: async (_form, who) => {
          await rag.projects.require(scoped(who.admin), params.pid)
          await rag.documents.remove(params.pid, params.id)
        },
        page: (who, o, status) =>
          detailPage(request, server as Srv, params.pid, {
            who,
            status,
            flash: o.flash ?? { ok: true, text: t(who.lang, "projects.document_deleted") },
          }),
      }),
    )
    .post("/projects/:pid/delete", ({ request, server, body, params }) =>
      formAction(s, request, server as Srv, body, {
        audit: () => ({ action: "project.delete", target: `project:${params.pid}`, project: params.pid }),
        run: (_form, who) => rag.projects.remove(scoped(who.admin), params.pid),
        page: (who, o, status) =>
          listPage(request, server as Srv, {
            who,
            status,
            flash: o.flash ?? { ok: true, text: t(who.lang, "projects.project_deleted") },
          }),
      }),
    )
}
