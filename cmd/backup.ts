// cellule backup — one tar.gz of the data dir (and of DATABASE_URL's database) into --dir, then GFS
// pruning of that directory (core/backup). Run it with the pool stopped: docs/backup.md.
import { readdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import { defineCommand } from "citty"
import { backup } from "../core/backup/archive.ts"
import { backupDate, backupName, gfsKeep } from "../core/backup/retention.ts"
import { cittyArgs, loadConfig } from "../core/config/index.ts"

const int = (v: unknown, name: string) => {
  const n = Number(v ?? 0)
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} takes a whole number`)
  return n
}

export default defineCommand({
  meta: { name: "backup", description: "Back up the data dir and database to one archive, then prune (GFS)" },
  args: {
    ...cittyArgs("cli"),
    dir: { type: "string", required: true, description: "Backup directory" },
    "keep-daily": { type: "string", description: "Keep the newest backup of each of the last N days" },
    "keep-weekly": { type: "string", description: "… of each of the last N ISO weeks" },
    "keep-monthly": { type: "string", description: "… of each of the last N months" },
  },
  async run({ args }) {
    const config = loadConfig("cli", args)
    const out = join(args.dir, backupName(new Date()))
    const m = await backup({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, outFile: out })
    console.log(`OK: ${out} (${Object.keys(m.files).length} files, database ${m.database})`)
    const keep = {
      daily: int(args["keep-daily"], "keep-daily"),
      weekly: int(args["keep-weekly"], "keep-weekly"),
      monthly: int(args["keep-monthly"], "keep-monthly"),
    }
    if (!keep.daily && !keep.weekly && !keep.monthly) return
    const all = readdirSync(args.dir).flatMap((name) => {
      const date = backupDate(name)
      return date ? [{ name, date }] : []
    })
    const kept = gfsKeep(all, keep)
    for (const b of all)
      if (!kept.has(b.name)) {
        rmSync(join(args.dir, b.name))
        console.log(`pruned ${b.name}`)
      }
  },
})
