// The dashboard behind `cellule proxy`, in headless Chromium, in front of three real bonded pools:
// sign in through the entry, open every dashboard page 5 times without ever being sent back to
// /login (every browser path sticks to the pool that holds the session), watch the live Overview keep
// updating through the entry (its Server-Sent Events, also after the stream's one-minute reconnect),
// and sign in with a one-time link made on another pool than the one the entry sends us to.
import { afterAll, beforeAll, expect, test } from "bun:test"
import type { Page } from "playwright-core"
import { launchBrowser, shot } from "../support/browser.ts"
import { tinyLlamaPath } from "../support/fixtures.ts"
import {
  celluleCmd,
  cleanupAll,
  spawnProc,
  startCelluleProxy,
  startWorker,
  tempDir,
  testSetupAnswers,
  TEST_ADMIN,
  type Proc,
} from "../support/proc.ts"
import { bondAll, startFedPool, type FedPool } from "../support/fed-pools.ts"
import { NAV } from "../../views/layout.ts"

const TOKEN = "entry-browser-token-0123456789"
const ROUNDS = 5
/** The live stream's life, shortened from its minute so the reconnect is seen quickly. */
const STREAM_MS = 8_000
let pools: FedPool[]
/** One one-time link per pool, made before it started (its embedded database is its own once running). */
const linkOf = new Map<string, string>()
let proxy: Proc & { url: string }

async function setupWithLink(dataDir: string): Promise<string> {
  const p = spawnProc([
    ...celluleCmd(),
    "setup",
    "--answers",
    testSetupAnswers(),
    "--data-dir",
    dataDir,
    "--login-link",
  ])
  if ((await p.exited) !== 0) throw new Error(`cellule setup failed: ${p.stderr()}`)
  return p.stdout().match(/login link: (\/auth\/once\/\S+)/)![1]
}

beforeAll(async () => {
  const names = ["pool-a", "pool-b", "pool-c"]
  const dirs = names.map((n) => tempDir(`cellule-entry-${n}-`))
  const links = await Promise.all(dirs.map(setupWithLink))
  pools = await Promise.all(
    names.map((name, i) =>
      startFedPool({
        name,
        dataDir: dirs[i],
        env: { CELLULE_WORKER_TOKEN: TOKEN, CELLULE_DASHBOARD_STREAM_MS: String(STREAM_MS) },
      }),
    ),
  )
  for (const [i, p] of pools.entries()) linkOf.set(p.name, links[i])
  await bondAll(pools)
  proxy = await startCelluleProxy(
    pools.map((p) => p.url),
    { LOG_LEVEL: "info", CELLULE_PROXY_HEALTH_INTERVAL_MS: "1000" },
  )
}, 240_000)
afterAll(cleanupAll)

/** The pool the Overview says it is served by (its first card). */
const poolOnPage = async (page: Page) => (await page.textContent(".cards .card .v"))!.trim()

/** Pools that served the browser's requests through the proxy, from its access log, per path. */
function upstreamsByPath(): Map<string, Set<string>> {
  const by = new Map<string, Set<string>>()
  for (const m of proxy.stderr().matchAll(/127\.0\.0\.1 "(?:GET|POST) ([^"\s?]+)[^"]*" \d+ .*?upstream=(\S+)/g)) {
    const set = by.get(m[1]) ?? new Set<string>()
    set.add(m[2])
    by.set(m[1], set)
  }
  return by
}

let home: FedPool

