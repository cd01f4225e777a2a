// The Host header is the client's to write: installer scripts, enrolment snippets and the redeem answer
// must not carry a hostile one, and an odd one must not break the route (it used to answer 500).
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { cleanupAll, startPool, type PoolProc } from "../support/proc.ts"

afterAll(cleanupAll)

/** curl lets us send any Host header (fetch would write its own). */
async function getWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
  const p = Bun.spawn(["curl", "-s", "-g", "-o", "-", "-w", "\n%{http_code}", "-H", `Host: ${host}`, url], {
    stdout: "pipe",
    stderr: "pipe",
  })
  const out = await new Response(p.stdout).text()
  await p.exited
  const i = out.lastIndexOf("\n")
  return { status: Number(out.slice(i + 1)), body: out.slice(0, i) }
}

describe("Host header", () => {
  let pool: PoolProc
  let port: string
  beforeAll(async () => {
    pool = await startPool()
    port = new URL(pool.url).port
  })

  test("a foreign Host is not written into the installer script", async () => {
    const r = await getWithHost(`${pool.url}/v1/install/worker.sh`, "evil.example")
    expect(r.status).toBe(200)
    expect(r.body).not.toContain("evil.example")
    expect(r.body).toContain('pool_url="http')
  })

  test.each([["a b"], ["evil.example:99999"], ["[zz::"], ["x".repeat(300)], ['q"uote'], ["evil.example/x"]])(
    "an odd Host (%s) → 400 host_invalid, never a 500 nor a script",
    async (host) => {
      const r = await getWithHost(`${pool.url}/v1/install/worker.sh`, host)
      expect(r.status).toBe(400)
      expect(JSON.parse(r.body)).toMatchObject({ error: "host_invalid" })
    },
  )

  test("the address the client really used is kept (loopback, the listening port)", async () => {
    const r = await getWithHost(`${pool.url}/v1/install/worker.sh`, `127.0.0.1:${port}`)
    expect(r.status).toBe(200)
    expect(r.body).toContain(`http://127.0.0.1:${port}`)
  })
})
