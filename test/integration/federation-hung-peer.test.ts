// A frozen peer (SIGSTOP: a sleeping laptop, a host that drops packets) must not stall gossip to the
// others: three real pools, one frozen, several changes still reach the live one in well under 500 ms
// each; resumed (SIGCONT), the frozen pool catches up.
import { afterAll, beforeAll, expect, test } from "bun:test"
import { cleanupAll, TEST_ADMIN } from "../support/proc.ts"
import { admin, bondAll, makeMaster, settingOn, startFedPool, type FedPool } from "../support/fed-pools.ts"
import { until } from "../support/until.ts"

let pools: FedPool[]
beforeAll(async () => {
  pools = await Promise.all(["hung-a", "hung-b", "hung-c"].map((name) => startFedPool({ name })))
  await bondAll(pools)
  // hung-a takes the setting changes (satellites answer 409 settings_read_only).
  await makeMaster(pools, 0)
}, 900_000)
afterAll(async () => {
  for (const p of pools ?? []) process.kill(p.proc.pid, "SIGCONT")
  await cleanupAll()
})

test("with one peer frozen, every change still reaches the others in under 500 ms; it catches up when resumed", async () => {
  const [a, b, c] = pools
  // Warm up: all three see a first change, so every pipeline has its peer's marks.
  await admin(a, "PUT", "/v1/admin/settings/moe_local_config", { value: { n: 0 } })
  for (const p of [b, c])
    await until(`warm-up on ${p.name}`, async () => (await settingOn(p, "moe_local_config")) as any, 5000)

  process.kill(c.proc.pid, "SIGSTOP")
  const times: number[] = []
  for (let n = 1; n <= 6; n++) {
    const value = { n, at: Date.now() }
    await admin(a, "PUT", "/v1/admin/settings/moe_local_config", { value })
    const seen = await until(
      `change ${n} on ${b.name}`,
      async () => Bun.deepEquals(await settingOn(b, "moe_local_config"), value),
      15_000,
      10,
    )
    times.push(Math.round(seen.ms))
    // Space the changes past the peer call timeout, so later changes meet a pipeline that already failed.
    if (n === 3) await Bun.sleep(3500)
  }
  console.log(`with ${c.name} frozen, changes reached ${b.name} in: ${times.join(", ")} ms`)
  for (const ms of times) expect(ms).toBeLessThan(500)

  const status = await admin(a, "GET", "/v1/federation/status")
  // The frozen peer's pipeline alternates between a call waiting for its timeout and a backoff.
  expect(["busy", "backoff"]).toContain(status.pipelines?.[c.name]?.state)
  expect(status.pipelines?.[c.name]?.failures).toBeGreaterThanOrEqual(1)
  expect(status.pipelines?.[b.name]?.failures).toBe(0)

  process.kill(c.proc.pid, "SIGCONT")
  const last = await settingOn(b, "moe_local_config")
  const caught = await until(
    `${c.name} caught up`,
    async () => Bun.deepEquals(await settingOn(c, "moe_local_config"), last),
    30_000,
    100,
  )
  console.log(`${c.name} caught up ${Math.round(caught.ms)} ms after SIGCONT`)
}, 180_000)

test("the cluster audit view names the frozen pool within its timeout and shows the others' chains", async () => {
  const [a, b, c] = pools
  process.kill(c.proc.pid, "SIGSTOP")
  try {
    const t0 = performance.now()
    const view = await admin(a, "GET", "/v1/admin/audit/cluster?action=bond&limit=20")
    const ms = performance.now() - t0
    console.log(`cluster audit view with ${c.name} frozen: ${Math.round(ms)} ms`)
    expect(ms).toBeLessThan(5000)
    expect(view.pools.map((p: any) => p.pool).sort()).toEqual([a.name, b.name].sort())
    for (const p of view.pools) {
      expect(p.verify.ok).toBe(true)
      // each pool's own bonds: pool-b's rows came from pool-b, signed call and all
      expect(p.rows.length).toBeGreaterThan(0)
      expect(p.rows.every((r: any) => r.action.startsWith("bond."))).toBe(true)
    }
    expect(view.unreachable).toEqual([{ pool: c.name, reason: expect.stringContaining("3000 ms") }])
    // the Audit page's cluster fragment says the same, by name
    const page = await fetch(`${a.url}/audit/cluster`, { headers: { "x-cellule-user": TEST_ADMIN.email } })
    const text = await page.text()
    expect(page.status).toBe(200)
    expect(text).toContain(`data-pool="${b.name}"`)
    expect(text).toMatch(new RegExp(`id="audit-cluster-unreachable"[\\s\\S]*data-pool="${c.name}"`))
  } finally {
    process.kill(c.proc.pid, "SIGCONT")
  }
  // an unsigned caller gets nothing from the peer route
  const anon = await fetch(`${b.url}/v1/federation/peer-audit`, { method: "POST", body: "{}" })
  expect(anon.status).toBe(401)
}, 60_000)
