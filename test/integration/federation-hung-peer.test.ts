// A frozen peer (SIGSTOP: a sleeping laptop, a host that drops packets) must not stall gossip to the
// others: three real pools, one frozen, several changes still reach the live one in well under 500 ms
// each; resumed (SIGCONT), the frozen pool catches up.
import { afterAll, beforeAll, expect, test } from "bun:test"
import { cleanupAll } from "../support/proc.ts"
import { admin, bondAll, settingOn, startFedPool, type FedPool } from "../support/fed-pools.ts"
import { until } from "../support/until.ts"

let pools: FedPool[]
beforeAll(async () => {
  pools = await Promise.all(["hung-a", "hung-b", "hung-c"].map((name) => startFedPool({ name })))
  await bondAll(pools)
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
