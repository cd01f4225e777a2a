// The Linux one-liner for real: an admin creates a provisioning code on a live pool; inside a
// throw-away network namespace (reaching the pool only over a veth pair) the served install.sh is
// piped to bash with --root, installs the binary and config into a directory tree, and starts the
// worker, which fetches its assigned model, joins, and serves a chat completion. Revoking its token
// closes the connection within 2 s; the uninstaller removes it.
//
// Real: the pool (in this process, on the veth address), HTTP, the served script, curl, bash,
// redemption, the SHA-256 checks, the model download, llama.cpp inference, the revocation.
// Stand-ins: the "machine" is a netns + a directory tree instead of a VM; the service manager is
// skipped (--root implies --no-service: nohup instead of systemd, whose unit is verified separately
// by systemd-analyze); the shipped binary is the compiled dist/cellule when CELLULE_TEST_WORKER_BINARY
// names it, else a two-line wrapper that runs the sources with bun.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { chmodSync, copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import {
  BUN,
  ROOT,
  TEST_ADMIN,
  cleanupAll,
  onCleanup,
  tempDir,
  testSetupAnswers,
  TEST_POOL_ENV,
} from "../support/proc.ts"
import { tinyLlamaPath } from "../support/fixtures.ts"
import { loadConfig } from "../../core/config/index.ts"
import { startPool, type RunningPool } from "../../core/pool/index.ts"
import { adminByEmail, createSession } from "../../core/auth/admins.ts"
import { SESSION_COOKIE } from "../../core/http/guards.ts"

const NS = `cw${process.pid}`
const SUBNET = `10.${200 + (process.pid % 50)}.${process.pid % 250}`
const HOST_IP = `${SUBNET}.1`
const NS_IP = `${SUBNET}.2`

function sh(cmd: string[]) {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" })
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr}`)
  return r.stdout.toString()
}

/** Async: the pool runs in this process, so a synchronous spawn would stop it from answering. */
async function run(cmd: string[], timeoutMs = 60_000) {
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", stdin: "ignore", timeout: timeoutMs })
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ])
  return { stdout, stderr, exitCode }
}

let pool: RunningPool
let admin: { cookie: string; csrf: string }
let root: string

afterAll(cleanupAll)
beforeAll(async () => {
  // The throw-away machine's network: its own namespace, reaching the pool host only over veth.
  sh(["ip", "netns", "add", NS])
  onCleanup(() => void Bun.spawnSync(["ip", "netns", "del", NS]))
  sh(["ip", "link", "add", `${NS}h`, "type", "veth", "peer", "name", `${NS}n`])
  onCleanup(() => void Bun.spawnSync(["ip", "link", "del", `${NS}h`]))
  sh(["ip", "link", "set", `${NS}n`, "netns", NS])
  sh(["ip", "addr", "add", `${HOST_IP}/30`, "dev", `${NS}h`])
  sh(["ip", "link", "set", `${NS}h`, "up"])
  sh(["ip", "netns", "exec", NS, "ip", "addr", "add", `${NS_IP}/30`, "dev", `${NS}n`])
  sh(["ip", "netns", "exec", NS, "ip", "link", "set", `${NS}n`, "up"])
  sh(["ip", "netns", "exec", NS, "ip", "link", "set", "lo", "up"])

  const store = tempDir("cellule-store-")
  copyFileSync(await tinyLlamaPath(), join(store, "tiny.gguf"))
  const bins = tempDir("cellule-bins-")
  const shipped = join(bins, "cellule-linux-x64")
  const real = process.env.CELLULE_TEST_WORKER_BINARY
  if (real) copyFileSync(real, shipped)
  else writeFileSync(shipped, `#!/bin/sh\nexec ${BUN} ${join(ROOT, "cmd/main.ts")} "$@"\n`)
  chmodSync(shipped, 0o755)

  const dataDir = tempDir("cellule-pool-")
  const config = loadConfig(
    "pool",
    {},
    {
      HOST: HOST_IP,
      PORT: "0",
      POOL_NAME: "install-test",
      CELLULE_DATA_DIR: dataDir,
      CELLULE_MODEL_STORE: store,
      CELLULE_WORKER_BINARIES: shipped.replace(/\/[^/]+$/, ""),
      CELLULE_HEARTBEAT_MS: "1000",
      CELLULE_SHUTDOWN_GRACE_MS: "500",
      CELLULE_SETUP_ANSWERS: testSetupAnswers(),
      ...TEST_POOL_ENV,
    },
  )
  pool = await startPool(config)
  onCleanup(() => pool.stop())
  const a = (await adminByEmail(pool.db.sql, TEST_ADMIN.email))!
  const s = await createSession(pool.db.sql, a.id, pool.services.clock)
  admin = { cookie: `${SESSION_COOKIE}=${s.token}`, csrf: s.csrf }
  root = tempDir("cellule-root-")
  onCleanup(() => {
    // The worker was started by the installer inside the namespace: stop it by its pid file.
    const pidFile = join(root, "var/lib/cellule/worker.pid")
    if (existsSync(pidFile)) Bun.spawnSync(["kill", "-9", readFileSync(pidFile, "utf8").trim()])
  })
}, 120_000)

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${pool.url.replace("127.0.0.1", HOST_IP)}${path}`, {
    ...init,
    headers: {
      cookie: admin.cookie,
      "x-csrf-token": admin.csrf,
      "content-type": "application/json",
      ...(init.headers ?? {}),
    },
  })

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string) {
  const t0 = Date.now()
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`)
    await Bun.sleep(20)
  }
  return Date.now() - t0
}

