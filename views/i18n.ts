// views/i18n — the one i18n mechanism: t(lang, key) over the typed FR/EN dictionary in views/messages/
// (every page's strings, nowhere else), and how a request's language is chosen: the persisted choice
// (cookie `cellule_lang`, set by /lang/:code) wins, then Accept-Language, then English.
import { en, type MessageKey } from "./messages/en.ts"
import { fr } from "./messages/fr.ts"

export type { MessageKey }
export type Lang = "en" | "fr"
export const LANGS: readonly Lang[] = ["en", "fr"]
export const LANG_COOKIE = "cellule_lang"

const DICTS: Record<Lang, Record<string, string>> = { en, fr }

/** The string for `key` in `lang`, with {name} placeholders filled. Unknown keys show the key. */
export function t(lang: Lang, key: MessageKey | (string & {}), vars: Record<string, string | number> = {}): string {
  const s = DICTS[lang][key] ?? DICTS.en[key] ?? key
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m))
}

export function isLang(s: unknown): s is Lang {
  return s === "en" || s === "fr"
}

/** The persisted choice (cookie), else the first supported Accept-Language, else English. */
export function pickLang(cookieValue: string | undefined, acceptLanguage: string | null): Lang {
  if (isLang(cookieValue)) return cookieValue
  const prefs = (acceptLanguage ?? "")
    .split(",")
    .map((part) => {
      const [tag, ...params] = part.trim().split(";")
      const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="))
      return { lang: tag.trim().slice(0, 2).toLowerCase(), q: q ? Number(q.slice(2)) || 0 : 1 }
    })
    .filter((p) => p.lang)
    .sort((a, b) => b.q - a.q)
  for (const p of prefs) if (isLang(p.lang) && p.q > 0) return p.lang
  return "en"
}
