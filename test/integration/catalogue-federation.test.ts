// Issue 18, criteria 1 and 2 with real processes: three bonded `cellule pool`s, A the catalogue master,
// B and C satellites. A model uploaded on A is listed on B and C within 2 s (kind model_entry), B copies
// the file from A (signed p2p download, SHA-256 checked) and an --auto worker of B downloads it FROM B
// (B's request log has the download, A's has none) and serves a chat; an upload on B → 409 with A's URL.
// Then A is killed (SIGKILL): B's worker still answers; B is promoted in Chromium; A restarts as a
// satellite of B; two promotions at once on A and C leave exactly one master on every pool.
import { afterAll, beforeAll, expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import { admin, bondAll, startFedPool, type FedPool } from "../support/fed-pools.ts"
import { celluleCmd, cleanupAll, spawnProc, TEST_ADMIN, tempDir } from "../support/proc.ts"
import { tinyLlamaPath } from "../support/fixtures.ts"
import { launchBrowser, pageAcceptingDialogs, shot } from "../support/browser.ts"
import { until } from "../support/until.ts"

const TOKEN = "catalogue-federation-worker-token"
const env = (master: boolean) => ({
  CELLULE_WORKER_TOKEN: TOKEN,
  CELLULE_CATALOGUE_MASTER: String(master),
  CELLULE_CATALOGUE_SYNC_MS: "200",
})
let a: FedPool
let b: FedPool
let c: FedPool

beforeAll(async () => {
  ;[a, b, c] = await Promise.all([
    startFedPool({ name: "cat-a", env: env(true) }),
    startFedPool({ name: "cat-b", env: env(false) }),
    startFedPool({ name: "cat-c", env: env(false) }),
  ])
  await bondAll([a, b, c])
}, 300_000)
afterAll(cleanupAll)

const list = (p: FedPool) => admin(p, "GET", "/v1/admin/models")
const logs = (p: FedPool) => p.stdout() + p.stderr()

test("criterion 1: upload on the master → listed on both satellites within 2 s; a satellite's worker downloads from the satellite and serves; upload on a satellite → 409 with the master's URL", async () => {
  expect((await list(a)).catalogue.role).toBe("master")
  await until(
    "B and C see A as master",
    async () => (await list(b)).catalogue.master?.url === a.url && (await list(c)).catalogue.master?.url === a.url,
    15_000,
  )
  const bytes = readFileSync(await tinyLlamaPath())
  const up = await fetch(`${a.url}/v1/admin/models?file_name=tiny-cat.gguf`, {
    method: "POST",
    headers: { "x-cellule-user": TEST_ADMIN.email, "content-type": "application/octet-stream" },
    body: bytes,
  })
  expect(up.status).toBe(201)
  const entry = (await up.json()) as any
  const listed = await Promise.all(
    [b, c].map((p) =>
      until(
        `tiny-cat.gguf listed on ${p.name}`,
        async () => (await list(p)).data.find((e: any) => e.file_name === "tiny-cat.gguf"),
        2000,
        20,
      ),
    ),
  )
  for (const l of listed)
    expect(l.value).toMatchObject({ sha256: entry.sha256, size: bytes.length, header: { architecture: "llama" } })
  console.log(`listed on the satellites after ${listed.map((l) => Math.round(l.ms)).join(" / ")} ms`)

  // The copy from the master: B's store holds the file, hashed as the master's.
  await until(
    "B holds its copy",
    async () => (await list(b)).data.find((e: any) => e.file_name === "tiny-cat.gguf")?.present === true,
    30_000,
  )
  expect(logs(b)).toMatch(
    /cellule\.catalogue.*copied tiny-cat\.gguf from the catalogue master: \d+ bytes, sha256 [0-9a-f]{12}… verified/,
  )

  // Assigned on the master (accepted without a probe: no worker runs it yet), replicated to B.
  await admin(a, "POST", "/v1/admin/models/tiny-cat.gguf/probe/accept")
  await admin(a, "PUT", "/v1/admin/models/classes/cpu-mid", { file_name: "tiny-cat.gguf" })
  await until(
    "B's cpu-mid assignment",
    async () => (await list(b)).hardware_classes["cpu-mid"] === "tiny-cat.gguf",
    5000,
  )

  const worker = spawnProc(
    [
      ...celluleCmd(),
      "worker",
      "--auto",
      "--pool",
      b.url,
      "--token",
      TOKEN,
      "--data-dir",
      tempDir("cellule-worker-"),
      "--threads",
      "1",
      "--slots",
      "1",
      "--context-size",
      "512",
    ],
    { env: { CELLULE_HARDWARE_CLASS: "cpu-mid", CELLULE_ASSIGNMENT_POLL_MS: "300", CELLULE_ACTIVITY: "off" } },
  )
  await worker.waitFor(/cellule worker ready/, 120_000)
  // The worker's download came from B: B logged it, A never served the file to anyone but B's copy.
  expect(logs(b)).toMatch(/GET \/v1\/models\/files\/\S+ 20[06]/)
  expect(logs(a)).not.toMatch(/GET \/v1\/models\/files\//)
  const chat = await until(
    "B serves tiny-cat",
    async () => {
      const r = await fetch(`${b.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-cellule-user": TEST_ADMIN.email },
        body: JSON.stringify({ model: "tiny-cat", messages: [{ role: "user", content: "hello" }], max_tokens: 4 }),
      })
      return r.status === 200 && ((await r.json()) as any)
    },
    60_000,
  )
  expect(chat.value.model).toBe("tiny-cat")

  const refused = await fetch(`${b.url}/v1/admin/models?file_name=other.gguf`, {
    method: "POST",
    headers: { "x-cellule-user": TEST_ADMIN.email, "content-type": "application/octet-stream" },
    body: bytes,
  })
  expect(refused.status).toBe(409)
  expect(await refused.json()).toMatchObject({ error: "catalogue_read_only", master_url: a.url })
}, 300_000)

test("criterion 2: master killed → inference goes on; B promoted in Chromium; A returns as a satellite; two concurrent promotions leave one master", async () => {
  await a.kill("SIGKILL")
  const r = await fetch(`${b.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-cellule-user": TEST_ADMIN.email },
    body: JSON.stringify({ model: "tiny-cat", messages: [{ role: "user", content: "hello" }], max_tokens: 4 }),
  })
  expect(r.status).toBe(200)
  // Nothing replaced the dead master on its own.
  expect((await list(b)).catalogue.master.url).toBe(a.url)

  const browser = await launchBrowser()
  const { page, dialogs } = await pageAcceptingDialogs(browser)
  await page.goto(`${b.url}/login?next=/models`)
  await page.fill("#email", TEST_ADMIN.email)
  await page.fill("#password", TEST_ADMIN.password)
  await page.click('button[type="submit"]')
  await page.waitForURL(/\/models$/)
  await page.waitForSelector('#catalogue-role[data-role="satellite"]')
  await page.click("#promote-master")
  await page.waitForSelector('#catalogue-role[data-role="master"]')
  expect(dialogs.at(-1)).toContain("catalogue master")
  await shot(page, "catalogue-federation-promoted")
  await browser.close()
  await until("C follows B", async () => (await list(c)).catalogue.master?.url === b.url, 5000)

  a = await startFedPool({ name: "cat-a", port: a.port, dataDir: a.dataDir, env: env(true) })
  await until(
    "A returns as a satellite of B",
    async () => {
      const v = (await list(a)).catalogue
      return v.role === "satellite" && v.master?.url === b.url && v
    },
    30_000,
  )

  // Two admins at once on two pools.
  await Promise.all([
    admin(a, "POST", "/v1/admin/models/promote-master"),
    admin(c, "POST", "/v1/admin/models/promote-master"),
  ])
  const { value: views } = await until(
    "one master everywhere",
    async () => {
      const v = await Promise.all([a, b, c].map(async (p) => (await list(p)).catalogue))
      const masters = new Set(v.map((x) => x.master?.pool))
      return masters.size === 1 && v
    },
    15_000,
  )
  expect(views.filter((v: any) => v.role === "master").length).toBe(1)
  expect(views[0].master.epoch).toBe(3)
  expect([a.url, c.url]).toContain(views[0].master.url)
}, 300_000)