test(`signed in through the entry, every dashboard page opens ${ROUNDS} times, never sent to /login`, async () => {
  const browser = await launchBrowser()
  const page = await browser.newPage({ locale: "en-GB" })
  await page.goto(`${proxy.url}/login`)
  await page.fill("#email", TEST_ADMIN.email)
  await page.fill("#password", TEST_ADMIN.password)
  await page.click('button[type="submit"]')
  await page.waitForURL(`${proxy.url}/`)
  const name = await poolOnPage(page)
  home = pools.find((p) => p.name === name)!
  expect(home).toBeDefined()

  // Any request for /login from now on (a redirect hop included: a pool that does not know the session
  // redirects there, and the sign-in page may bounce a known session onwards) is a failure.
  const toLogin: string[] = []
  page.on("request", (r) => {
    if (new URL(r.url()).pathname === "/login") toLogin.push(r.redirectedFrom()?.url() ?? r.url())
  })
  const bounced: string[] = []
  for (let round = 1; round <= ROUNDS; round++)
    for (const item of NAV) {
      const res = await page.goto(proxy.url + item.href)
      const at = new URL(page.url()).pathname
      if (res?.status() !== 200 || at !== item.href)
        bounced.push(`round ${round} ${item.href}: ${res?.status()} at ${at}`)
      else expect(await page.getAttribute('nav a[aria-current="page"]', "href")).toBe(item.href)
    }
  expect(bounced).toEqual([])
  expect(toLogin).toEqual([])
  await shot(page, "entry-01-overview")
  // Every page, its assets and its live stream came from the one pool that holds the session.
  await Bun.sleep(200)
  const served = upstreamsByPath()
  for (const item of NAV) expect([item.href, [...(served.get(item.href) ?? [])]]).toEqual([item.href, [home.url]])
  expect([...(served.get("/overview/stream") ?? [])]).toEqual([home.url])
  await page.close()
}, 240_000)

test("the live Overview keeps updating through the entry, also after its stream reconnects", async () => {
  const browser = await launchBrowser()
  const page = await browser.newPage({ locale: "en-GB" })
  const context = page.context()
  await page.goto(`${proxy.url}/login`)
  await page.fill("#email", TEST_ADMIN.email)
  await page.fill("#password", TEST_ADMIN.password)
  await page.click('button[type="submit"]')
  await page.waitForURL(`${proxy.url}/`)
  const openedAt = Date.now()
  // The Server-Sent Events stream opened through the proxy (dashboard.js marks the region only then).
  await page.waitForSelector('#live[data-live="sse"]', { timeout: 15_000 })
  expect(await page.textContent("#worker-count")).toBe("0")
  await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true))

  // A worker joins the pool behind this session: the Overview shows it without a reload.
  const worker = await startWorker({ poolUrl: home.url, token: TOKEN, models: [`tiny=${await tinyLlamaPath()}`] })
  await page.waitForFunction(() => document.querySelector("#worker-count")?.textContent === "1", undefined, {
    timeout: 30_000,
  })
  // Past the stream's life: EventSource reconnects, through the proxy, to the same pool.
  const wait = openedAt + STREAM_MS + 5_000 - Date.now()
  if (wait > 0) await Bun.sleep(wait)
  await worker.kill("SIGKILL")
  await page.waitForFunction(() => document.querySelector("#worker-count")?.textContent === "0", undefined, {
    timeout: 30_000,
  })
  expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true)
  expect(await page.getAttribute("#live", "data-live")).toBe("sse")
  expect(new URL(page.url()).pathname).toBe("/")
  await shot(page, "entry-02-live")
  // The stream was opened more than once (it lives STREAM_MS), every time on the session's pool.
  const streams = [...proxy.stderr().matchAll(/127\.0\.0\.1 "GET \/overview\/stream" (\d+) .*?upstream=(\S+)/g)]
  expect(streams.length).toBeGreaterThanOrEqual(1)
  for (const m of streams) expect([m[1], m[2]]).toEqual(["200", home.url])
  await context.close()
}, 180_000)

test("a one-time link made on another pool signs in through the entry, once", async () => {
  const other = pools.find((p) => p !== home)!
  const link = linkOf.get(other.name)!
  const browser = await launchBrowser()
  const page = await browser.newPage({ locale: "en-GB" })
  await page.goto(proxy.url + link)
  expect(new URL(page.url()).pathname).toBe("/")
  // Signed in on the entry's pool for this browser, not on the pool that made the link.
  expect(await poolOnPage(page)).toBe(home.name)
  await page.goto(`${proxy.url}/workers`)
  expect(new URL(page.url()).pathname).toBe("/workers")

  const fresh = await browser.newPage({ locale: "en-GB" })
  const again = await fresh.goto(proxy.url + link)
  expect(again?.status()).toBe(401)
  expect(await fresh.textContent("#login-error")).toContain("already used")
  await shot(fresh, "entry-03-link-used")
})
