// views/pages/api-docs — GET /docs: the OpenAPI document as a readable page, rendered on the server
// (no script, no CDN): one section per tag, each operation with who may call it, its parameters,
// request body and answers. Pure: the document in, HTML out.
import type { OpenApiDocument } from "../../core/http/openapi.ts"
import { html, type SafeHtml } from "../html.ts"
import { t, type Lang } from "../i18n.ts"
import { renderBare } from "../layout.ts"

interface Op {
  method: string
  path: string
  o: Record<string, any>
}

const AUTH: Record<
  string,
  "api_docs.auth_key" | "api_docs.auth_admin" | "api_docs.auth_peer" | "api_docs.auth_worker"
> = {
  apiKey: "api_docs.auth_key",
  adminSession: "api_docs.auth_admin",
  peerSignature: "api_docs.auth_peer",
  workerToken: "api_docs.auth_worker",
}

function authOf(lang: Lang, security: Record<string, string[]>[]): string {
  const names = security.flatMap((s) => Object.keys(s))
  if (names.length === 0) return t(lang, "api_docs.auth_public")
  return names.map((n) => t(lang, AUTH[n] ?? "api_docs.auth_public")).join(" · ")
}

const schemaBlock = (label: string, schema: unknown) =>
  schema && Object.keys(schema as object).length
    ? html`<details><summary>${label}</summary><pre><code>${JSON.stringify(schema, null, 2)}</code></pre></details>`
    : html``

function operation(lang: Lang, { method, path, o }: Op): SafeHtml {
  const id = String(o.operationId)
  const body = o.requestBody?.content as Record<string, { schema: unknown }> | undefined
  const params = (o.parameters ?? []) as { name: string; in: string; required?: boolean }[]
  const responses = Object.entries(o.responses ?? {}) as [string, { description: string }][]
  return html`<article class="api-op" id="${id}" data-method="${method}" data-path="${path}">
    <h3><span class="method method-${method}">${method.toUpperCase()}</span> <code>${path}</code></h3>
    <p>${o.summary}</p>
    <p class="muted">${t(lang, "api_docs.auth")} ${authOf(lang, o.security ?? [])}</p>
    ${
      params.length
        ? html`<p class="muted">${t(lang, "api_docs.parameters")} ${params.map(
            (p, i) => html`${i ? ", " : ""}<code>${p.name}</code> (${p.in}${p.required ? ", *" : ""})`,
          )}</p>`
        : ""
    }
    ${body ? Object.entries(body).map(([type, c]) => schemaBlock(`${t(lang, "api_docs.request")} ${type}`, c.schema)) : ""}
    <ul class="api-responses">${responses.map(([code, r]) => html`<li><code>${code}</code> ${r.description}</li>`)}</ul>
  </article>`
}

export function apiReferencePage(lang: Lang, doc: OpenApiDocument): string {
  const ops: Op[] = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, o]) => ({ method, path, o })),
  )
  const body = html`<h1>${t(lang, "api_docs.title")}</h1>
  <p>${doc.info.description}</p>
  <p><a href="/openapi.json">openapi.json</a> · OpenAPI ${doc.openapi} · ${doc.info.title} ${doc.info.version}</p>
  <nav aria-label="${t(lang, "api_docs.contents")}" class="api-toc"><ul>${doc.tags.map(
    (tag) => html`<li><a href="#tag-${tag.name}">${tag.name}</a></li>`,
  )}</ul></nav>
  ${doc.tags.map(
    (tag) => html`<section class="api-tag" id="tag-${tag.name}" aria-labelledby="tag-${tag.name}-h">
      <h2 id="tag-${tag.name}-h">${tag.name}</h2>
      <p>${tag.description}</p>
      ${ops.filter((op) => (op.o.tags as string[]).includes(tag.name)).map((op) => operation(lang, op))}
    </section>`,
  )}`
  return renderBare({ lang, title: t(lang, "api_docs.title"), body, path: "/docs" })
}
