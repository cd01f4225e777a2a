// A worker id belongs to the token that enrolled it: another enrolled token presenting that id is
// refused (close 4004, logged) and the rightful worker keeps its connection and its jobs. The public
// GET /v1/workers names no worker; the admin route GET /v1/admin/workers keeps the details.
import { afterAll, beforeAll, expect, test } from "bun:test"
import { cleanupAll, startPool, TEST_ADMIN, type PoolProc } from "../support/proc.ts"

let pool: PoolProc
beforeAll(async () => {
  pool = await startPool({ env: { CELLULE_TRUSTED_NETWORKS: "127.0.0.1/32" } })
})
afterAll(cleanupAll)

const asAdmin = { "x-cellule-user": TEST_ADMIN.email, "content-type": "application/json" }

/** Enrol a worker as an installer would: a provisioning code from the admin API, redeemed for a token. */
async function enrol(name: string): Promise<string> {
  const { code } = await (
    await fetch(`${pool.url}/v1/admin/workers/provision`, {
      method: "POST",
      headers: asAdmin,
      body: JSON.stringify({ os: "linux", hardware: "cpu" }),
    })
  ).json()
  const r = await fetch(`${pool.url}/v1/provisioning/redeem`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ code, name }),
  })
  return ((await r.json()) as { token: string }).token
}

interface Conn {
  ws: WebSocket
  messages: any[]
  closed: Promise<{ code: number; reason: string }>
  welcomed: Promise<boolean>
}

function connect(token: string, workerId: string): Conn {
  const ws = new WebSocket(`${pool.url.replace(/^http/, "ws")}/ws`, {
    headers: { authorization: `Bearer ${token}` },
  } as unknown as string[])
  const messages: any[] = []
  let welcome!: (v: boolean) => void
  const welcomed = new Promise<boolean>((r) => (welcome = r))
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.onclose = (e) => {
      welcome(false)
      resolve({ code: e.code, reason: e.reason })
    }
  })
  ws.onopen = () =>
    ws.send(
      JSON.stringify({
        type: "hello",
        v: 1,
        worker_id: workerId,
        name: "desk-42",
        version: "0.1.0",
        hardware: { os: "linux", arch: "x64", cpu_threads: 4, ram_mb: 8192 },
        models: [{ id: "tiny", kind: "llm", slots: 1 }],
        activity: "available",
      }),
    )
  ws.onmessage = (e) => {
    const m = JSON.parse(String(e.data))
    messages.push(m)
    if (m.type === "welcome") welcome(true)
  }
  return { ws, messages, closed, welcomed }
}

test("another token presenting a worker's id is refused; the owner keeps its connection and its jobs", async () => {
  const [victimToken, attackerToken] = [await enrol("victim"), await enrol("attacker")]
  const id = `victim-${crypto.randomUUID()}`
  const victim = connect(victimToken, id)
  expect(await victim.welcomed).toBe(true)

  // The public list names no worker: the id cannot be learned there.
  const pub = await (await fetch(`${pool.url}/v1/workers`)).text()
  expect(pub).not.toContain(id)
  expect(JSON.parse(pub)).toMatchObject({ workers: 1 })

  const attacker = connect(attackerToken, id)
  const refused = await Promise.race([attacker.closed, Bun.sleep(5000).then(() => ({ code: -1, reason: "open" }))])
  expect(refused.code).toBe(4004)
  expect(attacker.messages.find((m) => m.type === "error")?.code).toBe("worker_id_taken")
  expect(attacker.messages.some((m) => m.type === "welcome")).toBe(false)
  await pool.waitFor(/worker_id_taken|belongs to another token/, 5000)

  // The owner was not evicted: still open, and a request for its model reaches it, not the attacker.
  expect(victim.ws.readyState).toBe(WebSocket.OPEN)
  void fetch(`${pool.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "secret" }], max_tokens: 2 }),
  }).catch(() => {})
  const t0 = Date.now()
  while (!victim.messages.some((m) => m.type === "job") && Date.now() - t0 < 5000) await Bun.sleep(25)
  expect(victim.messages.some((m) => m.type === "job")).toBe(true)

  // The admin route keeps the details, id included.
  const detail = await (await fetch(`${pool.url}/v1/admin/workers`, { headers: asAdmin })).json()
  expect(detail.workers.map((w: { id: string }) => w.id)).toEqual([id])
  expect((await fetch(`${pool.url}/v1/admin/workers`)).status).toBe(401)

  // The owner reconnecting with its own token is still welcome (a restart replaces its old connection).
  const again = connect(victimToken, id)
  expect(await again.welcomed).toBe(true)
  victim.ws.close()
  again.ws.close()
  attacker.ws.close()
}, 60_000)
