import { describe, expect, test } from "bun:test"
import { backupDate, backupName, gfsKeep } from "../../../core/backup/retention.ts"

const at = (iso: string) => ({ name: backupName(new Date(iso)), date: new Date(iso) })

describe("GFS retention", () => {
  // One backup a day at 02:00 UTC for 100 days, ending Thursday 2026-12-03, plus a second one that last day.
  const daily = Array.from({ length: 100 }, (_, i) => at(new Date(Date.UTC(2026, 11, 3 - i, 2)).toISOString()))
  const all = [...daily, at("2026-12-03T14:00:00Z")]

  test("keeps the newest of each of the last N days, ISO weeks and months", () => {
    const kept = [...gfsKeep(all, { daily: 3, weekly: 2, monthly: 3 })].sort()
    expect(kept).toEqual(
      [
        "2026-12-03T14:00:00Z", // today's newest (day, ISO week 49, December)
        "2026-12-02T02:00:00Z",
        "2026-12-01T02:00:00Z",
        "2026-11-29T02:00:00Z", // Sunday: newest of ISO week 48
        "2026-11-30T02:00:00Z", // newest of November
        "2026-10-31T02:00:00Z", // newest of October
      ]
        .map((d) => backupName(new Date(d)))
        .sort(),
    )
  })

  test("zero everywhere keeps nothing; the same backup can serve several buckets", () => {
    expect(gfsKeep(all, { daily: 0, weekly: 0, monthly: 0 }).size).toBe(0)
    expect([...gfsKeep(all, { daily: 1, weekly: 1, monthly: 1 })]).toEqual([
      backupName(new Date("2026-12-03T14:00:00Z")),
    ])
  })

  test("ISO week boundaries: 2026-01-01 (Thursday) is in 2026-W01; 2027-01-01 (Friday) in 2026-W53", () => {
    const b = [at("2026-12-31T00:00:00Z"), at("2027-01-01T00:00:00Z"), at("2027-01-04T00:00:00Z")]
    // 2026-12-31 and 2027-01-01 share ISO week 2026-W53: weekly 2 keeps 01-04 (W01) and 01-01 only.
    expect([...gfsKeep(b, { daily: 0, weekly: 2, monthly: 0 })].sort()).toEqual([b[1].name, b[2].name].sort())
  })

  test("names round-trip their date; other files are not backups", () => {
    const d = new Date("2026-12-05T07:01:02Z")
    expect(backupDate(backupName(d))).toEqual(d)
    expect(backupDate("notes.txt")).toBeUndefined()
  })
})
