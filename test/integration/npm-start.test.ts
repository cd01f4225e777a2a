// `npm start`'s program on a fresh data dir: setup completed headlessly, pool + local worker with the
// generated demo model, the printed curl example answers, the one-time login link signs in once.
import { afterAll, expect, test } from "bun:test"
import { join } from "node:path"
import { BUN, ROOT, cleanupAll, spawnProc, tempDir } from "../support/proc.ts"

afterAll(cleanupAll)

test("the demo starts, prints its URL, serves /v1/status and the curl example, and a one-time login link", async () => {
  const p = spawnProc([BUN, join(ROOT, "install/dev/start.ts")], {
    env: { CELLULE_DATA_DIR: tempDir("cellule-demo-"), PORT: "0" },
  })
  const [, url] = await p.waitFor(/Cellule is running: (http:\/\/\S+)/, 120_000)
  const status = (await (await fetch(`${url}/v1/status`)).json()) as { status: string; db: string; workers: number }
  expect(status).toMatchObject({ status: "ok", db: "ok", workers: 1 })

  // The curl line exactly as printed.
  const body = p.stdout().match(/-d '(\{.*\})'/)![1]
  const r = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  })
  expect(r.status).toBe(200)
  expect(((await r.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBeGreaterThan(0)

  const link = p.stdout().match(/(http:\/\/\S+\/auth\/once\/\S+)/)![1]
  const first = await fetch(link, { redirect: "manual" })
  expect(first.status).toBeLessThan(400)
  expect(first.headers.get("set-cookie") ?? "").toContain("cellule_session=")
  expect((await fetch(link, { redirect: "manual" })).status).toBeGreaterThanOrEqual(400)
  expect(await p.kill("SIGTERM")).toBe(0)
})
