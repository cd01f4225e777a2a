// core/log — one consola instance, one tag per domain ("cellule.federation", ...).
// Never write to stdout/stderr directly from core; go through a tagged logger.
// CELLULE_LOG_FORMAT=json (setLogFormat) turns every line into one JSON object:
// {"time","level","tag","message","fields"}; structured fields are passed with logEvent().
import { createConsola, type ConsolaInstance, type ConsolaReporter, type LogObject, LogLevels } from "consola"
import { format as formatArgs } from "node:util"

const root: ConsolaInstance = createConsola({
  level: LogLevels.info,
  formatOptions: { date: true, colors: process.stderr.isTTY ?? false, compact: true },
  // Logs go to stderr so command output on stdout stays machine-readable.
  stdout: process.stderr,
  stderr: process.stderr,
})

export type LogLevelName = "silent" | "error" | "warn" | "info" | "debug" | "trace"
export type LogFormat = "text" | "json"

// withTag copies the level at creation; loggers made when a module loads must follow later changes.
const tagged: ConsolaInstance[] = []

export function setLogLevel(level: LogLevelName) {
  const n = LogLevels[level] ?? LogLevels.info
  root.level = n
  for (const l of tagged) l.level = n
}

/** Structured fields of one log line (JSON format: its "fields"; text format: not printed). */
class Fields {
  constructor(readonly value: Record<string, unknown>) {}
}

let format: LogFormat = "text"

const jsonReporter: ConsolaReporter = {
  log(o: LogObject) {
    const fields: Record<string, unknown> = {}
    const words: unknown[] = []
    for (const a of o.args) {
      if (a instanceof Fields) Object.assign(fields, a.value)
      else if (a instanceof Error) {
        words.push(a.message)
        fields.error = { name: a.name, message: a.message, stack: a.stack }
      } else words.push(a)
    }
    const line = {
      time: (o.date ?? new Date()).toISOString(),
      level: o.type === "log" ? "info" : o.type,
      tag: o.tag || "cellule",
      message: formatArgs(...(words as [unknown, ...unknown[]])),
      fields,
    }
    process.stderr.write(`${JSON.stringify(line)}\n`)
  },
}

/** "json": one JSON object per line on stderr; "text" (default): consola's readable lines. */
export function setLogFormat(f: LogFormat) {
  if (f === format) return
  format = f
  const reporters = f === "json" ? [jsonReporter] : undefined
  if (reporters) {
    root.setReporters(reporters)
    for (const l of tagged) l.setReporters(reporters)
  }
}

/** A line with structured fields: the JSON format carries them in "fields", the text format prints the message only. */
export function logEvent(
  l: ConsolaInstance,
  level: "info" | "warn" | "error" | "debug",
  message: string,
  fields: Record<string, unknown>,
) {
  if (format === "json") l[level](message, new Fields(fields))
  else l[level](message)
}

export function logger(domain: string): ConsolaInstance {
  const l = root.withTag(`cellule.${domain}`)
  tagged.push(l)
  return l
}
