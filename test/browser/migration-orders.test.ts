// Migration orders with the executor off (issue 17, done-when 4), in headless Chromium on real pools:
// two bonded pools, two workers on A, `CELLULE_BALANCER_EXECUTOR_ENABLED=false` on A. Each worker is
// moved to B from the Workers page (manual move form); both orders wait in `issued` on the Worker
// balancing page, whose table refreshes itself (htmx). Approving one runs it (completed, the worker is
// on B); rejecting the other means it never runs (the worker stays on A). The page in French too.
import { afterAll, beforeAll, expect, test } from "bun:test"
import { admin, bondAll, startFedPool, type FedPool } from "../support/fed-pools.ts"
import { cleanupAll, startWorker, TEST_ADMIN } from "../support/proc.ts"
import { tinyLlamaPath } from "../support/fixtures.ts"
import { launchBrowser, pageAcceptingDialogs, shot } from "../support/browser.ts"
import { until } from "../support/until.ts"

const TOKEN = "orders-browser-token-0123456789"
const ENV = { CELLULE_WORKER_TOKEN: TOKEN, CELLULE_MIGRATION_EXECUTOR_MS: "200", CELLULE_MIGRATION_COOLDOWN_MS: "0" }

let a: FedPool
let b: FedPool
let workers: { id: string; name: string }[] = []

beforeAll(async () => {
  const model = await tinyLlamaPath()
  ;[a, b] = await Promise.all([
    startFedPool({ name: "orders-a", env: { ...ENV, CELLULE_BALANCER_EXECUTOR_ENABLED: "false" } }),
    startFedPool({ name: "orders-b", env: ENV }),
  ])
  await bondAll([a, b])
  for (const name of ["w-approve", "w-reject"])
    await startWorker({ poolUrl: a.url, token: TOKEN, models: [`tiny=${model}`], env: { CELLULE_WORKER_NAME: name } })
  workers = (await admin<{ workers: { id: string; name: string }[] }>(a, "GET", "/v1/admin/workers")).workers
}, 400_000)
afterAll(cleanupAll)

const liveOn = async (p: FedPool) =>
  (await admin<{ workers: { id: string }[] }>(p, "GET", "/v1/admin/workers")).workers.map((w) => w.id)
const orders = async () =>
  (await admin<{ data: { id: string; worker_id: string; state: string }[] }>(a, "GET", "/v1/admin/migration-orders"))
    .data

test("executor off: orders wait; approved in the page → executed; rejected → never executed", async () => {
  expect(workers).toHaveLength(2)
  const browser = await launchBrowser()
  const { page } = await pageAcceptingDialogs(browser)
  await page.goto(`${a.url}/login?next=/workers`)
  await page.fill("#email", TEST_ADMIN.email)
  await page.fill("#password", TEST_ADMIN.password)
  await page.click('button[type="submit"]')
  await page.waitForURL(/\/workers$/)

  // Manual move of each worker from the Workers page.
  for (const w of workers) {
    const form = page.locator(`form.move-worker:has(input[value="${w.id}"])`)
    await form.locator("select").selectOption({ label: "orders-b" })
    await form.locator("button").click()
    await page.waitForSelector("#workers-flash")
    expect(await page.textContent("#workers-flash")).toContain("Migration order issued")
  }
  const byWorker = new Map((await orders()).map((o) => [o.worker_id, o.id]))
  const approveId = byWorker.get(workers.find((w) => w.name === "w-approve")!.id)!
  const rejectId = byWorker.get(workers.find((w) => w.name === "w-reject")!.id)!

  await page.goto(`${a.url}/balancing`)
  expect(await page.getAttribute("#executor-state", "data-enabled")).toBe("false")
  expect(await page.getAttribute(`tr[data-order="${approveId}"]`, "data-state")).toBe("issued")
  expect(await page.getAttribute(`tr[data-order="${rejectId}"]`, "data-state")).toBe("issued")
  // Several executor passes later they still wait, and both workers are still on A.
  await Bun.sleep(1000)
  expect((await orders()).every((o) => o.state === "issued")).toBe(true)
  expect((await liveOn(a)).sort()).toEqual(workers.map((w) => w.id).sort())
  await shot(page, "orders-01-waiting")

  await page.click(`tr[data-order="${approveId}"] button.approve-order`)
  await page.waitForSelector("p.flash")
  await page.click(`tr[data-order="${rejectId}"] button.reject-order`)
  await page.waitForSelector(`tr[data-order="${rejectId}"][data-state="rejected"]`)
  // The table refreshes itself (htmx, every 2 s): the approved order reaches completed without a reload.
  await page.waitForSelector(`tr[data-order="${approveId}"][data-state="completed"]`, { timeout: 30_000 })
  await shot(page, "orders-02-decided")
  const moved = workers.find((w) => w.name === "w-approve")!.id
  const stayed = workers.find((w) => w.name === "w-reject")!.id
  await until("the approved worker on B", async () => (await liveOn(b)).includes(moved), 20_000)
  await Bun.sleep(1000)
  expect(await liveOn(a)).toEqual([stayed])
  expect((await orders()).find((o) => o.id === rejectId)!.state).toBe("rejected")

  // French.
  const fr = await browser.newPage({ locale: "fr-FR" })
  await fr.context().addCookies(await page.context().cookies())
  await fr.goto(`${a.url}/balancing`)
  const text = (await fr.textContent("#migration-orders")) ?? ""
  expect(text).toContain("Ordres de migration")
  expect(text).toContain("rejeté")
}, 200_000)

