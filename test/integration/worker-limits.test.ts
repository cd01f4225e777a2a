// A hostile worker against a real pool process, over a raw WebSocket: every field of hello is bounded
// (docs/protocol.md "Limits") and anything beyond is refused with close code 4009 — or 1009 when the
// frame itself is over the WebSocket maximum — before it reaches the scheduler, the log or the database.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import { cleanupAll, startPool, type PoolProc } from "../support/proc.ts"
import { LIMITS } from "../../core/workers/protocol.ts"

const TOKEN = "limits-token-abcdefghijklmnop"
let pool: PoolProc

beforeAll(async () => {
  pool = await startPool({ env: { CELLULE_WORKER_TOKEN: TOKEN } })
})
afterAll(cleanupAll)

const hello = (over: Record<string, unknown> = {}) => ({
  type: "hello",
  v: 1,
  worker_id: `limits-${crypto.randomUUID()}`,
  name: "w",
  version: "0.1.0",
  hardware: { os: "linux", arch: "x64", cpu_threads: 4, ram_mb: 8192 },
  models: [{ id: "m", kind: "llm", slots: 1 }],
  activity: "available",
  ...over,
})

/** Send one frame as the first message; resolve with what came back before the socket closed. */
function sendFirst(frame: string, waitMs = 15_000): Promise<{ code: number; reason: string; messages: any[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${pool.url.replace(/^http/, "ws")}/ws`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    } as unknown as string[])
    const messages: any[] = []
    const timer = setTimeout(() => {
      ws.close()
      resolve({ code: -1, reason: "still open", messages })
    }, waitMs)
    ws.onopen = () => ws.send(frame)
    ws.onmessage = (e) => {
      const m = JSON.parse(String(e.data))
      messages.push(m)
      // A welcomed worker stays connected: that is the answer, stop waiting.
      if (m.type === "welcome") {
        clearTimeout(timer)
        ws.close()
        resolve({ code: 0, reason: "welcomed", messages })
      }
    }
    ws.onclose = (e) => {
      clearTimeout(timer)
      resolve({ code: e.code, reason: e.reason, messages })
    }
    ws.onerror = () => {}
    setTimeout(() => reject(new Error("no answer")), waitMs + 5000)
  })
}

const rssMb = () => {
  const m = readFileSync(`/proc/${pool.proc.pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/)
  return Math.round(Number(m![1]) / 1024)
}

describe("bounded hello", () => {
  test("a well-formed hello at the limits is welcomed", async () => {
    const r = await sendFirst(
      JSON.stringify(
        hello({
          name: "n".repeat(LIMITS.nameChars),
          models: Array.from({ length: LIMITS.models }, (_, i) => ({ id: `m${i}`, kind: "llm", slots: 1 })),
        }),
      ),
    )
    expect(r.reason).toBe("welcomed")
  })

  test("a 10 MB name and 200 000 models: refused, the pool's memory and log stay flat", async () => {
    const before = rssMb()
    const logBefore = pool.stdout().length + pool.stderr().length
    const big = JSON.stringify(
      hello({
        name: "x".repeat(10 * 1024 * 1024),
        models: Array.from({ length: 200_000 }, (_, i) => ({ id: `model-${i}`, kind: "llm", slots: 1 })),
      }),
    )
    const r = await sendFirst(big)
    const grew = rssMb() - before
    const logged = pool.stdout().length + pool.stderr().length - logBefore
    console.log(`oversized hello: close ${r.code} (${r.reason}); pool RSS +${grew} MB; log +${logged} bytes`)
    expect([1009, 4009]).toContain(r.code)
    expect(r.messages.some((m) => m.type === "welcome")).toBe(false)
    expect(grew).toBeLessThan(150)
    expect(logged).toBeLessThan(10_000)
  })

  test.each([
    ["name over the limit", { name: "n".repeat(LIMITS.nameChars + 1) }],
    [
      "too many models",
      { models: Array.from({ length: LIMITS.models + 1 }, (_, i) => ({ id: `m${i}`, kind: "llm", slots: 1 })) },
    ],
    ["a model id over the limit", { models: [{ id: "m".repeat(LIMITS.modelIdChars + 1), kind: "llm", slots: 1 }] }],
    ["a version over the limit", { version: "1".repeat(LIMITS.versionChars + 1) }],
    [
      "a hardware os over the limit",
      { hardware: { os: "o".repeat(LIMITS.hardwareChars + 1), arch: "x64", cpu_threads: 4, ram_mb: 1 } },
    ],
    [
      "a gpu name over the limit",
      { hardware: { os: "linux", arch: "x64", cpu_threads: 4, ram_mb: 1, gpu: "g".repeat(LIMITS.hardwareChars + 1) } },
    ],
    ["absurd cpu_threads", { hardware: { os: "linux", arch: "x64", cpu_threads: 1e9, ram_mb: 1 } }],
    ["a hello frame over its size limit", { padding: "p".repeat(LIMITS.helloBytes) }],
  ])("%s: refused with close code 4009", async (_what, over) => {
    const r = await sendFirst(JSON.stringify(hello(over)))
    expect(r.code).toBe(4009)
    expect(r.messages.find((m) => m.type === "error")?.code).toBe("protocol_limit")
  })
})
