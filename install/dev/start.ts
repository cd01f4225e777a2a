// `npm start`: the product on one machine for a newcomer — a pool on the embedded database and a
// local worker serving a generated demo model and embedder. State lives under ./.cellule.
// Ctrl-C stops everything.
import { join, resolve } from "node:path"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { randomBytes } from "node:crypto"
import { writeTinyLlama } from "../../test/fixtures/gguf.ts"
import { writeTinyEmbedder } from "../../test/fixtures/embedder.ts"

const root = resolve(import.meta.dir, "../..")
const dataDir = process.env.CELLULE_DATA_DIR ?? join(root, ".cellule")
const port = process.env.PORT ?? "8080"
const demo = join(dataDir, "demo")
mkdirSync(demo, { recursive: true })

// A generated model: random weights, so its answers are gibberish, but every byte goes through
// the real llama.cpp and transformers.js paths a real model would.
const model = join(demo, "demo-llama.gguf")
const embedder = join(demo, "demo-embedder")
if (!existsSync(model)) await writeTinyLlama(model, { seed: 42 })
if (!existsSync(join(embedder, "onnx", "model.onnx"))) await writeTinyEmbedder(embedder, { seed: 42 })

// The join token is made once and kept, so restarts reuse it.
const tokenFile = join(demo, "worker-token")
if (!existsSync(tokenFile)) writeFileSync(tokenFile, randomBytes(24).toString("base64url"), { mode: 0o600 })
const token = readFileSync(tokenFile, "utf8").trim()

const cellule = [process.execPath, join(root, "cmd/main.ts")]
const children: ReturnType<typeof Bun.spawn>[] = []
const stopAll = () => {
  for (const c of children) c.kill("SIGTERM")
}
process.on("SIGINT", stopAll)
process.on("SIGTERM", stopAll)

async function spawnUntil(args: string[], ready: RegExp, env: Record<string, string>): Promise<string> {
  const child = Bun.spawn([...cellule, ...args], { stdout: "pipe", stderr: "inherit", env: { ...process.env, ...env } })
  children.push(child)
  const dec = new TextDecoder()
  let buf = ""
  for await (const chunk of child.stdout as unknown as AsyncIterable<Uint8Array>) {
    buf += dec.decode(chunk)
    const m = buf.match(ready)
    if (m) return m[1]
  }
  stopAll()
  process.exit((await child.exited) || 1)
}

// First boot: the wizard, completed headlessly with demo answers (no password: a one-time login link
// is printed instead). Later runs only mint a fresh link.
const poolDir = join(dataDir, "pool")
const answersFile = join(demo, "setup-answers.json")
if (!existsSync(answersFile))
  writeFileSync(
    answersFile,
    JSON.stringify(
      {
        identity: { company: "Demo Cabinet", sector: "LAW" },
        topology: { sites: [{ name: "Siège", headcount: 10 }] },
        hardware: { cpu_workers: true, gpu_servers: 0 },
        models: { tiers: ["fast"] },
        admin: { email: "admin@demo.local" },
      },
      null,
      2,
    ),
  )
const setupDone = existsSync(join(demo, "setup-done"))
const setupOut = Bun.spawnSync(
  [...cellule, "setup", "--data-dir", poolDir, "--login-link", ...(setupDone ? [] : ["--answers", answersFile])],
  { stderr: "inherit" },
)
const loginPath = setupOut.stdout.toString().match(/login link: (\S+)/)?.[1]
if (setupOut.exitCode !== 0 || !loginPath) {
  console.error(setupOut.stdout.toString())
  process.exit(setupOut.exitCode || 1)
}
if (!setupDone) writeFileSync(join(demo, "setup-done"), new Date().toISOString())

// The demo answers key-less calls, so the curl below works as printed; that is why it listens on
// loopback only (HOST=0.0.0.0 opens it to the network). A real pool starts with anonymous access off.
const url = await spawnUntil(["pool", "--port", port, "--data-dir", poolDir], /cellule pool ready (\S+)/, {
  POOL_NAME: process.env.POOL_NAME ?? "demo-pool",
  CELLULE_WORKER_TOKEN: token,
  HOST: process.env.HOST ?? "127.0.0.1",
  CELLULE_ANONYMOUS_ACCESS: process.env.CELLULE_ANONYMOUS_ACCESS ?? "true",
})
await spawnUntil(
  [
    "worker",
    "--pool",
    url,
    "--data-dir",
    join(dataDir, "worker"),
    "--model",
    `demo=${model}`,
    "--embedder",
    embedder,
    "--threads",
    "2",
    "--slots",
    "2",
  ],
  /cellule worker (ready)/,
  { CELLULE_TOKEN: token },
)

console.log(`
Cellule is running: ${url}   (OpenAI-compatible API at ${url}/v1)

  Dashboard (one-time login link, valid 24 h): ${url}${loginPath}

  curl ${url}/v1/chat/completions -H 'content-type: application/json' \\
    -d '{"model":"demo","messages":[{"role":"user","content":"Hello"}],"max_tokens":32}'

The demo model has random weights: its answers are noise, but they are computed by llama.cpp
on the local worker. This demo accepts calls without an API key (CELLULE_ANONYMOUS_ACCESS=true,
loopback only); a real pool requires keys until an admin allows anonymous access on the Worker
balancing page, where keys are created. Press Ctrl-C to stop.`)
await Promise.all(children.map((c) => c.exited))
