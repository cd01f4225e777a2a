// Worker-side lifecycle with real processes: §4.6.1 failover with timings scaled down (primary
// killed → FAILING → DOWN → serves from the peer named in welcome.peer_pool_urls; primary back →
// sticky return; every transition in the pools' worker_audit_log), and "dormant means dormant"
// (a busy host gets no new jobs, resumes when idle; the probe is a file standing in for the CPU).
import { afterEach, describe, expect, test } from "bun:test"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { cleanupAll, startPool, startWorker, tempDir } from "../support/proc.ts"
import { freePort } from "../support/proc.ts"
import { tinyLlamaPath } from "../support/fixtures.ts"
import { openDatabase } from "../../core/db/client.ts"

const TOKEN = "failover-token-abcdefghijkl"
afterEach(cleanupAll)

// The public GET /v1/workers: counts by activity and per model, never a worker's id.
type Snapshot = {
  workers: number
  activity: Record<"available" | "throttled" | "busy", number>
  models: { id: string; busy: number; jobs_done: number }[]
}
const snapshot = async (url: string) => (await (await fetch(`${url}/v1/workers`)).json()) as Snapshot
const chat = (url: string, signal?: AbortSignal) =>
  fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "hi" }], max_tokens: 3 }),
    signal,
  })

async function until(cond: () => Promise<boolean> | boolean, ms: number, what: string) {
  const t0 = Date.now()
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`)
    await Bun.sleep(50)
  }
  return Date.now() - t0
}
const safe = (f: () => Promise<boolean>) => () => f().catch(() => false)

async function auditOf(dataDir: string) {
  const db = await openDatabase({ dataDir })
  try {
    return (await db.sql`select event, detail from worker_audit_log order by id`).map((r) => r.event as string)
  } finally {
    await db.close()
  }
}

describe("failover hysteresis (scaled: FAILING 1 s, DOWN 2.5 s, retry 0.3 s, sticky 0.8 s)", () => {
  test("primary killed → FAILING → DOWN → serves from the peer; primary back → sticky return; all audited", async () => {
    const model = await tinyLlamaPath()
    const peer = await startPool({ env: { CELLULE_WORKER_TOKEN: TOKEN, POOL_NAME: "peer" } })
    const port = await freePort()
    const primaryDir = tempDir()
    const primaryEnv = { CELLULE_WORKER_TOKEN: TOKEN, POOL_NAME: "primary", CELLULE_PEER_POOL_URLS: peer.url }
    let primary = await startPool({ dataDir: primaryDir, args: ["--port", String(port)], env: primaryEnv })
    const worker = await startWorker({
      poolUrl: primary.url,
      token: TOKEN,
      models: [`tiny=${model}`],
      env: {
        CELLULE_FAILOVER_FAILING_MS: "1000",
        CELLULE_FAILOVER_DOWN_MS: "2500",
        CELLULE_FAILOVER_RETRY_MS: "300",
        CELLULE_FAILOVER_STICKY_MS: "800",
      },
    })
    expect((await snapshot(primary.url)).workers).toBe(1)

    const killedAt = Date.now()
    await primary.kill("SIGKILL")
    await worker.waitFor(/failover_failing/, 10_000)
    const failingMs = Date.now() - killedAt
    await worker.waitFor(/failover_down/, 10_000)
    const downMs = Date.now() - killedAt
    await worker.waitFor(/serving_from_peer/, 10_000)
    const onPeerMs = Date.now() - killedAt
    console.log(
      `failover: FAILING after ${failingMs} ms, DOWN after ${downMs} ms, serving from the peer after ${onPeerMs} ms`,
    )
    expect(failingMs).toBeGreaterThanOrEqual(900)
    expect(downMs).toBeGreaterThanOrEqual(2400)
    expect((await snapshot(peer.url)).workers).toBe(1)
    const res = await chat(peer.url)
    expect(res.status).toBe(200)

    const backAt = Date.now()
    primary = await startPool({ dataDir: primaryDir, args: ["--port", String(port)], env: primaryEnv })
    await worker.waitFor(/sticky_return/, 10_000)
    await until(
      safe(async () => (await snapshot(primary.url)).workers === 1),
      10_000,
      "worker back on the primary",
    )
    const returnMs = Date.now() - backAt
    console.log(`sticky return: back on the primary ${returnMs} ms after it came back`)
    await until(
      safe(async () => (await snapshot(peer.url)).workers === 0),
      5_000,
      "worker gone from the peer",
    )
    expect((await chat(primary.url)).status).toBe(200)

    // The worker keeps its own audit file, and each pool recorded what it was told.
    const local = readFileSync(join(worker.dataDir, "audit.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).event)
    // A sticky return to a pool still starting on a loaded machine may fail once: the worker goes back
    // to the peer (failover_to_peer, serving_from_peer…) and tries again. Those retries are folded
    // away; every other event, and the order, must be exactly the expected ones.
    const retries = /,sticky_return(,failover_to_peer(,serving_from_peer)+)+(?=,sticky_return)/g
    const folded = `,${local.join(",")}`.replace(retries, "").slice(1).split(",")
    expect(folded).toEqual([
      "failover_failing",
      "failover_down",
      "failover_to_peer",
      "serving_from_peer",
      "sticky_return",
      "failover_primary_ok",
    ])
    await Bun.sleep(1500) // one heartbeat carries the last events to the primary
    await worker.kill()
    await primary.kill()
    await peer.kill()
    const onPeer = await auditOf(peer.dataDir)
    expect(onPeer).toEqual(
      expect.arrayContaining([
        "connected",
        "failover_failing",
        "failover_down",
        "failover_to_peer",
        "serving_from_peer",
      ]),
    )
    const onPrimary = await auditOf(primaryDir)
    expect(onPrimary).toEqual(expect.arrayContaining(["connected", "sticky_return", "failover_primary_ok"]))
  }, 180_000)
})

describe("dormant means dormant", () => {
  test("a worker whose host gets busy stops receiving new jobs and resumes when idle", async () => {
    const model = await tinyLlamaPath()
    const probe = join(tempDir(), "load")
    writeFileSync(probe, "5")
    const pool = await startPool({ env: { CELLULE_WORKER_TOKEN: TOKEN } })
    await startWorker({
      poolUrl: pool.url,
      token: TOKEN,
      models: [`tiny=${model}`],
      env: { CELLULE_ACTIVITY_FILE: probe, CELLULE_ACTIVITY_INTERVAL_MS: "100" },
    })
    expect((await snapshot(pool.url)).activity.available).toBe(1)
    expect((await chat(pool.url)).status).toBe(200)

    writeFileSync(probe, "65")
    await until(
      safe(async () => (await snapshot(pool.url)).activity.throttled === 1),
      5_000,
      "throttled",
    )
    expect((await chat(pool.url)).status).toBe(200) // throttled still serves (it is only ranked last)

    writeFileSync(probe, "busy")
    const ms = await until(
      safe(async () => (await snapshot(pool.url)).activity.busy === 1),
      5_000,
      "busy",
    )
    console.log(`activity: busy reported to the pool ${ms} ms after the host got busy`)
    const done = (await snapshot(pool.url)).models[0].jobs_done
    let answered = false
    const pending = chat(pool.url).then((r) => {
      answered = true
      return r
    })
    await Bun.sleep(2000)
    expect(answered).toBe(false)
    expect((await snapshot(pool.url)).models[0].jobs_done).toBe(done)

    writeFileSync(probe, "idle")
    const res = await pending
    expect(res.status).toBe(200)
    expect((await snapshot(pool.url)).activity.available).toBe(1)
  }, 120_000)

  test("the admin's policy from the pool (working hours, thresholds) reaches the worker in welcome", async () => {
    const model = await tinyLlamaPath()
    const probe = join(tempDir(), "load")
    writeFileSync(probe, "30")
    // Every day, all day: the desktop is always within working hours, so at best throttled.
    const pool = await startPool({
      env: {
        CELLULE_WORKER_TOKEN: TOKEN,
        CELLULE_WORKER_WORKING_HOURS: "sun-sat 00:00-23:59",
        CELLULE_WORKER_BUSY_PCT: "25",
      },
    })
    await startWorker({
      poolUrl: pool.url,
      token: TOKEN,
      models: [`tiny=${model}`],
      env: { CELLULE_ACTIVITY_FILE: probe, CELLULE_ACTIVITY_INTERVAL_MS: "100" },
    })
    // Load 30 % is below the worker's own busy threshold (80) but above the pool's (25).
    await until(
      safe(async () => (await snapshot(pool.url)).activity.busy === 1),
      5_000,
      "busy by the pool's threshold",
    )
    writeFileSync(probe, "0")
    await until(
      safe(async () => (await snapshot(pool.url)).activity.throttled === 1),
      5_000,
      "throttled in working hours",
    )
  }, 120_000)
})
