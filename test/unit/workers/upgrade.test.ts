// The post-swap safety net: a new binary that keeps failing before it joins its pool is replaced
// by the previous one after two starts; one that joins commits the upgrade.
import { afterAll, expect, test } from "bun:test"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { cleanupAll, tempDir } from "../../support/proc.ts"
import { checkUpgradeHealth, commitUpgrade, noteUpgradeInstalled } from "../../../core/workers/auto.ts"
import type { WorkerMessage } from "../../../core/workers/protocol.ts"

afterAll(cleanupAll)

function installed() {
  const dir = tempDir()
  const exe = join(dir, "cellule")
  writeFileSync(exe, "new")
  writeFileSync(`${exe}.old`, "old")
  noteUpgradeInstalled(dir, exe, "0.0.1", "0.0.2")
  return { dir, exe }
}

test("two failed starts of the new binary, then the old one is put back", () => {
  const { dir, exe } = installed()
  expect(checkUpgradeHealth(dir)).toMatchObject({ rolledBack: false })
  expect(checkUpgradeHealth(dir)).toMatchObject({ rolledBack: false })
  expect(checkUpgradeHealth(dir)).toEqual({ rolledBack: true, from: "0.0.1", to: "0.0.2" })
  expect(readFileSync(exe, "utf8")).toBe("old")
  expect(existsSync(`${exe}.old`)).toBe(false)
  expect(checkUpgradeHealth(dir)).toEqual({ rolledBack: false })
})

test("a new binary that joined commits the upgrade", () => {
  const { dir, exe } = installed()
  checkUpgradeHealth(dir)
  commitUpgrade(dir)
  expect(readFileSync(exe, "utf8")).toBe("new")
  expect(existsSync(`${exe}.old`)).toBe(false)
  expect(checkUpgradeHealth(dir)).toEqual({ rolledBack: false })
})

test("the pool pushes an upgrade once per cooldown, never to an up-to-date worker, never when disabled", async () => {
  const { loadConfig } = await import("../../../core/config/index.ts")
  const { ManualClock } = await import("../../../core/clock.ts")
  const { upgradePolicy } = await import("../../../core/workers/upgrade.ts")
  const bins = tempDir()
  writeFileSync(join(bins, "cellule-linux-x64"), "binary")
  writeFileSync(join(bins, "cellule-linux-x64.version"), "0.2.0")
  const clock = new ManualClock()
  const env = { CELLULE_WORKER_BINARIES: bins, CELLULE_SELF_UPDATE_COOLDOWN_MS: "600000" }
  const policy = upgradePolicy({ config: loadConfig("pool", {}, env), clock, version: "0.2.0" })
  const hello = (version: string, worker_id = "worker-0001"): Extract<WorkerMessage, { type: "hello" }> => ({
    type: "hello",
    v: 1,
    worker_id,
    name: "w",
    version,
    hardware: { os: "linux", arch: "x64", cpu_threads: 4, ram_mb: 8192 },
    models: [],
    activity: "available",
  })
  expect(await policy(hello("0.1.9"))).toMatchObject({
    version: "0.2.0",
    url: "/v1/install/bin/cellule-linux-x64",
    sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
  })
  expect(await policy(hello("0.1.9"))).toBeUndefined() // cooling down (10 min per worker)
  expect(await policy(hello("0.1.9", "worker-0002"))).toBeDefined() // another worker is not
  clock.advance(600_000)
  expect(await policy(hello("0.1.9"))).toBeDefined()
  expect(await policy(hello("0.2.0", "worker-0003"))).toBeUndefined()
  const off = upgradePolicy({
    config: loadConfig("pool", {}, { ...env, CELLULE_AUTO_SELF_UPDATE: "false" }),
    clock,
    version: "0.2.0",
  })
  expect(await off(hello("0.1.9", "worker-0004"))).toBeUndefined()
})

test("self-update offers are signed by the pool's release key; the worker refuses a forged or unsigned one and swaps a good one", async () => {
  const { loadOrCreateReleaseKey, signRelease, verifyRelease } = await import("../../../core/workers/release-key.ts")
  const { stageUpgrade, swapStaged } = await import("../../../core/workers/upgrade.ts")
  const applyUpgrade = async (o: Parameters<typeof stageUpgrade>[0], opts: Parameters<typeof stageUpgrade>[1]) => {
    await stageUpgrade(o, opts)
    swapStaged(opts.exePath, o.version)
  }
  const { createHash } = await import("node:crypto")
  const { chmodSync } = await import("node:fs")
  const poolKey = loadOrCreateReleaseKey(tempDir())
  const otherKey = loadOrCreateReleaseKey(tempDir())
  const binary = "#!/bin/sh\necho 0.0.3\n"
  const sha256 = createHash("sha256").update(binary).digest("hex")
  let downloads = 0
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => (downloads++, new Response(binary)) })
  try {
    const dir = tempDir()
    const exe = join(dir, "cellule")
    writeFileSync(exe, "#!/bin/sh\necho 0.0.2\n")
    chmodSync(exe, 0o755)
    const opts = { poolUrl: `http://127.0.0.1:${server.port}`, token: "t", exePath: exe, poolKey: poolKey.publicKey }
    const offer = { version: "0.0.3", url: "/v1/install/bin/cellule-linux-x64", sha256 }
    expect(verifyRelease(poolKey.publicKey, "0.0.3", sha256, signRelease(poolKey, "0.0.3", sha256))).toBe(true)
    expect(verifyRelease(poolKey.publicKey, "0.0.4", sha256, signRelease(poolKey, "0.0.3", sha256))).toBe(false)
    await expect(applyUpgrade(offer, opts)).rejects.toMatchObject({ code: "upgrade_failed" })
    await expect(
      applyUpgrade({ ...offer, signature: signRelease(otherKey, "0.0.3", sha256) }, opts),
    ).rejects.toMatchObject({ code: "upgrade_failed" })
    expect(downloads).toBe(0)
    await applyUpgrade({ ...offer, signature: signRelease(poolKey, "0.0.3", sha256) }, opts)
    expect(readFileSync(exe, "utf8")).toBe(binary)
    expect(readFileSync(`${exe}.old`, "utf8")).toContain("0.0.2")
  } finally {
    server.stop(true)
  }
})

