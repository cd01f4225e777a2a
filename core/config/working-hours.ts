// core/config/working-hours — the `mon-fri 08:00-18:00` format: CELLULE_WORKER_WORKING_HOURS is parsed at
// the pool's boot, and each worker parses the same text when its pool hands it over.

/** Working hours as given (sent to workers as text) and as a predicate on a timestamp (worker local time). */
export interface WorkingHours {
  readonly spec: string
  within(ms: number): boolean
}

const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

/**
 * Working hours as `mon-fri 08:00-18:00` (several ranges separated by `,`; days `mon`…`sun`, a range
 * or a single day; local time of the worker). Returns a predicate on a timestamp; throws on nonsense.
 */
export function parseWorkingHours(spec: string): (ms: number) => boolean {
  const ranges = spec
    .toLowerCase()
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const m = /^([a-z]{3})(?:-([a-z]{3}))?\s+(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$/.exec(part)
      if (!m) throw new Error(`working hours "${part}" must look like "mon-fri 08:00-18:00"`)
      const d1 = DAYS.indexOf(m[1])
      const d2 = DAYS.indexOf(m[2] ?? m[1])
      if (d1 < 0 || d2 < 0) throw new Error(`unknown day in "${part}"`)
      const days = new Set<number>()
      for (let d = d1; ; d = (d + 1) % 7) {
        days.add(d)
        if (d === d2) break
      }
      return { days, from: Number(m[3]) * 60 + Number(m[4]), to: Number(m[5]) * 60 + Number(m[6]) }
    })
  return (ms) => {
    const t = new Date(ms)
    const minute = t.getHours() * 60 + t.getMinutes()
    return ranges.some((r) => r.days.has(t.getDay()) && minute >= r.from && minute < r.to)
  }
}

/** The setting's parsed form; prints as the text it was given. */
export function workingHours(spec: string): WorkingHours {
  return Object.freeze({ spec, within: parseWorkingHours(spec), toJSON: () => spec, toString: () => spec })
}
