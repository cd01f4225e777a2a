// Test support: a migrated embedded database in a temp dir, for in-process tests of core code.
import { openDatabase, type Database } from "../../core/db/client.ts"
import { onCleanup, tempDir } from "./proc.ts"

export async function testDatabase(): Promise<Database> {
  const db = await openDatabase({ dataDir: tempDir("cellule-db-") })
  onCleanup(() => db.close())
  return db
}
