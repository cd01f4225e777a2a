// views/pages/projects — Projects (issue 15): the list with document counts and the creation form (errors
// next to their field); a project's page: upload with a progress bar (views/assets/projects.js posts to
// the documents API with XMLHttpRequest), the documents' live status (polled every 2 s), a search box
// showing the cited chunks, deletion behind a confirmation. Pure: plain data in, HTML out.
import { html, type SafeHtml } from "../html.ts"
import { t, type Lang } from "../i18n.ts"
import { csrfField } from "../layout.ts"

export interface ProjectItem {
  id: string
  name: string
  description: string
  documents_count: number
}

export interface DocumentItem {
  id: string
  title: string
  size_bytes: number
  indexed_status: string
  reason: string | null
  chunks_embedded: number
  chunks_total: number
  chunks_count: number
}

export interface HitItem {
  document_id: string
  title: string
  chunk: string
  chunk_index: number
  page: number | null
  score: number
}

export interface Flash {
  ok: boolean
  text: string
}

const STATUSES = ["pending", "processing", "done", "skipped", "failed"] as const

function errorOf(lang: Lang, errors: Record<string, string> | undefined, field: string) {
  const code = errors?.[field]
  return code
    ? html`<div class="error" id="err-${field}" data-field="${field}">${t(lang, `projects.err.${code}`)}</div>`
    : ""
}

const flashOf = (f?: Flash) => (f ? html`<p class="flash ${f.ok ? "" : "bad"}" id="projects-flash">${f.text}</p>` : "")

export function projectsListBody(
  lang: Lang,
  d: {
    projects: ProjectItem[]
    csrf?: string
    errors?: Record<string, string>
    submitted?: { name?: string; description?: string }
    flash?: Flash
  },
): SafeHtml {
  return html`${flashOf(d.flash)}
  <section>
    <h2>${t(lang, "projects.list")}</h2>
    ${
      d.projects.length
        ? html`<table id="projects-table"><thead><tr><th>${t(lang, "projects.name")}</th><th>${t(lang, "projects.description")}</th><th>${t(lang, "projects.documents_count")}</th></tr></thead>
      <tbody>${d.projects.map(
        (p) =>
          html`<tr data-project="${p.id}"><td><a href="/projects/${p.id}">${p.name}</a></td><td>${p.description}</td><td class="count">${p.documents_count}</td></tr>`,
      )}</tbody></table>`
        : html`<p class="muted" id="projects-empty">${t(lang, "projects.none")}</p>`
    }
  </section>
  <section>
    <h2>${t(lang, "projects.new")}</h2>
    <form method="post" action="/projects" id="new-project" novalidate>${csrfField(d.csrf)}
      <div class="${d.errors?.name ? "field-error" : ""}">
        <label for="project-name">${t(lang, "projects.name")}</label>
        <input id="project-name" name="name" type="text" maxlength="200" value="${d.submitted?.name ?? ""}">
        ${errorOf(lang, d.errors, "name")}
      </div>
      <div class="${d.errors?.description ? "field-error" : ""}">
        <label for="project-description">${t(lang, "projects.description")}</label>
        <textarea id="project-description" name="description" maxlength="2000">${d.submitted?.description ?? ""}</textarea>
        ${errorOf(lang, d.errors, "description")}
      </div>
      <div class="actions"><button type="submit" id="create-project">${t(lang, "projects.create")}</button></div>
    </form>
  </section>`
}

/** The documents table, alone: the fragment the page polls every 2 s. */
export function documentsTable(lang: Lang, pid: string, docs: DocumentItem[], csrf?: string): SafeHtml {
  if (!docs.length) return html`<p class="muted" id="documents-empty">${t(lang, "projects.no_documents")}</p>`
  const status = (d: DocumentItem) => {
    const known = (STATUSES as readonly string[]).includes(d.indexed_status)
    return html`<span class="doc-status status-${d.indexed_status}" data-status="${d.indexed_status}">${known ? t(lang, `projects.status.${d.indexed_status}`) : d.indexed_status}</span>${d.reason ? html` <small class="reason">(${d.reason})</small>` : ""}`
  }
  return html`<table id="documents-table"><thead><tr><th>${t(lang, "projects.doc_title")}</th><th>${t(lang, "projects.doc_size")}</th><th>${t(lang, "projects.doc_status")}</th><th>${t(lang, "projects.doc_chunks")}</th><th></th></tr></thead>
  <tbody>${docs.map(
    (
      d,
    ) => html`<tr data-document="${d.id}"><td><a href="/v1/projects/${pid}/documents/${d.id}/content">${d.title}</a></td>
    <td>${d.size_bytes}</td><td>${status(d)}</td>
    <td class="chunks">${d.chunks_total ? `${d.chunks_embedded} / ${d.chunks_total}` : d.chunks_count || "—"}</td>
    <td><form class="inline" method="post" action="/projects/${pid}/documents/${d.id}/delete" data-confirm="${t(lang, "projects.delete_document_confirm", { title: d.title })}">${csrfField(csrf)}<button type="submit" class="secondary delete-document">${t(lang, "projects.delete")}</button></form></td></tr>`,
  )}</tbody></table>`
}

