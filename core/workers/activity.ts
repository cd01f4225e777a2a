// core/workers/activity — "dormant means dormant": how busy the employee's machine is, not counting
// the worker itself, mapped to available / throttled / busy. The probe is injectable: /proc/stat on
// Linux, a file written by a site agent (or a test), or anything else returning a load percentage.
import { cpus } from "node:os"
import { readFileSync } from "node:fs"
import { logger } from "../log.ts"
import type { Activity } from "./protocol.ts"

const log = logger("workers.activity")

export interface ActivityProbe {
  /** Host CPU load in percent (0-100) excluding this process, or undefined when unknown. */
  hostLoadPct(): number | undefined
}

/** Reads a number (0-100) from a file; "busy"/"idle" words also work. Missing file: unknown. */
export function fileProbe(path: string): ActivityProbe {
  return {
    hostLoadPct() {
      try {
        const s = readFileSync(path, "utf8").trim().toLowerCase()
        if (s === "busy") return 100
        if (s === "idle" || s === "available") return 0
        const n = Number(s)
        return Number.isFinite(n) ? Math.max(0, Math.min(100, n)) : undefined
      } catch {
        return undefined
      }
    },
  }
}

/** Linux: whole-machine CPU time from /proc/stat minus this process's own CPU time, between samples. */
export function procStatProbe(): ActivityProbe {
  let last: { busy: number; total: number; own: number } | undefined
  const ticksPerMs = 100 / 1000 // USER_HZ is 100 on every Linux we ship for
  return {
    hostLoadPct() {
      let line: string
      try {
        line = readFileSync("/proc/stat", "utf8").split("\n")[0]
      } catch {
        return undefined
      }
      const f = line.trim().split(/\s+/).slice(1).map(Number)
      const idle = (f[3] ?? 0) + (f[4] ?? 0)
      const total = f.reduce((a, b) => a + b, 0)
      const u = process.cpuUsage()
      const own = ((u.user + u.system) / 1000) * ticksPerMs
      const now = { busy: total - idle, total, own }
      const prev = last
      last = now
      if (!prev || now.total <= prev.total) return undefined
      const others = Math.max(0, now.busy - prev.busy - (now.own - prev.own))
      return Math.min(100, (others / (now.total - prev.total)) * 100)
    },
  }
}

// The format is a setting of the pool too (validated at its boot), so it is parsed in core/config.
export { parseWorkingHours } from "../config/working-hours.ts"

export interface ActivityPolicy {
  throttledPct: number
  busyPct: number
  /** Keyboard or mouse used less than this long ago: someone is at the desk, at best `throttled` (0: ignore). */
  inputActiveMs?: number
  /** During these hours the worker is at best `throttled`: other workers are preferred. */
  workingHours?: (ms: number) => boolean
}

export function classifyLoad(pct: number | undefined, throttledPct: number, busyPct: number): Activity {
  if (pct === undefined) return "available"
  if (pct >= busyPct) return "busy"
  if (pct >= throttledPct) return "throttled"
  return "available"
}

/** Samples the probe every interval; calls onChange (once per change) so the pool hears at once. */
export class ActivityMonitor {
  current: Activity = "available"
  private timer?: ReturnType<typeof setInterval>
  private policy: ActivityPolicy

  constructor(
    private readonly opts: {
      probe: ActivityProbe
      throttledPct: number
      busyPct: number
      intervalMs: number
      workingHours?: (ms: number) => boolean
      /** ms since the last keyboard/mouse input (input-idle.ts), undefined when unknown. */
      inputIdleMs?: () => number | undefined
      inputActiveMs?: number
      now?: () => number
      onChange?: (a: Activity, loadPct: number | undefined) => void
    },
  ) {
    this.policy = {
      throttledPct: opts.throttledPct,
      busyPct: opts.busyPct,
      workingHours: opts.workingHours,
      inputActiveMs: opts.inputActiveMs,
    }
  }

  /** The pool's policy (welcome.activity_policy) replaces the local one; fields it leaves out stay. */
  setPolicy(p: Partial<ActivityPolicy>) {
    this.policy = { ...this.policy, ...Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) }
    log.info(
      `activity policy: throttled from ${this.policy.throttledPct}%, busy from ${this.policy.busyPct}%${this.policy.workingHours ? ", throttled during working hours" : ""}`,
    )
    this.sample()
  }

  sample(): Activity {
    const pct = this.opts.probe.hostLoadPct()
    let next = classifyLoad(pct, this.policy.throttledPct, this.policy.busyPct)
    if (next === "available" && this.policy.workingHours?.((this.opts.now ?? Date.now)())) next = "throttled"
    // Unknown input idleness (a server, a failed command) leaves the CPU measure alone: never "idle" by default.
    const idle = next === "available" && this.policy.inputActiveMs ? this.opts.inputIdleMs?.() : undefined
    if (idle !== undefined && idle < this.policy.inputActiveMs!) next = "throttled"
    if (next !== this.current) {
      log.info(
        `host activity ${this.current} → ${next}${pct === undefined ? "" : ` (load ${Math.round(pct)}% besides the worker, ${cpus().length} threads)`}`,
      )
      this.current = next
      this.opts.onChange?.(next, pct)
    }
    return next
  }

  start() {
    this.sample()
    this.timer ??= setInterval(() => this.sample(), this.opts.intervalMs)
  }

  stop() {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }
}
