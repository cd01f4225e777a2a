// A pool-to-pool call is judged on its headers before its body is read: an unsigned request, or one
// signed by a pool we have never bonded with (other than the bonding hello), is refused at once, and
// its body is never buffered. 100 unsigned 4 MiB posts took a pool from 356 MB to 1.15 GB.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { cleanupAll, startPool, type PoolProc } from "../support/proc.ts"

afterAll(cleanupAll)

/** Sends only the request head, announcing a body it never sends; resolves with the status line, or null. */
async function headOnly(url: string, path: string, headers: Record<string, string>, waitMs = 3000) {
  const u = new URL(url)
  let got = ""
  const socket = await Bun.connect({
    hostname: u.hostname,
    port: Number(u.port),
    socket: {
      data(_s, d) {
        got += new TextDecoder().decode(d)
      },
    },
  })
  const lines = [
    `POST ${path} HTTP/1.1`,
    `Host: ${u.host}`,
    "Content-Type: application/json",
    "Content-Length: 4000000",
  ]
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`)
  socket.write(`${lines.join("\r\n")}\r\n\r\n`)
  const until = Date.now() + waitMs
  while (!got.includes("\r\n\r\n") && Date.now() < until) await Bun.sleep(20)
  socket.end()
  return got ? got.split("\r\n")[0] : null
}

const rss = (pid: number) => {
  const status = require("node:fs").readFileSync(`/proc/${pid}/status`, "utf8") as string
  return Number(status.match(/VmRSS:\s+(\d+)/)![1]) * 1024
}

describe("pool-to-pool calls are judged on their headers", () => {
  let pool: PoolProc
  beforeAll(async () => {
    pool = await startPool()
  })

  test.each([["/v1/federation/p2p/gossip"], ["/v1/federation/p2p/pull"], ["/v1/federation/p2p/hello"]])(
    "unsigned %s → 401 before the body is sent",
    async (path) => {
      const status = await headOnly(pool.url, path, {})
      expect(status).toMatch(/^HTTP\/1\.1 401/)
    },
  )

  test("a gossip signed by an unknown pool → 401 before the body is sent", async () => {
    const status = await headOnly(pool.url, "/v1/federation/p2p/gossip", {
      "x-cellule-fed-atom": "a".repeat(64),
      "x-cellule-fed-ts": String(Date.now()),
      "x-cellule-fed-nonce": "c".repeat(32),
      "x-cellule-fed-sig": "b".repeat(128),
    })
    expect(status).toMatch(/^HTTP\/1\.1 401/)
  })

  test("100 unsigned 4 MiB posts do not grow the pool by more than 100 MB", async () => {
    const before = rss(pool.proc.pid)
    const body = new Uint8Array(4 * 1024 * 1024).fill(0x20)
    for (let round = 0; round < 4; round++)
      await Promise.all(
        Array.from({ length: 25 }, () =>
          fetch(`${pool.url}/v1/federation/p2p/gossip`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body,
          })
            .then((r) => r.arrayBuffer())
            .catch(() => {}),
        ),
      )
    const grown = rss(pool.proc.pid) - before
    expect(grown).toBeLessThan(100 * 1024 * 1024)
    expect((await fetch(`${pool.url}/v1/status`)).status).toBe(200)
  })
})