export function searchResults(lang: Lang, query: string, hits: HitItem[]): SafeHtml {
  if (!hits.length) return html`<p class="muted" id="search-empty">${t(lang, "projects.no_hits", { query })}</p>`
  return html`<ol id="search-hits">${hits.map(
    (h) => html`<li class="hit" data-document="${h.document_id}"><strong class="hit-title">${h.title}</strong>
      <small class="muted">${h.page !== null ? html`${t(lang, "projects.page", { page: h.page })} · ` : ""}${t(lang, "projects.chunk", { n: h.chunk_index })} · ${t(lang, "projects.score")} <span class="hit-score">${h.score.toFixed(4)}</span></small>
      <blockquote class="hit-chunk">${h.chunk}</blockquote></li>`,
  )}</ol>`
}

export function projectBody(
  lang: Lang,
  d: {
    project: ProjectItem
    documents: DocumentItem[]
    csrf?: string
    flash?: Flash
    search?: { query: string; hits: HitItem[] }
  },
): SafeHtml {
  const pid = d.project.id
  return html`${flashOf(d.flash)}
  <p><a href="/projects">← ${t(lang, "projects.back")}</a></p>
  ${d.project.description ? html`<p id="project-description">${d.project.description}</p>` : ""}
  <section id="upload">
    <h2>${t(lang, "projects.upload")}</h2>
    <form id="upload-form" method="post" enctype="multipart/form-data" action="/v1/projects/${pid}/documents"
      data-api="/v1/projects/${pid}/documents" data-done="${t(lang, "projects.upload_done")}" data-failed="${t(lang, "projects.upload_failed")}" data-nofile="${t(lang, "projects.err.file_required")}">${csrfField(d.csrf)}
      <label for="upload-file">${t(lang, "projects.file")}</label><input id="upload-file" name="file" type="file">
      <label for="upload-title">${t(lang, "projects.doc_title")}</label><input id="upload-title" name="title" type="text" maxlength="300">
      <div class="actions"><button type="submit" id="upload-button">${t(lang, "projects.upload_button")}</button>
        <progress id="upload-progress" max="100" value="0" hidden></progress> <span id="upload-pct" aria-live="polite"></span></div>
      <p id="upload-msg" class="muted" aria-live="polite"></p>
    </form>
  </section>
  <section id="documents">
    <h2>${t(lang, "projects.documents")}</h2>
    <div id="documents-live" hx-get="/projects/${pid}/documents/live" hx-trigger="every 2s, refresh" hx-swap="innerHTML">${documentsTable(lang, pid, d.documents, d.csrf)}</div>
  </section>
  <section id="search">
    <h2>${t(lang, "projects.search")}</h2>
    <form id="search-form" method="post" action="/projects/${pid}/search" hx-post="/projects/${pid}/search" hx-target="#search-results" hx-swap="innerHTML">${csrfField(d.csrf)}
      <label for="search-query">${t(lang, "projects.query")}</label><input id="search-query" name="query" type="search" maxlength="4000" value="${d.search?.query ?? ""}">
      <div class="actions"><button type="submit" id="search-button">${t(lang, "projects.search_button")}</button></div>
    </form>
    <div id="search-results">${d.search ? searchResults(lang, d.search.query, d.search.hits) : ""}</div>
  </section>
  <section id="danger">
    <h2>${t(lang, "projects.delete_project")}</h2>
    <form method="post" action="/projects/${pid}/delete" data-confirm="${t(lang, "projects.delete_project_confirm", { name: d.project.name })}">${csrfField(d.csrf)}
      <button type="submit" class="secondary" id="delete-project">${t(lang, "projects.delete_project")}</button></form>
  </section>`
}
