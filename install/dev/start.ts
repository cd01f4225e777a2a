// `npm start`: the product on one machine for a newcomer — a pool on the embedded database,
// with its state under ./.cellule. Ctrl-C stops everything.
import { join, resolve } from "node:path"
import { mkdirSync } from "node:fs"

const root = resolve(import.meta.dir, "../..")
const dataDir = process.env.CELLULE_DATA_DIR ?? join(root, ".cellule")
const port = process.env.PORT ?? "8080"
mkdirSync(dataDir, { recursive: true })

const bun = process.execPath
const children: ReturnType<typeof Bun.spawn>[] = []
const stopAll = () => children.forEach((c) => c.kill("SIGTERM"))
process.on("SIGINT", stopAll)
process.on("SIGTERM", stopAll)

const pool = Bun.spawn([bun, join(root, "cmd/main.ts"), "pool", "--port", port, "--data-dir", join(dataDir, "pool")], {
  stdout: "pipe",
  stderr: "inherit",
  env: { ...process.env, POOL_NAME: process.env.POOL_NAME ?? "demo-pool" },
})
children.push(pool)

let url = ""
const dec = new TextDecoder()
for await (const chunk of pool.stdout) {
  const m = dec.decode(chunk).match(/cellule pool ready (\S+)/)
  if (m) {
    url = m[1]
    break
  }
}
if (!url) process.exit((await pool.exited) || 1)

console.log(`
Cellule is running: ${url}

  curl ${url}/v1/status

Press Ctrl-C to stop.`)
process.exitCode = await pool.exited
