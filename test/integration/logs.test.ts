// CELLULE_LOG_FORMAT=json: every stderr line of a pool is one JSON object (time, level, tag, message,
// fields), and the pool logs each request (method, route template, status, duration) without bodies,
// query strings, path tokens or credentials. The text format stays the default.
import { afterAll, beforeAll, expect, test } from "bun:test"
import { cleanupAll, startPool, type PoolProc } from "../support/proc.ts"
import { until } from "../support/until.ts"

afterAll(cleanupAll)

const SECRET = {
  body: "body-secret-7f3a",
  bearer: "bearer-secret-91c2",
  query: "query-secret-55d0",
  path: "pathsecret0e4b",
}
let pool: PoolProc

interface Line {
  time: string
  level: string
  tag: string
  message: string
  fields: Record<string, unknown>
}
const lines = (): Line[] =>
  pool
    .stderr()
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => {
      try {
        return JSON.parse(l) as Line
      } catch {
        throw new Error(`not a JSON log line: ${l}`)
      }
    })

beforeAll(async () => {
  pool = await startPool({ env: { CELLULE_LOG_FORMAT: "json" } })
}, 200_000)

test("json format: one object per line; request lines carry method, route, status and duration, never secrets", async () => {
  await fetch(`${pool.url}/v1/models`)
  await fetch(`${pool.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${SECRET.bearer}` },
    body: JSON.stringify({ model: "nope", messages: [{ role: "user", content: SECRET.body }] }),
  })
  await fetch(`${pool.url}/v1/status?token=${SECRET.query}`)
  await fetch(`${pool.url}/login/link/${SECRET.path}`)
  const { value: reqs } = await until(
    "the request lines",
    async () => {
      const r = lines().filter((l) => l.tag === "cellule.http")
      return r.length >= 4 && r
    },
    10_000,
  )
  const all = lines()
  for (const l of all) {
    expect(Object.keys(l).sort()).toEqual(["fields", "level", "message", "tag", "time"])
    expect(Number.isNaN(Date.parse(l.time))).toBe(false)
  }
  expect(all.some((l) => l.tag === "cellule.pool" && l.level === "info")).toBe(true)
  const byRoute = Object.fromEntries(reqs.map((l) => [`${l.fields.method} ${l.fields.route}`, l]))
  console.log(reqs.map((l) => JSON.stringify(l)).join("\n"))
  expect(byRoute["GET /v1/models"].fields).toMatchObject({ status: 200 })
  expect(typeof byRoute["GET /v1/models"].fields.duration_ms).toBe("number")
  const chat = byRoute["POST /v1/chat/completions"]
  expect(chat.fields.status).toBeGreaterThanOrEqual(400)
  expect(chat.message).toBe(`POST /v1/chat/completions ${chat.fields.status} ${chat.fields.duration_ms}ms`)
  expect(byRoute["GET /v1/status"].fields.status).toBe(200)
  expect(byRoute["GET /login/…"]).toBeDefined()
  for (const s of Object.values(SECRET)) expect(pool.stderr()).not.toContain(s)
})

test("text format is the default; CELLULE_REQUEST_LOG=false turns request lines off", async () => {
  const [text, quiet] = await Promise.all([startPool(), startPool({ env: { CELLULE_REQUEST_LOG: "false" } })])
  for (const p of [text, quiet]) await fetch(`${p.url}/v1/models`)
  await until("the text request line", async () => text.stderr().includes("GET /v1/models 200"), 10_000)
  expect(text.stderr()).not.toMatch(/^\{"time"/m)
  await fetch(`${quiet.url}/v1/status`) // a later request: the earlier one would have been logged by now
  expect(quiet.stderr()).not.toContain("GET /v1/models")
})
