// Enrolment as a script uses it, and revocation as the worker lives it (issue 14.13): the redeem answer
// carries the token id; an administrator revokes by worker id; the worker is told why (close 4003),
// logs that its token was revoked, stops knocking, and joins again once worker.json holds a new token.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { celluleCmd, cleanupAll, onCleanup, spawnProc, tempDir, TEST_ADMIN, TEST_POOL_ENV } from "../support/proc.ts"
import { testSetupAnswers } from "../support/proc.ts"
import { tinyLlamaPath } from "../support/fixtures.ts"
import { loadConfig } from "../../core/config/index.ts"
import { startPool, type RunningPool } from "../../core/pool/index.ts"
import { adminByEmail, createSession } from "../../core/auth/admins.ts"
import { SESSION_COOKIE } from "../../core/http/guards.ts"

let pool: RunningPool
let admin: { cookie: string; csrf: string }

afterAll(cleanupAll)
beforeAll(async () => {
  const config = loadConfig(
    "pool",
    {},
    {
      HOST: "127.0.0.1",
      PORT: "0",
      POOL_NAME: "revoke-test",
      CELLULE_DATA_DIR: tempDir("cellule-pool-"),
      CELLULE_HEARTBEAT_MS: "1000",
      CELLULE_SHUTDOWN_GRACE_MS: "500",
      CELLULE_SETUP_ANSWERS: testSetupAnswers(),
      ...TEST_POOL_ENV,
    },
  )
  pool = await startPool(config)
  onCleanup(() => pool.stop())
  const a = (await adminByEmail(pool.db.sql, TEST_ADMIN.email))!
  const s = await createSession(pool.db.sql, a.id, pool.services.clock)
  admin = { cookie: `${SESSION_COOKIE}=${s.token}`, csrf: s.csrf }
}, 120_000)

const api = (path: string, body?: unknown) =>
  fetch(`${pool.url}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { cookie: admin.cookie, "x-csrf-token": admin.csrf, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  })

/** Provision and redeem as an enrolment script would: two HTTP calls, no dashboard. */
async function enrol(name: string) {
  const { code } = (await (await api("/v1/admin/workers/provision", { os: "linux", hardware: "cpu" })).json()) as {
    code: string
  }
  const res = await fetch(`${pool.url}/v1/provisioning/redeem`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ code, name }),
  })
  expect(res.status).toBe(200)
  return (await res.json()) as { pool: string; token: string; token_id: number; name: string; pool_key: string }
}

const count = (text: string, re: RegExp) => text.match(new RegExp(re.source, "g"))?.length ?? 0

describe("enrolment and revocation from a script", () => {
  test("redeem answers the token id; a used code answers 401 provision_code_invalid", async () => {
    const { code } = (await (await api("/v1/admin/workers/provision", { os: "linux", hardware: "cpu" })).json()) as {
      code: string
    }
    const redeem = () =>
      fetch(`${pool.url}/v1/provisioning/redeem`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ code, name: "script-host" }),
      })
    const first = (await (await redeem()).json()) as Record<string, unknown>
    expect(first).toMatchObject({ name: "script-host", os: "linux", hardware: "cpu" })
    expect(typeof first.token_id).toBe("number")
    const listed = (await (await api("/v1/admin/workers/tokens")).json()) as { data: { id: number; name: string }[] }
    expect(listed.data.find((t) => t.id === first.token_id)?.name).toBe("script-host")
    const again = await redeem()
    expect(again.status).toBe(401)
    expect(((await again.json()) as { error: string }).error).toBe("provision_code_invalid")
  })

  test("revoked by worker id: the worker logs why, stops retrying, and rejoins once worker.json holds a new token", async () => {
    const enrolled = await enrol("desk-7")
    const configFile = join(tempDir("cellule-etc-"), "worker.json")
    writeFileSync(configFile, JSON.stringify({ pool: pool.url, token: enrolled.token }))
    const dataDir = tempDir("cellule-worker-")
    const args = ["worker", "--config", configFile, "--data-dir", dataDir, "--model", `tiny=${await tinyLlamaPath()}`]
    args.push("--threads", "1", "--slots", "1", "--context-size", "512", "--heartbeat-ms", "500")
    const w = spawnProc([...celluleCmd(), ...args])
    onCleanup(() => void w.kill("SIGKILL"))
    await w.waitFor(/cellule worker ready/, 90_000)
    const workerId = (JSON.parse(readFileSync(join(dataDir, "worker.json"), "utf8")) as { worker_id: string }).worker_id

    const rv = await api(`/v1/admin/workers/${workerId}/revoke`, {})
    expect(rv.status).toBe(200)
    expect(await rv.json()).toEqual({ worker_id: workerId, revoked: [enrolled.token_id], connections_closed: 1 })
    await w.waitFor(/revoked this worker's token/, 5000)
    const log = () => w.stdout() + w.stderr()
    // It does not knock again: in 4 s a retrying worker (backoff from 250 ms) would have tried several times.
    const connectsBefore = count(log(), /state \S+ → connecting/)
    await Bun.sleep(4000)
    expect(count(log(), /state \S+ → connecting/)).toBe(connectsBefore)
    expect(log()).not.toMatch(/disconnected from .*retrying/)
    expect(pool.scheduler.snapshot().workers.length).toBe(0)

    // Re-enrolment writes a new worker.json: the worker notices and joins with the new token.
    const again = await enrol("desk-7")
    writeFileSync(configFile, JSON.stringify({ pool: pool.url, token: again.token }))
    await w.waitFor(/token changed in its configuration/, 10_000)
    const t0 = Date.now()
    while (pool.scheduler.snapshot().workers.length !== 1) {
      if (Date.now() - t0 > 10_000) throw new Error("the re-enrolled worker did not rejoin within 10 s")
      await Bun.sleep(50)
    }
    await w.kill("SIGTERM")
  }, 180_000)

  test("a worker started with a revoked token is told so at its first attempt and does not retry", async () => {
    const enrolled = await enrol("desk-8")
    const rv = await api(`/v1/admin/workers/tokens/${enrolled.token_id}/revoke`, {})
    expect(rv.status).toBe(200)
    const dataDir = tempDir("cellule-worker-")
    const w = spawnProc([
      ...celluleCmd(),
      "worker",
      "--pool",
      pool.url,
      "--token",
      enrolled.token,
      "--data-dir",
      dataDir,
      "--model",
      `tiny=${await tinyLlamaPath()}`,
      "--threads",
      "1",
      "--slots",
      "1",
      "--context-size",
      "512",
    ])
    onCleanup(() => void w.kill("SIGKILL"))
    await w.waitFor(/revoked this worker's token/, 90_000)
    await Bun.sleep(3000)
    const log = w.stdout() + w.stderr()
    expect(count(log, /state \S+ → connecting/)).toBe(1)
    expect(log).not.toMatch(/disconnected from .*\(1006\)/)
    await w.kill("SIGTERM")
  }, 120_000)

  test("revoking an unknown worker id answers 404 worker_not_found", async () => {
    const res = await api("/v1/admin/workers/no-such-worker-1234/revoke", {})
    expect(res.status).toBe(404)
    expect(((await res.json()) as { error: string }).error).toBe("worker_not_found")
  })
})