describe("Linux one-liner against a live pool", () => {
  test("curl … | bash -s -- --code CODE installs, starts, serves; revoke closes it within 2 s; uninstall removes it", async () => {
    const res = await api("/v1/admin/workers/provision", {
      method: "POST",
      body: JSON.stringify({ os: "linux", hardware: "cpu", label: "desk-42" }),
    })
    expect(res.status).toBe(200)
    const p = (await res.json()) as { code: string; snippets: { one_liner: string } }
    const base = `http://${HOST_IP}:${pool.port}`
    expect(p.snippets.one_liner).toBe(`curl -fsSL ${base}/v1/install/worker.sh | sudo bash -s -- --code ${p.code}`)

    // The snippet as pasted, minus sudo (we are root already) plus --root for the throw-away tree.
    const line = `${p.snippets.one_liner.replace("sudo bash", "bash")} --root ${root} --name desk-42`
    const install = await run(["ip", "netns", "exec", NS, "bash", "-o", "pipefail", "-c", line])
    const said = install.stderr
    expect(said).toContain("worker started")
    expect(install.exitCode).toBe(0)
    const conf = JSON.parse(readFileSync(join(root, "etc/cellule/worker.json"), "utf8"))
    expect(conf.pool).toBe(base)
    expect(conf.token).toStartWith("cwt_")
    expect(conf.pool_key).toBe(
      ((await (await fetch(`${base}/v1/install/release-key`)).json()) as { public_key: string }).public_key,
    )
    expect(
      Bun.spawnSync(["stat", "-c", "%a", join(root, "etc/cellule/worker.json")])
        .stdout.toString()
        .trim(),
    ).toBe("600")

    // The code was single-use: a second run with it is refused by the pool.
    const again = await run([
      "ip",
      "netns",
      "exec",
      NS,
      "bash",
      "-c",
      `curl -fsSL ${base}/v1/install/worker.sh | bash -s -- --code ${p.code} --root ${tempDir()}`,
    ])
    expect(again.exitCode).not.toBe(0)
    expect(again.stderr).toContain("provision_code_invalid")

    const log = () =>
      existsSync(join(root, "var/lib/cellule/worker.log"))
        ? readFileSync(join(root, "var/lib/cellule/worker.log"), "utf8")
        : ""
    await until(() => /cellule worker ready/.test(log()) || /error:/.test(log()), 90_000, `worker start\n${log()}`)
    expect(log()).toContain("hardware class cpu-mid")
    expect(log()).toContain("tiny.gguf: verified")
    const joined = pool.scheduler.snapshot().workers
    expect(joined.map((w) => w.name)).toEqual(["desk-42"])
    expect(existsSync(join(root, "var/lib/cellule/models/tiny.gguf"))).toBe(true)

    const chat = await fetch(`${base}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "hello" }], max_tokens: 4 }),
    })
    expect(chat.status).toBe(200)

    const tokens = (await (await api("/v1/admin/workers/tokens")).json()) as {
      data: { id: number; name: string; last_seen_at: string | null }[]
    }
    const mine = tokens.data.find((t) => t.name === "desk-42")!
    expect(mine.last_seen_at).not.toBeNull()
    const t0 = Date.now()
    const rv = await api(`/v1/admin/workers/tokens/${mine.id}/revoke`, { method: "POST", body: "{}" })
    expect(await rv.json()).toEqual({ revoked: mine.id, connections_closed: 1 })
    await until(() => pool.scheduler.snapshot().workers.length === 0, 2000, "revoked worker disconnected")
    const closedMs = Date.now() - t0
    console.log(`revocation: connection closed ${closedMs} ms after the revoke request`)
    expect(closedMs).toBeLessThan(2000)
    // It cannot come back: its reconnects are refused.
    await Bun.sleep(1500)
    expect(pool.scheduler.snapshot().workers.length).toBe(0)

    const audit = (await (await api("/v1/admin/workers/audit")).json()) as { data: { event: string; worker: string }[] }
    expect(audit.data.filter((e) => e.worker === "desk-42").map((e) => e.event)).toEqual(
      expect.arrayContaining(["enrolled", "connected", "revoked"]),
    )

    const un = await run([
      "ip",
      "netns",
      "exec",
      NS,
      "bash",
      "-c",
      `curl -fsSL ${base}/v1/install/worker-uninstall.sh | bash -s -- --root ${root}`,
    ])
    expect(un.exitCode).toBe(0)
    expect(existsSync(join(root, "opt/cellule"))).toBe(false)
    expect(existsSync(join(root, "etc/cellule"))).toBe(false)
  }, 180_000)

  test("the installers and binaries are served without auth; unknown files are 404", async () => {
    const base = `http://${HOST_IP}:${pool.port}`
    for (const f of ["worker.sh", "worker.ps1", "worker-uninstall.sh", "worker-uninstall.ps1"]) {
      const r = await fetch(`${base}/v1/install/${f}`)
      expect(r.status).toBe(200)
      if (f !== "worker-uninstall.ps1") expect(await r.text()).toContain(base)
    }
    expect((await fetch(`${base}/v1/install/evil.sh`)).status).toBe(404)
    expect((await fetch(`${base}/v1/install/bin/cellule-linux-x64.sha256`)).status).toBe(200)
    expect((await fetch(`${base}/v1/install/bin/cellule-plan9-x64`)).status).toBe(404)
  })
})
