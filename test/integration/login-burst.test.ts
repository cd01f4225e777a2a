// A burst of wrong passwords against the compiled pool: attempts are counted before Argon2 runs, so
// at most the account's limit is ever checked, and hashing runs off the event loop that serves the API.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { cleanupAll, startPool, TEST_ADMIN, type PoolProc } from "../support/proc.ts"

let pool: PoolProc
beforeAll(async () => {
  pool = await startPool({ compiled: true })
}, 180_000)
afterAll(cleanupAll)

const login = (email: string, password: string) =>
  fetch(`${pool.url}/login`, {
    method: "POST",
    body: new URLSearchParams({ email, password, next: "/" }),
    redirect: "manual",
  })

describe("login burst (compiled binary)", () => {
  test("60 concurrent wrong passwords: at most 5 checked, the rest 429; /v1/status keeps answering", async () => {
    let stop = false
    let worstMs = 0
    let polls = 0
    const poller = (async () => {
      while (!stop) {
        const t0 = performance.now()
        const r = await fetch(`${pool.url}/v1/status`)
        await r.arrayBuffer()
        worstMs = Math.max(worstMs, performance.now() - t0)
        polls++
        await Bun.sleep(20)
      }
    })()
    await Bun.sleep(100)
    // 60 guesses at the admin account and 15 at unknown accounts (those hash a dummy, same work), together.
    const [forAdmin, forOthers] = await Promise.all([
      Promise.all(Array.from({ length: 60 }, () => login(TEST_ADMIN.email, "wrong-password-000"))),
      Promise.all(Array.from({ length: 15 }, (_, i) => login(`nobody${i}@test.local`, "wrong-password-000"))),
    ])
    await Bun.sleep(100)
    stop = true
    await poller
    const statuses = forAdmin.map((r) => r.status)
    const checked = statuses.filter((s) => s === 401).length
    const refused = forAdmin.filter((r) => r.status === 429)
    console.log(
      `admin: ${checked} checked, ${refused.length} refused; others: ${forOthers.map((r) => r.status).join(",")}; ` +
        `/v1/status worst ${Math.round(worstMs)} ms over ${polls} polls`,
    )
    expect(checked).toBeLessThanOrEqual(5)
    expect(checked + refused.length).toBe(60)
    expect(Number(refused[0].headers.get("retry-after"))).toBeGreaterThan(0)
    for (const r of forOthers) expect([401, 429]).toContain(r.status)
    // Before: every guess hashed on the event loop and /v1/status waited behind all of them (1.7 s idle, far more loaded).
    expect(worstMs).toBeLessThan(1000)
    // The account is now locked, even for the right password.
    expect((await login(TEST_ADMIN.email, TEST_ADMIN.password)).status).toBe(429)
  }, 180_000)
})
