// core/log — one consola instance, one tag per domain ("cellule.federation", ...).
// Never write to stdout/stderr directly from core; go through a tagged logger.
import { createConsola, type ConsolaInstance, LogLevels } from "consola"

const root: ConsolaInstance = createConsola({
  level: LogLevels.info,
  formatOptions: { date: true, colors: process.stderr.isTTY ?? false, compact: true },
  // Logs go to stderr so command output on stdout stays machine-readable.
  stdout: process.stderr,
  stderr: process.stderr,
})

export type LogLevelName = "silent" | "error" | "warn" | "info" | "debug" | "trace"

// withTag copies the level at creation; loggers made when a module loads must follow later changes.
const tagged: ConsolaInstance[] = []

export function setLogLevel(level: LogLevelName) {
  const n = LogLevels[level] ?? LogLevels.info
  root.level = n
  for (const l of tagged) l.level = n
}

export function logger(domain: string): ConsolaInstance {
  const l = root.withTag(`cellule.${domain}`)
  tagged.push(l)
  return l
}
