// core/db/migrate — applies sql/NNNN_name.sql in order, each in its own transaction, recorded with
// a SHA-256 checksum. An applied file whose content changed stops the boot: history is immutable.
import { createHash } from "node:crypto"
import { CelluleError } from "../errors.ts"
import { logger } from "../log.ts"
import { MIGRATIONS } from "../../sql/index.ts"
import type postgres from "postgres"

const log = logger("db.migrate")

export class MigrationTampered extends CelluleError {
  constructor(readonly file: string) {
    super(
      "migration_tampered",
      `migration ${file} was changed after it was applied to this database`,
      500,
      `restore the original sql/${file}; schema changes go in a new numbered migration`,
    )
  }
}

export interface Migration {
  name: string
  sql: string
}

export function checksum(text: string) {
  return createHash("sha256").update(text).digest("hex")
}

// Any constant works; it only has to be the same in every process migrating this database.
const MIGRATION_LOCK = 0x63656c6c

export async function migrate(sql: postgres.Sql<{}>, migrations: Migration[] = MIGRATIONS): Promise<string[]> {
  await sql`create table if not exists schema_migrations (
    name text primary key, checksum text not null, applied_at timestamptz not null default now())`
  const applied: string[] = []
  for (const m of [...migrations].sort((a, b) => a.name.localeCompare(b.name))) {
    const sum = checksum(m.sql)
    await sql.begin(async (tx) => {
      // Serialise concurrent pools booting on one database.
      await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK})`
      const [row] = await tx`select checksum from schema_migrations where name = ${m.name}`
      if (row) {
        if (row.checksum !== sum) throw new MigrationTampered(m.name)
        return
      }
      await tx.unsafe(m.sql)
      await tx`insert into schema_migrations (name, checksum) values (${m.name}, ${sum})`
      applied.push(m.name)
      log.info(`applied ${m.name}`)
    })
  }
  return applied
}
