// core/db/with-database — one-shot database work for a command (`cellule setup`, `admin-reset-password`):
// open, run, always close. Commands call a domain function that uses this; they never hold the handle.
import type { Config } from "../config/index.ts"
import { openDatabase, type Sql } from "./client.ts"

export async function withDatabase<T>(config: Readonly<Config>, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const db = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl })
  try {
    return await fn(db.sql)
  } finally {
    await db.close()
  }
}
