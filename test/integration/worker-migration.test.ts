// Worker migration orders with real processes (issue 17, admin guide §4.6.1–4.6.2): two bonded pools and
// one worker, timings scaled down (executor every 200 ms, rollback after 4 s, so the worker gives up on
// a dead target after 2 s). A manual move A → B runs issued → draining → completed (the target's view
// of its workers completes it) with steady requests that never fail, and the worker keeps the new pool
// in worker.json. Then the move back is ordered with A dead: the order is rolled_back, the worker comes
// back to B and keeps serving, no request fails, and every transition is in the audit log.
import { afterAll, beforeAll, expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { admin, bondAll, startFedPool, type FedPool } from "../support/fed-pools.ts"
import { cleanupAll, startWorker, type WorkerProc } from "../support/proc.ts"
import { tinyLlamaPath } from "../support/fixtures.ts"
import { until } from "../support/until.ts"

const TOKEN = "migration-token-abcdefghijkl"
const ENV = {
  CELLULE_WORKER_TOKEN: TOKEN,
  CELLULE_MIGRATION_EXECUTOR_MS: "200",
  CELLULE_MIGRATION_TIMEOUT_MS: "4000",
  CELLULE_MIGRATION_COOLDOWN_MS: "0",
}

type Order = { id: string; worker_id: string; state: string; target_pool: string; source_pool: string }

let a: FedPool
let b: FedPool
let ids: { atom_id: string }[]
let worker: WorkerProc
let workerId = ""

beforeAll(async () => {
  const model = await tinyLlamaPath()
  ;[a, b] = await Promise.all([startFedPool({ name: "mig-a", env: ENV }), startFedPool({ name: "mig-b", env: ENV })])
  ids = await bondAll([a, b])
  worker = await startWorker({ poolUrl: a.url, token: TOKEN, models: [`tiny=${model}`] })
  workerId = (await admin<{ workers: { id: string }[] }>(a, "GET", "/v1/admin/workers")).workers[0]!.id
}, 400_000)
afterAll(cleanupAll)

const chat = (url: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "hi" }], max_tokens: 8 }),
    signal: AbortSignal.timeout(60_000),
  }).then(async (r) => ({ status: r.status, body: await r.text() }))

/** Requests one after another (two in parallel) until stopped; every answer's status is kept. */
function steadyLoad(url: () => string) {
  const statuses: number[] = []
  let running = true
  const loop = async () => {
    while (running) statuses.push((await chat(url()).catch(() => ({ status: 0 }))).status)
  }
  const loops = [loop(), loop()]
  return {
    statuses,
    async stop() {
      running = false
      await Promise.all(loops)
      return statuses
    },
  }
}

const orders = async (p: FedPool) => (await admin<{ data: Order[] }>(p, "GET", "/v1/admin/migration-orders")).data
const connectedTo = async (p: FedPool) =>
  (await admin<{ workers: { id: string }[] }>(p, "GET", "/v1/admin/workers")).workers.some((w) => w.id === workerId)
const auditActions = async (p: FedPool) =>
  (await admin<{ data: { action: string; details: { order?: string } }[] }>(p, "GET", "/v1/admin/audit?limit=500")).data

test("manual move A → B: issued → draining → completed, no failed request, new pool in worker.json", async () => {
  const load = steadyLoad(() => a.url)
  await until("a few answers before the move", async () => load.statuses.length >= 2, 60_000)
  const order = await admin<Order>(a, "POST", "/v1/admin/migration-orders", {
    worker_id: workerId,
    target_pool: ids[1]!.atom_id,
  })
  expect(order.state).toBe("issued")
  const done = await until(
    "the order completed",
    async () => (await orders(a)).find((o) => o.id === order.id && o.state === "completed"),
    30_000,
  )
  console.log(`migration A → B completed in ${Math.round(done.ms)} ms`)
  expect(await connectedTo(b)).toBe(true)
  expect(await connectedTo(a)).toBe(false)
  // A keeps answering (it forwards to B now that its only worker left); a few more to be sure.
  const before = load.statuses.length
  await until("answers after the move", async () => load.statuses.length >= before + 3, 60_000)
  const statuses = await load.stop()
  console.log(`steady load during the move: ${statuses.length} requests, statuses ${[...new Set(statuses)]}`)
  expect(statuses.filter((s) => s !== 200)).toEqual([])
  const saved = JSON.parse(readFileSync(join(worker.dataDir, "worker.json"), "utf8"))
  expect(saved.pool_url).toBe(b.url)
  const actions = (await auditActions(a)).filter((r) => r.details?.order === order.id).map((r) => r.action)
  expect(actions).toEqual(expect.arrayContaining(["migration.issue", "migration.drain", "migration.complete"]))
}, 200_000)

test("move back to a dead target: rolled_back, the worker keeps serving on B, nothing lost", async () => {
  await until("the worker on B", () => connectedTo(b), 30_000)
  await a.kill("SIGKILL")
  const load = steadyLoad(() => b.url)
  await until("a few answers on B", async () => load.statuses.length >= 2, 60_000)
  const order = await admin<Order>(b, "POST", "/v1/admin/migration-orders", {
    worker_id: workerId,
    target_pool: ids[0]!.atom_id,
  })
  await until(
    "the order draining",
    async () => (await orders(b)).some((o) => o.id === order.id && o.state !== "issued"),
    10_000,
  )
  await worker.waitFor(/migration_abandoned/, 20_000)
  const rolled = await until(
    "the order rolled back",
    async () => (await orders(b)).find((o) => o.id === order.id && o.state === "rolled_back"),
    20_000,
  )
  console.log(`migration to a dead pool rolled back after ${Math.round(rolled.ms)} ms`)
  await until("the worker back on B", () => connectedTo(b), 20_000)
  const before = load.statuses.length
  await until("answers after the rollback", async () => load.statuses.length >= before + 3, 60_000)
  const statuses = await load.stop()
  console.log(`steady load during the failed move: ${statuses.length} requests, statuses ${[...new Set(statuses)]}`)
  expect(statuses.filter((s) => s !== 200)).toEqual([])
  // The worker still belongs to B: worker.json was restored.
  const saved = JSON.parse(readFileSync(join(worker.dataDir, "worker.json"), "utf8"))
  expect(saved.pool_url).toBe(b.url)
  const actions = (await auditActions(b)).filter((r) => r.details?.order === order.id).map((r) => r.action)
  expect(actions).toEqual(expect.arrayContaining(["migration.issue", "migration.drain", "migration.rollback"]))
}, 200_000)
