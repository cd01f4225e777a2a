// core/proxy/_log — the proxy's loggers (tag cellule.proxy): `log` for events, `access` for the
// access log, one line per request, written in batches so logging never costs a request its latency.
import { LogLevels } from "consola"
import { logger } from "../log.ts"

export const log = logger("proxy")
// One line per request: consola's folding of repeated lines is off for the proxy.
log.options.throttle = 0

let pending: string[] = []
let timer: ReturnType<typeof setTimeout> | undefined

/** Write what the access log holds (every 50 ms, and at stop). */
export function flushAccessLog(): void {
  if (timer) clearTimeout(timer)
  timer = undefined
  if (!pending.length) return
  const text = pending.join("")
  pending = []
  process.stderr.write(text)
}

let stampMs = -1
let stampText = ""
/** The line's ISO time, formatted once per millisecond: under load many lines share one (no Date each). */
function stampNow(): string {
  const ms = Date.now()
  if (ms !== stampMs) {
    stampMs = ms
    stampText = new Date(ms).toISOString()
  }
  return stampText
}

/**
 * The access log: consola's level and tag, but not consola's per-call work (a log object, a Date and
 * its formatting pipeline for every request): the line is formatted here and queued.
 */
function accessAt(level: number) {
  return (...args: unknown[]) => {
    if (access.level < level) return
    pending.push(`${stampNow()} [cellule.proxy] ${args.join(" ")}\n`)
    timer ??= setTimeout(flushAccessLog, 50)
  }
}

export const access = {
  level: log.level,
  info: accessAt(LogLevels.info),
  warn: accessAt(LogLevels.warn),
  error: accessAt(LogLevels.error),
  debug: accessAt(LogLevels.debug),
}

/** Take up the level the command set after these loggers were created. */
export function syncLogLevel(): void {
  log.level = access.level = logger("proxy").level
}
