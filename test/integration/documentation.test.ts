// The Documentation page, its branded PDF and the API reference on a real pool whose wizard was given
// an SVG logo: the PDF is read by poppler (pdfinfo, pdftotext, pdftoppm), its cover shows the logo,
// its table of contents points at the right pages; /openapi.json validates as OpenAPI 3.1 and every
// API route the pool mounts has its documented entry.
import { afterAll, beforeAll, expect, test } from "bun:test"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Validator } from "@seriousme/openapi-schema-validator"
import sharp from "sharp"
import { OPERATIONS } from "../../core/http/openapi-operations.ts"
import { cleanupAll, startPool, TEST_ADMIN, testSetupAnswers, type PoolProc } from "../support/proc.ts"

// A red logo: the cover's logo box must show it.
const LOGO = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 60"><rect width="100" height="60" fill="#e4002b"/></svg>`

let pool: PoolProc
let cookie = ""
beforeAll(async () => {
  const answers = testSetupAnswers({
    identity: { company: "Dupont Avocats", sector: "LAW", logo: { base64: Buffer.from(LOGO).toString("base64") } },
  })
  pool = await startPool({ env: { CELLULE_SETUP_ANSWERS: answers } })
  const r = await fetch(`${pool.url}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ email: TEST_ADMIN.email, password: TEST_ADMIN.password }).toString(),
  })
  expect(r.status).toBe(303)
  cookie = r.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ")
}, 180_000)
afterAll(cleanupAll)

const get = (path: string, auth = true) =>
  fetch(`${pool.url}${path}`, { redirect: "manual", headers: auth ? { cookie } : {} })
const run = (cmd: string[]) => {
  const p = Bun.spawnSync(cmd)
  if (p.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${p.stderr.toString()}`)
  return p.stdout.toString()
}

test.each(["en", "fr"])(
  "the %s PDF: pdfinfo reads it, its cover has the logo, its contents point at the pages",
  async (lang) => {
    expect((await get(`/documentation.pdf?lang=${lang}`, false)).status).toBe(303) // admins only
    const r = await get(`/documentation.pdf?lang=${lang}`)
    expect(r.status).toBe(200)
    expect(r.headers.get("content-type")).toBe("application/pdf")
    const dir = mkdtempSync(join(tmpdir(), "cellule-pdf-"))
    const file = join(dir, "doc.pdf")
    writeFileSync(file, Buffer.from(await r.arrayBuffer()))

    const info = run(["pdfinfo", file])
    expect(info).toMatch(/Title:\s+Dupont Avocats — Documentation/)
    const pages = Number(/Pages:\s+(\d+)/.exec(info)?.[1])
    expect(pages).toBeGreaterThan(4)
    expect(run(["pdffonts", file])).toContain("DejaVuSans") // embedded, not a viewer's substitute

    // Cover: company name, and the logo's red in the logo box (top-centre of page 1).
    expect(run(["pdftotext", "-f", "1", "-l", "1", file, "-"])).toContain("Dupont Avocats")
    run(["pdftoppm", "-r", "50", "-png", "-singlefile", "-f", "1", "-l", "1", file, join(dir, "cover")])
    const cover = readFileSync(join(dir, "cover.png"))
    const { data, info: img } = await sharp(cover).raw().toBuffer({ resolveWithObject: true })
    const pixel = (x: number, y: number) => {
      const i = (Math.round(y) * img.width + Math.round(x)) * img.channels
      return [data[i], data[i + 1], data[i + 2]]
    }
    // The logo box is x 187..407, y 150..290 pt on a 595×842 pt page; its centre is red.
    const [r0, g0, b0] = pixel((297 / 595) * img.width, (220 / 842) * img.height)
    expect(r0).toBeGreaterThan(180)
    expect(g0).toBeLessThan(60)
    expect(b0).toBeLessThan(90)
    // Below the text, the cover is white.
    expect(pixel(img.width / 2, img.height * 0.85)).toEqual([255, 255, 255])

    // Table of contents on page 2; each entry's page shows that heading.
    const toc = run(["pdftotext", "-layout", "-f", "2", "-l", "2", file, "-"])
    expect(toc).toContain(lang === "fr" ? "Table des matières" : "Table of contents")
    const entries = [...toc.matchAll(/^\s*(\S.*?\S)\s{2,}(\d+)\s*$/gm)].map((m) => ({
      title: m[1],
      page: Number(m[2]),
    }))
    expect(entries.length).toBeGreaterThan(5)
    for (const e of entries.slice(0, 8)) {
      expect(e.page).toBeGreaterThan(2)
      expect(e.page).toBeLessThanOrEqual(pages)
      const text = run(["pdftotext", "-f", String(e.page), "-l", String(e.page), file, "-"]).replace(/\s+/g, " ")
      expect(text).toContain(e.title.replace(/\s+/g, " ").replace(/…$/, ""))
    }
    // The French PDF is the whole translated guide, not a summary: the workers chapter's last sections.
    const body = run(["pdftotext", file, "-"]).replace(/\s+/g, " ")
    if (lang === "fr") expect(body).toContain("Dormant veut dire dormant")
    else expect(body).toContain("Dormant means dormant")
    // Every page but the cover has its number; all pages render.
    const last = run(["pdftotext", "-f", String(pages), "-l", String(pages), file, "-"])
    expect(last).toContain(lang === "fr" ? `Page ${pages} sur ${pages}` : `Page ${pages} of ${pages}`)
    run(["pdftoppm", "-r", "20", "-png", file, join(dir, "page")])
  },
  120_000,
)

test("the Documentation page renders the guides in both languages and searches them", async () => {
  const en = await (await get("/documentation?lang=en")).text()
  expect(en).toContain('id="doc-q"')
  expect(en).toContain("Dashboard sign-in") // security guide
  expect(en).toContain('href="/documentation.pdf?lang=en"')
  const fr = await (await get("/documentation?lang=fr")).text()
  expect(fr).toContain("Connexion au tableau de bord") // guide de sécurité
  // Search: only the sections holding every word stay visible (accents ignored).
  const hit = await (await get("/documentation?lang=fr&q=ARGON2ID+tentatives+verification")).text()
  const all = [...hit.matchAll(/<section class="doc-section"[^>]*>/g)].map((m) => m[0])
  const visible = all.filter((tag) => !/\shidden>$/.test(tag))
  expect(visible.length).toBeGreaterThan(0)
  expect(visible.length).toBeLessThan(all.length)
  // A word only the translated workers chapter holds: exactly its "Dormant veut dire dormant" section.
  const fr2 = await (await get("/documentation?lang=fr&q=clavier+souris")).text()
  const shown = [...fr2.matchAll(/<section class="doc-section"[^>]*>([\s\S]*?)<\/section>/g)].filter(
    (m) => !/\shidden>$/.test(m[0].slice(0, m[0].indexOf(">") + 1)),
  )
  expect(shown.length).toBe(1)
  expect(shown[0][1]).toContain("Dormant veut dire dormant")
  expect(shown[0][1]).toContain("Clavier et souris")
  const none = await (await get("/documentation?lang=en&q=zzzznotaword")).text()
  expect(none).toContain("No section matches")
})

test("/openapi.json validates as OpenAPI 3.1 and documents every API route the pool mounts", async () => {
  const r = await get("/openapi.json", false)
  expect(r.status).toBe(200)
  const doc = (await r.json()) as { openapi: string; paths: Record<string, Record<string, Record<string, unknown>>> }
  expect(doc.openapi).toBe("3.1.0")
  const v = new Validator()
  const res = await v.validate(doc as never)
  expect(res.errors ?? []).toEqual([])
  expect(res.valid).toBe(true)
  expect(v.version).toBe("3.1")

  // No mounted API route without its OPERATIONS line (a new route must add one)…
  const ops = Object.entries(doc.paths).flatMap(([p, m]) => Object.entries(m).map(([method, o]) => ({ p, method, o })))
  expect(ops.filter((x) => x.o["x-cellule-undocumented"]).map((x) => `${x.method} ${x.p}`)).toEqual([])
  // …and the routes of this pool's table are all there.
  const listed = new Set(ops.map((x) => `${x.method.toUpperCase()} ${x.p}`))
  for (const key of [
    "POST /v1/chat/completions",
    "GET /v1/models",
    "GET /v1/admin/keys",
    "GET /metrics",
    "GET /openapi.json",
  ])
    expect(listed).toContain(key)
  const table = Object.keys(OPERATIONS).map((k) => k.replace(/:([A-Za-z0-9_]+)/g, "{$1}"))
  // Every entry but those of services this pool does not mount (migration orders) is a mounted route.
  const stale = table.filter((k) => !listed.has(k) && !k.includes("/migration-orders"))
  expect(stale).toEqual([])

  // The readable page: no external script or stylesheet.
  const page = await (await get("/docs", false)).text()
  expect(page).toContain("/v1/chat/completions")
  expect(page).not.toMatch(/(src|href)="https?:\/\//)
  expect((await get("/redoc", false)).headers.get("location")).toBe("/docs")
})
