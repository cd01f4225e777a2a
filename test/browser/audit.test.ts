// The Audit page as an administrator meets it, on a real pool in headless Chromium: the chain status,
// a filter by action, the CSV export of what is shown (parsed back), and the live tail showing a
// sign-in made elsewhere within a few seconds, without reloading. French labels too.
import { afterAll, beforeAll, expect, test } from "bun:test"
import { launchBrowser, shot } from "../support/browser.ts"
import { cleanupAll, startPool, TEST_ADMIN, type PoolProc } from "../support/proc.ts"
import { parseCsv } from "../unit/audit/_support.ts"

let pool: PoolProc
beforeAll(async () => {
  pool = await startPool()
}, 180_000)
afterAll(cleanupAll)

/** A sign-in from somewhere else (another client, not the browser). */
const signInElsewhere = (password = TEST_ADMIN.password) =>
  fetch(`${pool.url}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ email: TEST_ADMIN.email, password }).toString(),
  })

test("filter, export and live tail on the Audit page", async () => {
  const browser = await launchBrowser()
  const page = await browser.newPage({ locale: "en-GB", acceptDownloads: true })
  await page.goto(`${pool.url}/login?next=/audit`)
  await page.fill("#email", TEST_ADMIN.email)
  await page.fill("#password", TEST_ADMIN.password)
  await page.click('button[type="submit"]')
  await page.waitForURL(/\/audit$/)
  expect(await page.getAttribute("#audit-chain", "data-ok")).toBe("true")

  // Filter: only sign-ins (the browser's own is there, with its outcome).
  expect((await signInElsewhere("not the password")).status).toBe(401)
  await page.fill("#f-action", "admin.sign_in")
  await page.click("#audit-filter")
  await page.waitForURL(/action=admin.sign_in/)
  const actions = await page.$$eval("#audit-rows tbody tr", (rows) => rows.map((r) => r.getAttribute("data-action")))
  expect(actions.length).toBeGreaterThanOrEqual(2)
  expect(new Set(actions)).toEqual(new Set(["admin.sign_in"]))
  const outcomes = await page.$$eval("#audit-rows tbody tr", (rows) => rows.map((r) => r.getAttribute("data-outcome")))
  expect(outcomes).toContain("failure")
  expect(outcomes).toContain("success")
  await shot(page, "audit-filtered")

  // Export: the CSV the button downloads parses back, header first, every row chained.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#audit-export-csv")])
  const csv = await Bun.file((await download.path())!).text()
  const [header, ...rows] = parseCsv(csv)
  expect(header.slice(0, 5)).toEqual(["id", "at", "actor_kind", "actor_id", "action"])
  expect(rows.length).toBeGreaterThanOrEqual(3)
  expect(rows.map((r) => r[4])).toContain("admin.sign_in")
  for (const r of rows) expect(r[11]).toMatch(/^[0-9a-f]{64}$/)

  // Live tail: a sign-in made elsewhere appears without a reload.
  const before = await page.$$eval("#audit-live tr[data-action]", (r) =>
    r.map((x) => Number(x.getAttribute("data-id"))),
  )
  expect((await signInElsewhere()).status).toBe(303)
  await page.waitForFunction(
    (max) =>
      Array.from(document.querySelectorAll("#audit-live tr[data-action='admin.sign_in'][data-outcome='success']")).some(
        (r) => Number(r.getAttribute("data-id")) > max,
      ),
    Math.max(...before),
    { timeout: 10_000 },
  )
  await shot(page, "audit-live-tail")

  // French.
  await page.goto(`${pool.url}/lang/fr?next=/audit`)
  expect(await page.textContent("#audit-chain h2")).toBe("Chaîne de preuve")
  expect(await page.textContent("#audit-export-csv")).toBe("Exporter en CSV")
}, 120_000)
