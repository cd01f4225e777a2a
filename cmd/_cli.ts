// cmd/_cli — every command line but `--version` (cmd/main.ts imports this only when it is needed).
import { defineCommand, runCommand, showUsage, type CommandDef } from "citty"
import { CelluleError, exitCodeOf } from "../core/errors.ts"
import { VERSION } from "../core/version.ts"

const subCommands = {
  pool: () => import("./pool.ts").then((m) => m.default),
  worker: () => import("./worker.ts").then((m) => m.default),
  license: () => import("./license.ts").then((m) => m.default),
  setup: () => import("./setup.ts").then((m) => m.default),
  "admin-reset-password": () => import("./admin-reset-password.ts").then((m) => m.default),
  proxy: () => import("./proxy.ts").then((m) => m.default),
  backup: () => import("./backup.ts").then((m) => m.default),
  restore: () => import("./restore.ts").then((m) => m.default),
  doctor: () => import("./doctor.ts").then((m) => m.default),
  vip: () => import("./vip.ts").then((m) => m.default),
}

const main = defineCommand({
  meta: {
    name: "cellule",
    version: VERSION,
    description: "Private, federated LLM service built from a company's idle machines",
  },
  subCommands,
})

async function resolveValue(v: unknown): Promise<unknown> {
  return typeof v === "function" ? await v() : await v
}

export async function run(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv.includes("--help") || argv.includes("-h")) {
    // Walk the sub-command chain named before the flag, so `cellule license issue --help` is specific.
    let cmd: CommandDef<any> = main
    let parent: CommandDef<any> | undefined
    for (const word of argv.filter((a) => !a.startsWith("-"))) {
      const subs = (await resolveValue(cmd.subCommands)) as Record<string, unknown> | undefined
      if (!subs?.[word]) break
      parent = cmd
      cmd = (await resolveValue(subs[word])) as CommandDef<any>
    }
    await showUsage(cmd, parent)
    return 0
  }
  try {
    await runCommand(main, { rawArgs: argv })
    return 0
  } catch (e) {
    const err = e as Error
    if (e instanceof CelluleError) {
      console.error(`error: ${err.message}`)
      if (e.hint) console.error(`hint: ${e.hint}`)
    } else if (/^E(_[A-Z_]+|ARG)$/.test(String((err as { code?: string }).code ?? ""))) {
      // citty usage errors (unknown command, missing argument)
      console.error(`error: ${err.message}`)
      console.error("hint: run `cellule --help`")
      return 2
    } else {
      console.error(`error: ${err?.stack ?? err}`)
    }
    return exitCodeOf(e)
  }
}
