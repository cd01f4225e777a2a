// views/login — the administrator login page.
import { html } from "./html.ts"
import { t, type Lang } from "./i18n.ts"
import { renderBare } from "./layout.ts"

export function loginPage(p: {
  lang: Lang
  next: string
  email?: string
  error?: "failed" | "rate_limited" | "link_invalid" | "link_no_admin"
  retryAfterS?: number
  /** Placeholders of the error message (link_no_admin: the link's e-mail and pool). */
  vars?: Record<string, string>
}): string {
  const error = p.error
    ? html`<p class="flash bad" id="login-error" role="alert">${t(p.lang, `login.${p.error}`, { s: p.retryAfterS ?? 0, ...p.vars })}</p>`
    : ""
  return renderBare({
    lang: p.lang,
    title: t(p.lang, "login.title"),
    path: "/login",
    body: html`<h1>${t(p.lang, "login.title")}</h1>${error}
    <form method="post" action="/login">
      <input type="hidden" name="next" value="${p.next}">
      <label for="email">${t(p.lang, "login.email")}</label><input type="email" id="email" name="email" value="${p.email ?? ""}" autocomplete="username" required>
      <label for="password">${t(p.lang, "login.password")}</label><input type="password" id="password" name="password" autocomplete="current-password" required>
      <div class="actions"><button type="submit">${t(p.lang, "login.submit")}</button></div>
    </form>`,
  })
}
