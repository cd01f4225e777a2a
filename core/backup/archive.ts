// core/backup/archive — `cellule backup` / `cellule restore`: one tar.gz holding the data dir (embedded
// PGlite database, stored document blobs under documents/, federation and release keys, licence) and,
// with an external PostgreSQL (DATABASE_URL), a pg_dump custom-format dump of it, plus manifest.json
// (version, migrations, sha256 and size of every part).
//
// Consistency: a backup takes the data dir lock, so it runs with the pool stopped (an embedded database
// copied under a running pool would be torn). A running pool makes it fail with data_dir_locked.
// Restore is all-or-nothing: the archive is unpacked next to the target, every part checked against the
// manifest, and only then renamed into place; a non-empty target is refused unless `force`.
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs"
import { basename, dirname, join, relative, resolve } from "node:path"
import { MIGRATIONS } from "../../sql/index.ts"
import { lockDataDir } from "../db/lock.ts"
import { CelluleError } from "../errors.ts"
import { VERSION } from "../version.ts"

export const MANIFEST = "manifest.json"
const DB_DUMP = "database.pgdump"
/** Not backed up: the lock, the embedded database's socket and URL file, downloadable model files. */
const SKIP = new Set(["cellule.lock", "models", ".s.PGSQL.5432", ".s.PGSQL.5432.lock.out"])

export interface Manifest {
  format: 1
  version: string
  created_at: string
  database: "embedded" | "external"
  migrations: string[]
  files: Record<string, { sha256: string; bytes: number }>
}

export class BackupError extends CelluleError {
  constructor(code: string, message: string, hint?: string) {
    super(code, message, 400, hint)
  }
}

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex")
}

function walk(root: string, dir = root, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (dir === root && SKIP.has(e.name)) continue
    if (e.name.startsWith(".s.PGSQL")) continue
    if (e.isDirectory()) walk(root, p, out)
    else if (e.isFile()) out.push(relative(root, p))
  }
  return out
}

async function run(cmd: string[], env?: Record<string, string>) {
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } })
  const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()])
  if (code !== 0) throw new BackupError("backup_tool_failed", `${cmd[0]} failed (${code}): ${err.trim().slice(0, 500)}`)
}

/** Write a backup of `dataDir` (and of `databaseUrl` when set) to `outFile`. */
export async function backup(opts: { dataDir: string; databaseUrl?: string; outFile: string }) {
  const dataDir = resolve(opts.dataDir)
  if (!existsSync(dataDir)) throw new BackupError("backup_no_data_dir", `no data dir at ${dataDir}`)
  const lock = lockDataDir(dataDir)
  const staging = join(dirname(resolve(opts.outFile)), `.cellule-backup-${process.pid}`)
  try {
    rmSync(staging, { recursive: true, force: true })
    mkdirSync(staging, { recursive: true, mode: 0o700 })
    const files: Manifest["files"] = {}
    for (const f of walk(dataDir))
      files[`data/${f}`] = { sha256: sha256(join(dataDir, f)), bytes: statSync(join(dataDir, f)).size }
    if (opts.databaseUrl) {
      if (!Bun.which("pg_dump"))
        throw new BackupError(
          "backup_pg_dump_missing",
          "DATABASE_URL is set but pg_dump is not installed",
          "install Debian's postgresql-client (same major version as the server), then run cellule backup again",
        )
      await run([
        "pg_dump",
        "--format=custom",
        "--no-owner",
        `--dbname=${opts.databaseUrl}`,
        `--file=${join(staging, DB_DUMP)}`,
      ])
      files[DB_DUMP] = { sha256: sha256(join(staging, DB_DUMP)), bytes: statSync(join(staging, DB_DUMP)).size }
    }
    const manifest: Manifest = {
      format: 1,
      version: VERSION,
      created_at: new Date().toISOString(),
      database: opts.databaseUrl ? "external" : "embedded",
      // The migrations this build ships (embedded in the binary), which the restored database has applied.
      migrations: MIGRATIONS.map((m) => m.name),
      files,
    }
    writeFileSync(join(staging, MANIFEST), JSON.stringify(manifest, null, 2))
    mkdirSync(dirname(resolve(opts.outFile)), { recursive: true })
    const tmpOut = `${resolve(opts.outFile)}.partial`
    const parts = [MANIFEST, ...(opts.databaseUrl ? [DB_DUMP] : [])]
    // tar: the staging dir's parts, then the whole data dir under data/ (empty directories matter: the
    // embedded database needs its pg_* folders), without what SKIP names.
    await run([
      "tar",
      "-czf",
      tmpOut,
      "-C",
      staging,
      ...parts,
      "-C",
      dataDir,
      ...[...SKIP].map((x) => `--exclude=./${x}`),
      "--exclude=.s.PGSQL*",
      "--transform=s,^\\.,data,",
      ".",
    ])
    renameSync(tmpOut, resolve(opts.outFile))
    return manifest
  } finally {
    rmSync(staging, { recursive: true, force: true })
    lock.release()
  }
}

/** Restore `archive` into `dataDir` (and `databaseUrl` when the archive holds a dump). */
export async function restore(opts: { archive: string; dataDir: string; databaseUrl?: string; force?: boolean }) {
  const target = resolve(opts.dataDir)
  if (existsSync(target) && readdirSync(target).length && !opts.force)
    throw new BackupError(
      "restore_target_not_empty",
      `${target} is not empty`,
      "restore into an empty or new directory, or pass --force to replace it (stop the pool first)",
    )
  const temp = join(dirname(target), `.${basename(target)}.restore-${process.pid}`)
  rmSync(temp, { recursive: true, force: true })
  mkdirSync(temp, { recursive: true, mode: 0o700 })
  try {
    await run(["tar", "-xzf", resolve(opts.archive), "-C", temp])
    let manifest: Manifest
    try {
      manifest = JSON.parse(readFileSync(join(temp, MANIFEST), "utf8")) as Manifest
    } catch {
      throw new BackupError("restore_corrupt", `${opts.archive} has no readable ${MANIFEST}`)
    }
    const present = new Set([...walk(temp)].filter((f) => f !== MANIFEST))
    for (const [f, m] of Object.entries(manifest.files)) {
      if (!present.delete(f)) throw new BackupError("restore_corrupt", `${f} is listed in the manifest but missing`)
      if (sha256(join(temp, f)) !== m.sha256) throw new BackupError("restore_corrupt", `${f} fails its sha256 check`)
    }
    if (present.size)
      throw new BackupError("restore_corrupt", `unlisted files in the archive: ${[...present].join(", ")}`)
    if (manifest.database === "external") {
      if (!opts.databaseUrl)
        throw new BackupError(
          "restore_needs_database_url",
          "this backup holds an external PostgreSQL dump: set DATABASE_URL",
        )
      if (!Bun.which("pg_restore"))
        throw new BackupError(
          "restore_pg_restore_missing",
          "pg_restore is not installed",
          "install Debian's postgresql-client",
        )
      await run([
        "pg_restore",
        "--clean",
        "--if-exists",
        "--no-owner",
        `--dbname=${opts.databaseUrl}`,
        join(temp, DB_DUMP),
      ])
    }
    const data = join(temp, "data")
    mkdirSync(data, { recursive: true, mode: 0o700 })
    const old = `${temp}.old`
    if (existsSync(target)) {
      const lock = lockDataDir(target) // refuses while a pool runs on it
      lock.release()
      renameSync(target, old)
    }
    renameSync(data, target)
    rmSync(old, { recursive: true, force: true })
    return manifest
  } finally {
    rmSync(temp, { recursive: true, force: true })
  }
}
