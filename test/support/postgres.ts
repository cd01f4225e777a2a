// Test support: a throw-away Debian PostgreSQL 15 cluster (no pgvector) on a free loopback port.
import { chmodSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort, onCleanup, spawnProc } from "./proc.ts"

const BIN = "/usr/lib/postgresql/15/bin"

export async function startDebianPostgres(): Promise<{ url: string; port: number }> {
  const dir = mkdtempSync(join(tmpdir(), "cellule-pg-"))
  chmodSync(dir, 0o777)
  const data = join(dir, "data")
  // PostgreSQL refuses to run as root: run it as the Debian `postgres` user.
  const init = Bun.spawnSync(
    ["runuser", "-u", "postgres", "--", `${BIN}/initdb`, "-D", data, "--auth=trust", "-U", "postgres"],
    { stdout: "pipe", stderr: "pipe" },
  )
  if (init.exitCode !== 0) throw new Error(`initdb failed: ${init.stderr}`)
  const port = await freePort()
  const pg = spawnProc([
    "runuser",
    "-u",
    "postgres",
    "--",
    `${BIN}/postgres`,
    "-D",
    data,
    "-p",
    String(port),
    "-k",
    dir,
    "-c",
    "listen_addresses=127.0.0.1",
  ])
  onCleanup(() => rmSync(dir, { recursive: true, force: true }))
  await pg.waitFor(/database system is ready to accept connections/, 30_000)
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port }
}
