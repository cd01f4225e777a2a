// Reading the audit log: filters (actor, action family, project, time range, pages, live tail) and
// the export in CSV and JSON lines, which must round-trip every field, quotes and newlines included.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { type AuditRow, AuditLog, CSV_COLUMNS, exportAudit, listAudit } from "../../../core/audit/index.ts"
import { ManualClock } from "../../../core/clock.ts"
import type { Database } from "../../../core/db/client.ts"
import { testDatabase } from "../../support/db.ts"
import { cleanupAll } from "../../support/proc.ts"
import { parseCsv, setProfile } from "./_support.ts"

let db: Database
const t0 = Date.UTC(2026, 0, 1)
const clock = new ManualClock(t0)
const HOUR = 3600_000
afterAll(cleanupAll)
beforeAll(async () => {
  db = await testDatabase()
  await setProfile(db.sql, "strict", null)
  const audit = new AuditLog(db.sql, clock)
  // 1 200 rows, one an hour: three actors, two projects, awkward text in targets and details.
  for (let i = 0; i < 1200; i++) {
    await audit.record({
      actor: i % 3 === 0 ? { kind: "admin", id: "ops@cabinet.example" } : { kind: "api_key", id: `key-${i % 3}` },
      action: i % 4 === 0 ? "key.create" : i % 4 === 1 ? "key.revoke" : "document.read",
      project: i % 2 ? "matter-1" : "matter-2",
      target: i % 50 === 0 ? `doc "quoted", with comma\nand newline é ${i}` : `document:${i}`,
      clientIp: "192.0.2.10",
      outcome: i % 7 === 0 ? "failure" : "success",
      details: { i, note: i % 50 === 0 ? 'a "quote", a, comma\r\nnew line' : "plain" },
    })
    clock.advance(HOUR)
  }
}, 180_000)

async function collect(it: AsyncIterable<string>) {
  let s = ""
  for await (const c of it) s += c
  return s
}

describe("listing", () => {
  test("filters by actor, action family, project and time range, newest first", async () => {
    const rows = await listAudit(db.sql, {
      actor: "admin:ops@cabinet.example",
      action: "key",
      project: "matter-2",
      from: new Date(t0 + 100 * HOUR),
      to: new Date(t0 + 200 * HOUR),
      limit: 500,
    })
    expect(rows.length).toBeGreaterThan(0)
    for (const r of rows) {
      expect(r.actor).toEqual({ kind: "admin", id: "ops@cabinet.example" })
      expect(r.action).toStartWith("key.")
      expect(r.project).toBe("matter-2")
      expect(Date.parse(r.at)).toBeGreaterThanOrEqual(t0 + 100 * HOUR)
      expect(Date.parse(r.at)).toBeLessThan(t0 + 200 * HOUR)
    }
    expect(rows.map((r) => r.id)).toEqual(rows.map((r) => r.id).sort((a, b) => b - a))
    const exact = await listAudit(db.sql, { action: "key.revoke", limit: 500 })
    expect(new Set(exact.map((r) => r.action))).toEqual(new Set(["key.revoke"]))
  })

  test("pages with before= and never more than 500 rows; the tail returns what followed", async () => {
    const first = await listAudit(db.sql, { limit: 10_000 })
    expect(first.length).toBe(500)
    const next = await listAudit(db.sql, { before: first[first.length - 1].id, limit: 500 })
    expect(next[0].id).toBe(first[first.length - 1].id - 1)
    const tail = await listAudit(db.sql, { after: 1195 })
    expect(tail.map((r) => r.id)).toEqual([1196, 1197, 1198, 1199, 1200])
  })
})

describe("export", () => {
  test("JSON lines round-trip every row, oldest first, page by page", async () => {
    const all = (await listAudit(db.sql, { limit: 500 }))
      .concat(await listAudit(db.sql, { before: 701, limit: 500 }))
      .concat(await listAudit(db.sql, { before: 201, limit: 500 }))
      .sort((a, b) => a.id - b.id)
    const text = await collect(exportAudit(db.sql, { format: "jsonl", pageSize: 97 }))
    const parsed = text
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as AuditRow)
    expect(parsed).toEqual(all)
  })

  test("CSV round-trips every field (quotes, commas, CRLF, accents) and honours from/to", async () => {
    const from = new Date(t0 + 40 * HOUR)
    const to = new Date(t0 + 160 * HOUR)
    const csv = await collect(exportAudit(db.sql, { format: "csv", from, to, pageSize: 33 }))
    const [header, ...records] = parseCsv(csv)
    expect(header).toEqual([...CSV_COLUMNS])
    expect(records.length).toBe(120)
    const want = (await listAudit(db.sql, { from, to, limit: 500 })).reverse()
    const got = records.map((c) => ({
      id: Number(c[0]),
      at: c[1],
      actor: { kind: c[2], id: c[3] },
      action: c[4],
      target: c[5] || null,
      project: c[6] || null,
      client_ip: c[7] || null,
      outcome: c[8],
      details: JSON.parse(c[9]),
      prev_hash: c[10],
      row_hash: c[11],
    }))
    expect(got).toEqual(want as never)
    expect(got.some((r) => r.target?.includes('"quoted", with comma\nand newline é'))).toBeTrue()
  })

  test("an unknown format is refused with a stable code", async () => {
    await expect(collect(exportAudit(db.sql, { format: "xml" as never }))).rejects.toMatchObject({
      code: "audit_format_invalid",
    })
  })
})
