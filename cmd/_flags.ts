// cmd/_flags — repeated flags, and the boot report of the environment. citty keeps only the last value of a string flag given twice, so
// `--model a --model b` (and `--site`, `--limit`, `--upstream`…) are collected from the raw arguments.
import { configWarnings, settingsFor, type Role } from "../core/config/index.ts"
import { logger } from "../core/log.ts"

/** Every value of `--name v` and `--name=v`, in order; a flag with no value after it adds nothing. */
export function repeated(rawArgs: readonly string[], name: string): string[] {
  const flag = `--${name}`
  const out: string[] = []
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i]
    if (a === flag && rawArgs[i + 1] !== undefined) out.push(rawArgs[++i])
    else if (a.startsWith(`${flag}=`)) out.push(a.slice(flag.length + 1))
  }
  return out.filter(Boolean)
}

/** citty's args with every list setting of `role` (models, upstreams, CIDRs, peers) taken from all its flags. */
export function withListFlags(
  role: Role,
  args: Record<string, unknown>,
  rawArgs: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...args }
  for (const s of settingsFor(role)) {
    if (s.kind !== "list" && s.kind !== "cidrs") continue
    const values = repeated(rawArgs, s.flag)
    if (values.length) out[s.flag] = values
  }
  return out
}

/** Boot report of the environment: guide aliases used and unknown CELLULE_* / IAMINE_* variables. */
export function warnEnvironment() {
  const log = logger("config")
  for (const line of configWarnings()) log.warn(line)
}