test("a worker without the pool's release key refuses every offer before downloading; only the development flag allows it", async () => {
  const { loadOrCreateReleaseKey, signRelease } = await import("../../../core/workers/release-key.ts")
  const { stageUpgrade } = await import("../../../core/workers/upgrade.ts")
  const { createHash } = await import("node:crypto")
  const { chmodSync, existsSync } = await import("node:fs")
  const binary = "#!/bin/sh\necho 0.0.3\n"
  const sha256 = createHash("sha256").update(binary).digest("hex")
  let downloads = 0
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => (downloads++, new Response(binary)) })
  try {
    const exe = join(tempDir(), "cellule")
    writeFileSync(exe, "#!/bin/sh\necho 0.0.2\n")
    chmodSync(exe, 0o755)
    const opts = { poolUrl: `http://127.0.0.1:${server.port}`, token: "t", exePath: exe }
    const offer = { version: "0.0.3", url: "/v1/install/bin/cellule-linux-x64", sha256 }
    // Signed or not, a worker with no key to check it against cannot trust it.
    const signed = { ...offer, signature: signRelease(loadOrCreateReleaseKey(tempDir()), "0.0.3", sha256) }
    for (const o of [offer, signed])
      await expect(stageUpgrade(o, opts)).rejects.toMatchObject({ code: "update_unsigned", status: 403 })
    await expect(stageUpgrade(offer, { ...opts, allowUnsigned: false })).rejects.toMatchObject({
      code: "update_unsigned",
    })
    expect(downloads).toBe(0)
    expect(existsSync(`${exe}.new`)).toBe(false)
    expect(await stageUpgrade(offer, { ...opts, allowUnsigned: true })).toBe(`${exe}.new`)
    expect(downloads).toBe(1)
  } finally {
    server.stop(true)
  }
})

test("a downloaded binary that cannot even be executed is refused and leaves no <exe>.new behind", async () => {
  const { loadOrCreateReleaseKey, signRelease } = await import("../../../core/workers/release-key.ts")
  const { stageUpgrade } = await import("../../../core/workers/upgrade.ts")
  const { createHash } = await import("node:crypto")
  // No shebang and no ELF header: exec itself fails (ENOEXEC) rather than the program exiting non-zero.
  const binary = "not a program\n"
  const sha256 = createHash("sha256").update(binary).digest("hex")
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(binary) })
  try {
    const key = loadOrCreateReleaseKey(tempDir())
    const exe = join(tempDir(), "cellule")
    const offer = { version: "0.0.3", url: "/v1/install/bin/cellule-linux-x64", sha256 }
    const opts = { poolUrl: `http://127.0.0.1:${server.port}`, token: "t", exePath: exe, poolKey: key.publicKey }
    await expect(stageUpgrade({ ...offer, signature: signRelease(key, "0.0.3", sha256) }, opts)).rejects.toThrow()
    expect(existsSync(`${exe}.new`)).toBe(false)
  } finally {
    server.stop(true)
  }
})

test("the --version probe waits out a file still open for writing (ETXTBSY) instead of calling the binary broken", async () => {
  const { runVersion } = await import("../../../core/workers/upgrade.ts")
  const { chmodSync, closeSync, openSync, writeSync } = await import("node:fs")
  const bin = join(tempDir(), "cellule.new")
  const fd = openSync(bin, "w")
  writeSync(fd, "#!/bin/sh\necho 0.0.3\n")
  chmodSync(bin, 0o755)
  // Open for writing, exec fails with ETXTBSY: a forked child of another thread holding it looks the same.
  await expect(runVersion(bin, 1)).rejects.toMatchObject({ code: "ETXTBSY" })
  setTimeout(() => closeSync(fd), 120)
  const probe = await runVersion(bin)
  expect(probe.exitCode).toBe(0)
  expect(probe.stdout.toString().trim()).toBe("0.0.3")
})