// The Worker balancing page's headcount form and the Workers page's home-pool pin (issue 17, "declared
// headcount editable … validation next to the field"; "pinned to its home pool"), on the same pools.
test("headcount form: errors next to each field, nothing saved; a valid site replicates; a pin shows and replicates", async () => {
  const browser = await launchBrowser()
  const { page } = await pageAcceptingDialogs(browser)
  await page.goto(`${a.url}/login?next=/balancing`)
  await page.fill("#email", TEST_ADMIN.email)
  await page.fill("#password", TEST_ADMIN.password)
  await page.click('button[type="submit"]')
  await page.waitForURL(/\/balancing$/)

  await page.fill("#site-site_id", "Bad Id!")
  await page.fill("#site-name", "")
  await page.fill("#site-headcount", "-3")
  await page.click("#site-save")
  await page.waitForSelector("#site-headcount-error")
  expect(await page.textContent("#site-site_id-error")).toContain("lowercase letters")
  expect(await page.textContent("#site-name-error")).toContain("Give the site a name")
  expect(await page.textContent("#site-headcount-error")).toContain("A whole number")
  expect(await page.getAttribute("#site-headcount", "aria-invalid")).toBe("true")
  expect(await page.inputValue("#site-site_id")).toBe("Bad Id!") // what was typed stays, to be corrected
  expect(await page.locator('tr[data-site="Bad Id!"]').count()).toBe(0)
  await shot(page, "orders-03-headcount-errors")

  await page.fill("#site-site_id", "lyon")
  await page.fill("#site-name", "Lyon")
  await page.fill("#site-headcount", "25")
  await page.selectOption("#site-pool", { label: "orders-b" })
  await page.click("#site-save")
  await page.waitForSelector('tr[data-site="lyon"]')
  expect(await page.textContent('tr[data-site="lyon"] td.headcount')).toBe("25")
  expect(await page.textContent('tr[data-site="lyon"]')).toContain("orders-b")
  expect(await page.locator(".field-error").count()).toBe(0)
  await until(
    "the site on B",
    async () =>
      (await (await fetch(`${b.url}/balancing`, { headers: { "x-cellule-user": TEST_ADMIN.email } })).text()).includes(
        'data-site="lyon"',
      ),
    10_000,
  )

  // Pin the worker still on A to A.
  const [stayed] = (await admin<{ workers: { id: string }[] }>(a, "GET", "/v1/admin/workers")).workers
  expect(stayed).toBeDefined()
  await page.goto(`${a.url}/workers`)
  await page.locator(`form.pin-worker:has(input[value="${stayed!.id}"]) button`).click()
  await page.waitForSelector(`tr[data-worker="${stayed!.id}"] .pin-state[data-pinned="here"]`)
  const pinOn = async (p: FedPool) =>
    (
      await admin<{ data: { worker_id: string; home_pool: string | null }[] }>(p, "GET", "/v1/admin/worker-pins")
    ).data.find((x) => x.worker_id === stayed!.id)?.home_pool
  const home = await pinOn(a)
  expect(home).toStartWith("atom_")
  await until("the pin on B", async () => (await pinOn(b)) === home, 10_000)
  await shot(page, "orders-04-pinned")
  await browser.close()
}, 120_000)
