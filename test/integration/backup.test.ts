// Restore drill: a pool with an administrator and an API key is stopped, backed up with `cellule backup`,
// restored with `cellule restore` into a fresh data dir, and a pool started there accepts the same key
// and lists the same keys. A corrupt archive and a non-empty target are refused; a running pool refuses
// the backup (data dir locked).
import { afterAll, expect, test } from "bun:test"
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { celluleCmd, cleanupAll, spawnProc, startPool, tempDir, TEST_ADMIN } from "../support/proc.ts"

afterAll(cleanupAll)

async function cli(args: string[]) {
  const p = spawnProc([...celluleCmd(), ...args])
  const code = await p.exited
  return { code, out: p.stdout() + p.stderr() }
}

const env = { CELLULE_ANONYMOUS_ACCESS: "false", CELLULE_TRUSTED_NETWORKS: "127.0.0.1/32" }
/** The status a chat call gets with `key`: 401 for an unknown key, the model's absence (404/503) for a valid one. */
const chatStatus = async (url: string, key: string) =>
  (
    await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "hi" }], max_tokens: 4 }),
    })
  ).status
const admin = { "x-cellule-user": TEST_ADMIN.email, "content-type": "application/json" }

test("backup, restore into a fresh data dir, same keys work", async () => {
  const pool = await startPool({ env })
  const created = await fetch(`${pool.url}/v1/admin/keys`, {
    method: "POST",
    headers: admin,
    body: JSON.stringify({ name: "drill" }),
  })
  expect(created.status).toBe(201)
  const { key } = (await created.json()) as { key: string }
  const keysBefore = await (await fetch(`${pool.url}/v1/admin/keys`, { headers: admin })).json()
  const validStatus = await chatStatus(pool.url, key)
  expect(validStatus).not.toBe(401)
  expect(await chatStatus(pool.url, "sk-nope")).toBe(401)

  const dir = tempDir("cellule-backups-")
  // Online: the pool holds the data dir, the backup refuses with a clear message.
  const online = await cli(["backup", "--data-dir", pool.dataDir, "--dir", dir])
  expect(online.code).not.toBe(0)
  expect(online.out).toContain("in use by another cellule process")

  await pool.kill("SIGTERM")
  const b = await cli(["backup", "--data-dir", pool.dataDir, "--dir", dir, "--keep-daily", "7"])
  expect(b.code).toBe(0)
  const [archive] = readdirSync(dir).filter((f) => f.endsWith(".tar.gz"))
  expect(archive).toMatch(/^cellule-backup-\d{8}T\d{6}Z\.tar\.gz$/)

  // A corrupt archive is refused and leaves the target untouched.
  const bad = join(tempDir(), "bad.tar.gz")
  const bytes = readFileSync(join(dir, archive))
  bytes[Math.floor(bytes.length / 2)] ^= 0xff
  writeFileSync(bad, bytes)
  const fresh = join(tempDir(), "restored")
  const corrupt = await cli(["restore", bad, "--data-dir", fresh])
  expect(corrupt.code).not.toBe(0)
  expect(existsSync(fresh)).toBe(false)

  // A non-empty target is refused without --force.
  const busy = await cli(["restore", join(dir, archive), "--data-dir", pool.dataDir])
  expect(busy.code).not.toBe(0)
  expect(busy.out).toContain("is not empty")

  const r = await cli(["restore", join(dir, archive), "--data-dir", fresh])
  expect(r.out).toContain("OK: restored")
  expect(r.code).toBe(0)

  const again = await startPool({ dataDir: fresh, env })
  expect(await chatStatus(again.url, key)).toBe(validStatus)
  expect(await chatStatus(again.url, "sk-nope")).toBe(401)
  expect(await (await fetch(`${again.url}/v1/admin/keys`, { headers: admin })).json()).toEqual(keysBefore)
})
