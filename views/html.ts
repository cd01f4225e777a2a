// views/html — the one HTML helper: a tagged template that escapes every interpolated value unless
// it is already markup (another html`` result or raw()). Views are pure: data in, string out.
export class SafeHtml {
  constructor(readonly value: string) {}
  toString() {
    return this.value
  }
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c])
}

type Value = SafeHtml | string | number | boolean | null | undefined | Value[]

function render(v: Value): string {
  if (v === null || v === undefined || v === false) return ""
  if (v instanceof SafeHtml) return v.value
  if (Array.isArray(v)) return v.map(render).join("")
  return escapeHtml(String(v))
}

/** html`<p>${userText}</p>` — interpolations are escaped; arrays are concatenated. */
export function html(strings: TemplateStringsArray, ...values: Value[]): SafeHtml {
  let out = strings[0]
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]
  return new SafeHtml(out)
}

/** Trusted markup (never user input). */
export const raw = (s: string) => new SafeHtml(s)

export type { Value as HtmlValue }
