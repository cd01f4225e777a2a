// Every dashboard page in Chromium, in French and in English: the pages come from the NAV of
// views/layout.ts (a new page is visited without touching this file), plus sign-in, the API reference
// and the Documentation search. Each page is screenshotted under test-artifacts/screenshots/, checked
// by axe-core run in the page (no serious or critical violation), and shown on a phone (390×844)
// without horizontal overflow.
import { afterAll, beforeAll, expect, test } from "bun:test"
import type { Browser, Page } from "playwright-core"
import { launchBrowser, shot } from "../support/browser.ts"
import { cleanupAll, startPool, TEST_ADMIN, type PoolProc } from "../support/proc.ts"
import { NAV } from "../../views/layout.ts"

const AXE = await Bun.file(new URL("../../node_modules/axe-core/axe.min.js", import.meta.url)).text()

let pool: PoolProc
let browser: Browser
beforeAll(async () => {
  pool = await startPool()
  browser = await launchBrowser()
}, 180_000)
afterAll(cleanupAll)

interface Violation {
  id: string
  impact: string | null
  help: string
  nodes: { target: string[] }[]
}

/** axe-core's serious and critical violations on the page as it is now. */
async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE })
  const found = (await page.evaluate(async () => {
    const r = await (
      window as unknown as { axe: { run: (ctx: Document, o: unknown) => Promise<{ violations: Violation[] }> } }
    ).axe.run(document, { resultTypes: ["violations"] })
    return r.violations
  })) as Violation[]
  return found
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)
}

async function signIn(page: Page, lang: "fr" | "en") {
  await page.goto(`${pool.url}/login`)
  await page.fill("#email", TEST_ADMIN.email)
  await page.fill("#password", TEST_ADMIN.password)
  await page.click('button[type="submit"]')
  await page.waitForURL((u) => !u.pathname.startsWith("/login"))
  await page.goto(`${pool.url}/lang/${lang}?next=/`)
}

const PAGES = [
  ...NAV.map((n) => ({ id: n.id, path: n.href })),
  { id: "documentation-search", path: "/documentation?q=argon2id" },
  { id: "api-reference", path: "/docs" },
]

for (const lang of ["en", "fr"] as const) {
  test(`every page in ${lang}: screenshot, no serious axe violation, no overflow on a phone`, async () => {
    const ctx = await browser.newContext({ locale: lang === "fr" ? "fr-FR" : "en-GB", bypassCSP: true })
    const page = await ctx.newPage()
    // Sign-in page first (before the session exists).
    await page.goto(`${pool.url}/lang/${lang}?next=/login`)
    await page.waitForSelector("#email")
    await shot(page, `a11y-${lang}-login`)
    const problems: Record<string, string[]> = {}
    const login = await axeViolations(page)
    if (login.length) problems.login = login
    await signIn(page, lang)

    for (const p of PAGES) {
      await page.setViewportSize({ width: 1280, height: 900 })
      const r = await page.goto(`${pool.url}${p.path}`)
      expect(r?.status(), p.path).toBe(200)
      expect(await page.getAttribute("html", "lang")).toBe(lang)
      await shot(page, `a11y-${lang}-${p.id}`)
      const v = await axeViolations(page)
      if (v.length) problems[p.path] = v
      // Phone: nothing wider than the screen.
      await page.setViewportSize({ width: 390, height: 844 })
      await page.waitForFunction(() => window.innerWidth === 390)
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      )
      if (overflow > 1)
        problems[p.path] = [...(problems[p.path] ?? []), `horizontal overflow of ${overflow}px at 390px wide`]
      await shot(page, `a11y-${lang}-${p.id}-phone`)
    }
    expect(problems).toEqual({})
    expect(PAGES.length).toBeGreaterThanOrEqual(NAV.length + 2)
    await ctx.close()
  }, 240_000)
}
