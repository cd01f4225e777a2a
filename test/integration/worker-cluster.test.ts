// Worker identity across the cluster (issue 14.4), with real processes: two bonded pools at trust 3, a
// worker provisioned on A. Its token replicates to B ("worker_token" envelopes), its pool hands it B's
// URL at the handshake (no CELLULE_PEER_POOL_URLS anywhere), a revocation on B disconnects it from A,
// and with A killed it serves from B after the (scaled) hysteresis.
import { afterAll, beforeAll, expect, test } from "bun:test"
import { cleanupAll, startWorker } from "../support/proc.ts"
import { tinyLlamaPath } from "../support/fixtures.ts"
import { admin, bondAll, startFedPool, type FedPool } from "../support/fed-pools.ts"
import { until } from "../support/until.ts"

let a: FedPool
let b: FedPool
let model: string

beforeAll(async () => {
  model = await tinyLlamaPath()
  ;[a, b] = await Promise.all([startFedPool({ name: "pool-a" }), startFedPool({ name: "pool-b" })])
  await bondAll([a, b])
}, 240_000)
afterAll(cleanupAll)

/** Enrol a worker on `pool` as an installer would: a provisioning code redeemed for a token. */
async function enrol(pool: FedPool, name: string): Promise<string> {
  const { code } = await admin(pool, "POST", "/v1/admin/workers/provision", { os: "linux", hardware: "cpu" })
  const r = await fetch(`${pool.url}/v1/provisioning/redeem`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ code, name }),
  })
  expect(r.status).toBe(200)
  return ((await r.json()) as { token: string }).token
}

type Token = { id: number; name: string; revoked_at: string | null }
const tokenOn = async (pool: FedPool, name: string) =>
  ((await admin<{ data: Token[] }>(pool, "GET", "/v1/admin/workers/tokens")).data ?? []).find((t) => t.name === name)
const liveOn = async (pool: FedPool) => (await (await fetch(`${pool.url}/v1/workers`)).json()).workers as number

const chat = (url: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "hi" }], max_tokens: 3 }),
    signal: AbortSignal.timeout(30_000),
  })

test("a worker token revoked on B disconnects the worker from A within 2 s", async () => {
  const token = await enrol(a, "desk-revoked")
  const { ms: replicated } = await until("token known on B", () => tokenOn(b, "desk-revoked"), 10_000)
  console.log(`worker token replicated A → B in ${replicated} ms`)
  const worker = await startWorker({ poolUrl: a.url, token, models: [`tiny=${model}`] })
  expect(await liveOn(a)).toBe(1)

  const onB = (await tokenOn(b, "desk-revoked"))!
  const t0 = Date.now()
  await admin(b, "POST", `/v1/admin/workers/tokens/${onB.id}/revoke`)
  await worker.waitFor(/worker_token_revoked|4003/, 5_000)
  const ms = Date.now() - t0
  console.log(`revoked on B → worker disconnected from A in ${ms} ms`)
  expect(ms).toBeLessThan(2000)
  await until("A lists no worker", async () => (await liveOn(a)) === 0, 2_000)
  expect((await tokenOn(a, "desk-revoked"))?.revoked_at).toBeTruthy()
  // And it cannot come back on either pool.
  await Bun.sleep(1500)
  expect(await liveOn(a)).toBe(0)
  expect(await liveOn(b)).toBe(0)
  await worker.kill()
}, 120_000)

test("a provisioned worker whose pool is killed serves from the bonded peer after the hysteresis", async () => {
  const token = await enrol(a, "desk-failover")
  await until("token known on B", () => tokenOn(b, "desk-failover"), 10_000)
  const worker = await startWorker({
    poolUrl: a.url,
    token,
    models: [`tiny=${model}`],
    env: {
      CELLULE_FAILOVER_FAILING_MS: "1000",
      CELLULE_FAILOVER_DOWN_MS: "2500",
      CELLULE_FAILOVER_RETRY_MS: "300",
      CELLULE_FAILOVER_STICKY_MS: "800",
    },
  })
  // The peer list came from A's handshake: its trusted bonded peer, B.
  const saved = JSON.parse(await Bun.file(`${worker.dataDir}/peers.json`).text())
  expect(saved.peers).toEqual([b.url])

  const killedAt = Date.now()
  await a.kill("SIGKILL")
  await worker.waitFor(/serving_from_peer/, 15_000)
  const onPeerMs = Date.now() - killedAt
  console.log(`provisioned worker serving from B ${onPeerMs} ms after A was killed`)
  expect(onPeerMs).toBeGreaterThanOrEqual(2400)
  expect(await liveOn(b)).toBe(1)
  expect((await chat(b.url)).status).toBe(200)
  await worker.kill()
}, 180_000)
