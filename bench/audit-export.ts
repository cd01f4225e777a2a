// bench/audit-export — memory of the audit export: N rows exported as JSON lines and CSV through
// exportAudit (keyset pages), against a naive "select everything, then serialise" read. Every export is
// parsed back and checked against the database (row count, ids in order, SHA-256 over the row hashes).
//   ./node_modules/.bin/bun bench/audit-export.ts [--rows 100000] [--db pg15,pglite]
// pg15: a throw-away Debian PostgreSQL 15, so the RSS is the exporter's alone. pglite: the embedded
// database, in this process as in a pool, so its RSS includes the database's own memory.
import { createHash } from "node:crypto"
import postgres from "postgres"
import { exportAudit, type ExportFormat } from "../core/audit/index.ts"
import { openDatabase, type Sql } from "../core/db/client.ts"
import { migrate } from "../core/db/migrate.ts"
import { setLogLevel } from "../core/log.ts"
import { startDebianPostgres } from "../test/support/postgres.ts"
import { cleanupAll, onCleanup, tempDir } from "../test/support/proc.ts"
import { parseCsv } from "../test/unit/audit/_support.ts"
import { arg } from "./_args.ts"

const N = Number(arg("rows", "100000"))
const DBS = arg("db", "pg15,pglite").split(",")
setLogLevel("warn")

const mb = (b: number) => (b / 1048576).toFixed(1)

async function fill(sql: Sql, n: number) {
  for (let done = 0; done < n; done += 1000) {
    // Small batches: each append updates the chain head, whose row versions pile up within one statement.
    const k = Math.min(1000, n - done)
    await sql`insert into audit_log (at, actor_kind, actor_id, action, target, project, client_ip, outcome, details)
              select now() - make_interval(secs => ${n} - g - ${done}), 'api_key', 'key-' || (g % 17), 'api.request',
                     'route:/v1/chat/completions', 'matter-' || (g % 5), '192.0.2.' || (g % 250), 'success',
                     jsonb_build_object('method', 'POST', 'status', 200, 'ms', g % 900, 'note', 'a "quoted", field')
              from generate_series(1, ${k}) g`
  }
}

async function dbDigest(sql: Sql) {
  const [r] =
    await sql`select count(*)::int as n, encode(sha256(coalesce(string_agg(row_hash, ''::bytea order by id), '')), 'hex') as d
                        from audit_log`
  return { n: r.n as number, digest: r.d as string }
}

async function measure(
  fn: (sample: () => void, mark: () => void, end: () => void) => Promise<{ bytes: number; check: string }>,
) {
  Bun.gc(true)
  const base = process.memoryUsage.rss()
  let peak = base
  let early = 0
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage.rss())
  }
  // The peak once a tenth of the rows is out: memory that stays flat shows the same peak at the end.
  // Live heap after a full GC, at a tenth of the rows and at the end: RSS lags behind the collector,
  // the live heap does not, so it is the number that must stay flat.
  const live: number[] = []
  const mark = () => {
    if (early) return
    early = peak
    Bun.gc(true)
    live.push(process.memoryUsage().heapUsed)
  }
  const end = () => {
    Bun.gc(true)
    live.push(process.memoryUsage().heapUsed)
  }
  const timer = setInterval(sample, 20)
  const t0 = performance.now()
  const { bytes, check } = await fn(sample, mark, end)
  const s = (performance.now() - t0) / 1000
  clearInterval(timer)
  sample()
  return {
    base,
    early: early || peak,
    peak,
    s,
    bytes,
    check,
    live10: live.length > 1 ? live[0] : NaN,
    liveEnd: live[live.length - 1],
  }
}

