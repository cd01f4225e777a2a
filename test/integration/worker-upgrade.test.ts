// Zero-touch upgrade (FR guide §2.5) with two real builds: the pool runs the new build (0.0.2) and
// ships its own binary; a worker on the old build (0.0.1) gets welcome.upgrade + self_update,
// downloads and verifies the binary, swaps it in and exits; its "service manager" (a restart-on-
// failure shell loop standing in for systemd) starts the new one, which joins as 0.0.2 and is not
// pushed again. A pool shipping a binary that does not start: the worker keeps its old binary.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { chmodSync, copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { createHash } from "node:crypto"
import { BUN, ROOT, cleanupAll, spawnProc, tempDir, testSetupAnswers } from "../support/proc.ts"
import { tinyLlamaPath } from "../support/fixtures.ts"
import { openDatabase } from "../../core/db/client.ts"

const TOKEN = "upgrade-token-abcdefghijkl"
let builds: string
const OLD = "0.0.1"
const NEW = "0.0.2"

afterAll(cleanupAll)
beforeAll(async () => {
  builds = tempDir("cellule-builds-")
  // the compressed bundles the build embeds (npm run build's prebuild); kept when up to date
  const packs = Bun.spawn([BUN, "install/build/packs.ts"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" })
  if ((await packs.exited) !== 0) throw new Error(`packs failed: ${await new Response(packs.stderr).text()}`)
  for (const v of [OLD, NEW]) {
    const p = Bun.spawn(
      [
        BUN,
        "build",
        "--compile",
        "--minify-syntax",
        "--minify-whitespace",
        "--bytecode",
        "--bytecode-depth=1",
        "--format=esm",
        "--splitting",
        "--external",
        "sharp",
        "--external",
        "@node-llama-cpp/*",
        "--define",
        `CELLULE_BUILD_VERSION="${v}"`,
        "cmd/main.ts",
        "core/crypto/_argon2-worker.ts",
        "dist/pgdata.tar.zst",
        "--outfile",
        join(builds, `cellule-${v}`),
      ],
      { cwd: ROOT, stdout: "pipe", stderr: "pipe" },
    )
    if ((await p.exited) !== 0) throw new Error(`build ${v} failed: ${await new Response(p.stderr).text()}`)
  }
  const b = Bun.spawn(
    [BUN, "build", "--compile", "test/fixtures/broken-build.ts", "--outfile", join(builds, "cellule-broken")],
    { cwd: ROOT, stdout: "pipe", stderr: "pipe" },
  )
  if ((await b.exited) !== 0) throw new Error(`broken build failed: ${await new Response(b.stderr).text()}`)
}, 400_000)

const sha = (f: string) => createHash("sha256").update(readFileSync(f)).digest("hex")

/** The old build installed in its own folder and run under a restart-on-failure loop (systemd stand-in). */
async function supervisedWorker(poolUrl: string, poolKey?: string | null) {
  const install = tempDir("cellule-opt-")
  const exe = join(install, "cellule")
  copyFileSync(join(builds, `cellule-${OLD}`), exe)
  chmodSync(exe, 0o755)
  const dataDir = tempDir("cellule-worker-")
  // The pool key is what enrolment writes into config.json; here it is fetched as an enrolled worker would have it.
  // null: a worker enrolled without the key (an old config.json, a hand-made one).
  const key =
    poolKey === null
      ? undefined
      : (poolKey ??
        ((await (await fetch(`${poolUrl}/v1/install/release-key`)).json()) as { public_key: string }).public_key)
  const args = `worker --pool ${poolUrl} --token ${TOKEN}${key ? ` --pool-key ${key}` : ""} --model tiny=${await tinyLlamaPath()} --data-dir ${dataDir} --threads 1 --slots 1 --context-size 512 --heartbeat-ms 500`
  const loop = spawnProc([
    "bash",
    "-c",
    `while true; do "${exe}" ${args} && break; echo "service: exit $?, restarting"; sleep 0.3; done`,
  ])
  return { exe, dataDir, loop }
}

async function audit(dataDir: string) {
  const db = await openDatabase({ dataDir })
  try {
    return (await db.sql`select event, detail from worker_audit_log order by id`) as unknown as {
      event: string
      detail: Record<string, unknown>
    }[]
  } finally {
    await db.close()
  }
}

describe("self-update", () => {
  test(`an ${OLD} worker upgrades itself to the pool's ${NEW} and is not pushed again`, async () => {
    // The pool is the new build itself: it ships its own executable for its own OS/arch.
    // 2 s heartbeats: at 500 ms a loaded machine made the pool drop the old worker mid-download (three
    // missed beats) and the events its last heartbeat carried were lost with that socket
    const newPool = await startPoolBinary(join(builds, `cellule-${NEW}`), { CELLULE_HEARTBEAT_MS: "2000" })
    const w = await supervisedWorker(newPool.url)
    const t0 = Date.now()
    await w.loop.waitFor(/self-update: v0\.0\.2 installed/, 60_000)
    await w.loop.waitFor(/service: exit 1, restarting/, 30_000)
    await w.loop.waitFor(new RegExp(`cellule worker ready .* \\(v${NEW.replace(/\./g, "\\.")}\\)`), 60_000)
    console.log(`self-update: ${OLD} → ${NEW} running ${Date.now() - t0} ms after the worker first joined`)
    expect(sha(w.exe)).toBe(sha(join(builds, `cellule-${NEW}`)))
    await Bun.sleep(1500)
    expect(existsSync(`${w.exe}.old`)).toBe(false) // committed once the new binary joined
    expect(w.loop.stdout() + w.loop.stderr()).not.toMatch(
      /self-update: downloading v0\.0\.2[\s\S]*self-update: downloading v0\.0\.2/,
    )
    await w.loop.kill("SIGKILL")
    await newPool.kill()
    const events = (await audit(newPool.dataDir)).map((e) => e.event)
    if (!events.includes("self_update_staged"))
      console.log(
        `events ${events.join(",")}\n--- worker\n${(w.loop.stdout() + w.loop.stderr()).slice(-6000)}\n--- pool\n${newPool.stderr().slice(-4000)}`,
      )
    expect(events).toEqual(expect.arrayContaining(["self_update_started", "self_update_staged"]))
  }, 240_000)

  test("an offer not signed by the worker's pool key is refused before any download", async () => {
    const pool = await startPoolBinary(join(builds, `cellule-${NEW}`))
    const { loadOrCreateReleaseKey } = await import("../../core/workers/release-key.ts")
    const w = await supervisedWorker(pool.url, loadOrCreateReleaseKey(tempDir()).publicKey)
    const before = sha(w.exe)
    await w.loop.waitFor(/self_update_failed/, 60_000)
    expect(w.loop.stdout() + w.loop.stderr()).toContain("not signed by this worker's pool key")
    expect(w.loop.stdout() + w.loop.stderr()).not.toContain("self-update: downloading")
    expect(sha(w.exe)).toBe(before)
    await w.loop.kill("SIGKILL")
    await pool.kill()
  }, 120_000)

  test("a shipped binary that does not start is refused: the worker keeps its old binary and keeps serving", async () => {
    const bins = tempDir("cellule-bins-")
    const broken = join(bins, "cellule-linux-x64")
    writeFileSync(broken, "#!/bin/sh\necho 'segfault' >&2\nexit 139\n")
    chmodSync(broken, 0o755)
    writeFileSync(`${broken}.version`, "0.0.3")
    const pool = await startPoolBinary(join(builds, `cellule-${NEW}`), { CELLULE_WORKER_BINARIES: bins })
    const w = await supervisedWorker(pool.url)
    const before = sha(w.exe)
    await w.loop.waitFor(/self_update_failed/, 60_000)
    expect(sha(w.exe)).toBe(before)
    expect(existsSync(`${w.exe}.new`)).toBe(false)
    expect(w.loop.stdout() + w.loop.stderr()).not.toContain("service: exit")
    const snap = (await (await fetch(`${pool.url}/v1/workers`)).json()) as { workers: number }
    expect(snap.workers).toBe(1)
    // The worker logs the verdict before it sends it: killing it on that line could beat the send (CI
    // saw no self_update_failed in the pool's audit log). The pool logs the event as it writes it.
    await pool.waitFor(/worker \S+: self_update_failed/, 30_000)
    await w.loop.kill("SIGKILL")
    await pool.kill()
    const failed = (await audit(pool.dataDir)).find((e) => e.event === "self_update_failed")
    expect(String(failed?.detail.error)).toContain("does not start")
  }, 120_000)
})

describe("signed updates only, rollback decided by the old binary", () => {
  test("a worker without the pool's release key refuses the offer: nothing downloaded, binary unchanged", async () => {
    const pool = await startPoolBinary(join(builds, `cellule-${NEW}`))
    const w = await supervisedWorker(pool.url, null)
    const before = sha(w.exe)
    await w.loop.waitFor(/self_update_failed/, 60_000)
    const out = w.loop.stdout() + w.loop.stderr()
    expect(out).toContain("this worker has no pool release key; refused")
    expect(out).not.toContain("self-update: downloading")
    expect(sha(w.exe)).toBe(before)
    await w.loop.kill("SIGKILL")
    await pool.kill()
  }, 120_000)

  test("a real build that passes --version but crashes at start never replaces the running one", async () => {
    const bins = tempDir("cellule-bins-")
    const broken = join(bins, "cellule-linux-x64")
    copyFileSync(join(builds, "cellule-broken"), broken)
    chmodSync(broken, 0o755)
    writeFileSync(`${broken}.version`, "0.0.3")
    const pool = await startPoolBinary(join(builds, `cellule-${NEW}`), { CELLULE_WORKER_BINARIES: bins })
    const w = await supervisedWorker(pool.url)
    const before = sha(w.exe)
    await w.loop.waitFor(/exited \(\S+\) before joining its pool/, 90_000)
    // The service manager restarts the old binary, which joins again as 0.0.1 and is not pushed again.
    await w.loop.waitFor(/service: exit 1, restarting/, 30_000)
    const t0 = Date.now()
    while ((w.loop.stdout().match(/cellule worker ready .* \(v0\.0\.1\)/g) ?? []).length < 2) {
      if (Date.now() - t0 > 90_000) throw new Error("the old binary did not rejoin")
      await Bun.sleep(100)
    }
    expect(sha(w.exe)).toBe(before)
    expect(existsSync(`${w.exe}.new`)).toBe(false)
    expect(existsSync(`${w.exe}.old`)).toBe(false)
    const out = w.loop.stdout() + w.loop.stderr()
    expect(out.match(/self-update: downloading/g)?.length).toBe(1)
    // the rejoined worker's hello carries the verdict to the pool's audit log; the pool logs it as it writes it
    await pool.waitFor(/worker \S+: self_update_rolled_back/, 30_000)
    await w.loop.kill("SIGKILL")
    await pool.kill()
    const rolled = (await audit(pool.dataDir)).find((e) => e.event === "self_update_rolled_back")
    expect(String(rolled?.detail.error)).toContain("before joining its pool")
  }, 240_000)
})

async function startPoolBinary(bin: string, env: Record<string, string> = {}) {
  const dataDir = tempDir()
  const p = spawnProc([bin, "pool", "--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir], {
    env: {
      POOL_NAME: "upgrade-pool",
      CELLULE_WORKER_TOKEN: TOKEN,
      CELLULE_SETUP_ANSWERS: testSetupAnswers(),
      CELLULE_HEARTBEAT_MS: "500",
      ...env,
    },
  })
  const m = await p.waitFor(/cellule pool ready (http:\/\/\S+)/, 90_000)
  return Object.assign(p, { url: m[1], dataDir })
}
