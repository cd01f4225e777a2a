// cellule restore — checks an archive from `cellule backup` against its manifest and puts it in place
// of the data dir (and DATABASE_URL's database), all or nothing (core/backup/archive.ts).
import { defineCommand } from "citty"
import { restore } from "../core/backup/archive.ts"
import { cittyArgs, loadConfig } from "../core/config/index.ts"

export default defineCommand({
  meta: { name: "restore", description: "Restore a backup archive into the data dir (empty, or --force)" },
  args: {
    ...cittyArgs("cli"),
    archive: { type: "positional", required: true, description: "The .tar.gz from cellule backup" },
    force: { type: "boolean", description: "Replace a non-empty data dir" },
  },
  async run({ args }) {
    const config = loadConfig("cli", args)
    const m = await restore({
      archive: args.archive,
      dataDir: config.dataDir,
      databaseUrl: config.databaseUrl,
      force: !!args.force,
    })
    console.log(`OK: restored ${Object.keys(m.files).length} files from a ${m.version} backup into ${config.dataDir}`)
  },
})