async function streamed(sql: Sql, format: ExportFormat, want: { n: number; digest: string }) {
  return measure(async (sample, mark, end) => {
    const h = createHash("sha256")
    let bytes = 0
    let rows = 0
    let lastId = 0
    let ordered = true
    for await (const chunk of exportAudit(sql, { format })) {
      bytes += chunk.length
      const records =
        format === "jsonl"
          ? chunk
              .trimEnd()
              .split("\n")
              .map((l) => JSON.parse(l) as { id: number; row_hash: string; details: unknown })
          : parseCsv(chunk)
              .filter((c) => c[0] !== "id")
              .map((c) => ({ id: Number(c[0]), row_hash: c[11], details: JSON.parse(c[9]) }))
      for (const r of records) {
        ordered &&= r.id > lastId
        lastId = r.id
        h.update(Buffer.from(r.row_hash, "hex"))
        rows++
      }
      sample()
      if (rows >= want.n / 10) mark()
    }
    end()
    const ok = ordered && rows === want.n && h.digest("hex") === want.digest
    return { bytes, check: ok ? `ok (${rows})` : `MISMATCH (${rows} rows)` }
  })
}

/** The export alone: the consumer only counts bytes, so the RSS is the exporter's. */
async function exportOnly(sql: Sql, format: ExportFormat) {
  return measure(async (sample, mark, end) => {
    let bytes = 0
    let chunks = 0
    for await (const chunk of exportAudit(sql, { format })) {
      bytes += chunk.length
      if (++chunks === 10) mark()
      sample()
    }
    end()
    return { bytes, check: "(not parsed)" }
  })
}

async function naive(sql: Sql, want: { n: number; digest: string }) {
  return measure(async (sample, _mark, end) => {
    const rows = await sql`select * from audit_log order by id`
    sample()
    const text = rows.map((r) => JSON.stringify(r)).join("\n")
    sample()
    end() // while rows and text are still held: that is the naive read's cost
    return { bytes: text.length, check: rows.length === want.n ? `ok (${rows.length})` : "MISMATCH" }
  })
}

const table: string[][] = []
for (const kind of DBS) {
  let sql: Sql
  if (kind === "pg15") {
    const pg = await startDebianPostgres()
    sql = postgres(pg.url, { max: 4, onnotice: () => {} }) as unknown as Sql
    onCleanup(() => sql.end({ timeout: 1 }))
    await migrate(sql)
  } else {
    const db = await openDatabase({ dataDir: tempDir("cellule-bench-audit-") })
    onCleanup(() => db.close())
    sql = db.sql
  }
  const t0 = performance.now()
  await fill(sql, N)
  const fillS = (performance.now() - t0) / 1000
  const want = await dbDigest(sql)
  const runs: [string, () => ReturnType<typeof measure>][] = [
    ["jsonl export only", () => exportOnly(sql, "jsonl")],
    ["csv export only", () => exportOnly(sql, "csv")],
    ["jsonl streamed + parsed", () => streamed(sql, "jsonl", want)],
    ["csv streamed + parsed", () => streamed(sql, "csv", want)],
    ["naive select all", () => naive(sql, want)],
  ]
  for (const [mode, run] of runs) {
    const r = await run()
    table.push([
      kind,
      mode,
      String(want.n),
      fillS.toFixed(1),
      mb(r.bytes),
      r.s.toFixed(1),
      String(Math.round(want.n / r.s)),
      mb(r.base),
      mb(r.early),
      mb(r.peak),
      mb(r.peak - r.base),
      Number.isNaN(r.live10) ? "-" : mb(r.live10),
      mb(r.liveEnd),
      r.check,
    ])
  }
}
await cleanupAll()

const head = [
  "db",
  "mode",
  "rows",
  "fill_s",
  "out_MB",
  "export_s",
  "rows_per_s",
  "rss_base_MB",
  "rss_peak_at_10pct_MB",
  "rss_peak_MB",
  "rss_delta_MB",
  "heap_live_10pct_MB",
  "heap_live_end_MB",
  "round_trip",
]
const w = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)))
const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(w[i])).join(" | ")} |`
console.log(line(head))
console.log(line(w.map((n) => "-".repeat(n))))
for (const r of table) console.log(line(r))
