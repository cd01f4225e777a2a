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

export function setLogLevel(level: LogLevelName) {
  root.level = LogLevels[level === "error" ? "error" : level] ?? LogLevels.info
}

export function logger(domain: string): ConsolaInstance {
  return root.withTag(`cellule.${domain}`)
}
