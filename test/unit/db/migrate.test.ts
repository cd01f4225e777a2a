// Migrations against a real (embedded) PostgreSQL: order, checksums, atomicity.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { readdirSync } from "node:fs"
import { join } from "node:path"
import postgres from "postgres"
import { EmbeddedDatabase } from "../../../core/db/embedded.ts"
import { migrate, MigrationTampered } from "../../../core/db/migrate.ts"
import { MIGRATIONS } from "../../../sql/index.ts"
import { tempDir, cleanupAll } from "../../support/proc.ts"

let emb: EmbeddedDatabase
let sql: postgres.Sql<{}>

beforeAll(async () => {
  emb = new EmbeddedDatabase(tempDir())
  sql = postgres({ ...(await emb.start()), max: 1, onnotice: () => {} })
})
afterAll(async () => {
  await sql.end()
  await emb.stop()
  await cleanupAll()
})

describe("migrate", () => {
  test("sql/index.ts embeds every sql/NNNN_*.sql file, in order", () => {
    const files = readdirSync(join(import.meta.dir, "../../../sql"))
      .filter((f) => /^\d{4}_.+\.sql$/.test(f))
      .sort()
    expect(MIGRATIONS.map((m) => m.name)).toEqual(files)
  })

  test("applies pending files in name order once, and records them", async () => {
    const ms = [
      { name: "0002_b.sql", sql: "alter table t_a add column b int;" },
      { name: "0001_a.sql", sql: "create table t_a (a int);" },
    ]
    expect(await migrate(sql, ms)).toEqual(["0001_a.sql", "0002_b.sql"])
    expect(await migrate(sql, ms)).toEqual([])
    const cols = await sql`select column_name from information_schema.columns where table_name = 't_a' order by 1`
    expect(cols.map((c) => c.column_name)).toEqual(["a", "b"])
  })

  test("an applied file whose text changed throws migration_tampered naming it", async () => {
    const err = await migrate(sql, [{ name: "0001_a.sql", sql: "create table t_a (a bigint);" }]).catch((e) => e)
    expect(err).toBeInstanceOf(MigrationTampered)
    expect(err.code).toBe("migration_tampered")
    expect(err.message).toContain("0001_a.sql")
  })

  test("a failing migration leaves nothing half-written", async () => {
    const bad = { name: "0003_bad.sql", sql: "create table t_half (x int); select * from no_such_table;" }
    await expect(migrate(sql, [bad])).rejects.toThrow()
    const [{ n }] = await sql`select count(*)::int n from information_schema.tables where table_name = 't_half'`
    expect(n).toBe(0)
    const rec = await sql`select 1 from schema_migrations where name = '0003_bad.sql'`
    expect(rec.length).toBe(0)
  })

  test("pgvector works in the embedded database", async () => {
    await sql`create extension if not exists vector`
    const [{ d }] = await sql`select ('[1,0,0]'::vector <=> '[0,1,0]'::vector) as d`
    expect(Number(d)).toBeCloseTo(1, 6)
  })
})
