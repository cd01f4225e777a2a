// `cellule license keygen | issue | verify` as real processes: the offline round trip a vendor runs.
import { afterAll, describe, expect, test } from "bun:test"
import { readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { BUN, cleanupAll, ROOT, spawnProc, tempDir } from "../support/proc.ts"

afterAll(cleanupAll)

// Through cmd/main.ts once it mounts the subcommand; until then through a runner that reports errors the same way.
const mainMountsLicense = readFileSync(join(ROOT, "cmd/_cli.ts"), "utf8").includes("./license.ts")
const LICENSE_CLI = mainMountsLicense
  ? [BUN, join(ROOT, "cmd/main.ts"), "license"]
  : [BUN, join(ROOT, "test/support/run-license-cli.ts")]

async function cli(args: string[], env: Record<string, string | undefined> = {}) {
  const p = spawnProc([...LICENSE_CLI, ...args], { env: { CELLULE_LICENSE_PUBKEY: undefined, ...env } })
  const code = await p.exited
  return { code, stdout: p.stdout(), stderr: p.stderr() }
}

describe("cellule license", () => {
  const dir = tempDir("cellule-license-cli-")
  const keys = join(dir, "keys")
  const privkey = join(keys, "cellule_license_privkey.ed25519")
  const tokenPath = join(dir, "cluster-example-001.jwt")
  let pubkey = ""

  test("keygen writes a 0600 private key and prints the public key hex", async () => {
    const r = await cli(["keygen", "--out", keys])
    expect(r.code).toBe(0)
    pubkey = r.stdout.trim()
    expect(pubkey).toMatch(/^[0-9a-f]{64}$/)
    expect(statSync(privkey).mode & 0o777).toBe(0o600)
    expect(statSync(privkey).size).toBe(32)
    expect(readFileSync(join(keys, "cellule_license_pubkey.hex"), "utf8").trim()).toBe(pubkey)
  })

  test("keygen refuses to overwrite an existing key", async () => {
    const before = readFileSync(privkey)
    const r = await cli(["keygen", "--out", keys])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain("error:")
    expect(readFileSync(privkey)).toEqual(before)
  })

  test("issue signs a token with the tier defaults and the overrides", async () => {
    const r = await cli([
      "issue",
      "--privkey",
      privkey,
      "--client-id",
      "cluster-example-001",
      "--tier",
      "cabinet",
      "--duration-days",
      "365",
      "--features",
      "rag_documents,balancer",
      "--limit",
      "max_pools=5",
      "--limit",
      "max_users=none",
      "--grace-days",
      "14",
      "--output",
      tokenPath,
    ])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout).payload).toMatchObject({
      client_id: "cluster-example-001",
      tier: "cabinet",
      features: ["rag_documents", "balancer"],
      limits: { max_pools: 5 },
      grace_days: 14,
    })
    expect(readFileSync(tokenPath, "utf8").trim().split(".")).toHaveLength(3)
  })

  test("verify prints the payload and status of a genuine token", async () => {
    const r = await cli(["verify", "--token", tokenPath, "--pubkey", pubkey])
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out).toMatchObject({
      ok: true,
      status: "active",
      days_remaining: 365,
      payload: { client_id: "cluster-example-001" },
    })
  })

  test("verify of a tampered token exits non-zero and prints jwt_invalid", async () => {
    const [h, p, s] = readFileSync(tokenPath, "utf8").trim().split(".")
    const claims = JSON.parse(Buffer.from(p, "base64url").toString())
    const tampered = join(dir, "tampered.jwt")
    writeFileSync(
      tampered,
      `${h}.${Buffer.from(JSON.stringify({ ...claims, tier: "corporate" })).toString("base64url")}.${s}`,
    )
    const r = await cli(["verify", "--token", tampered, "--pubkey", pubkey])
    expect(r.code).not.toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: "jwt_invalid" })
    expect(r.stderr).toContain("error:")
  })

  test("without --pubkey, verify uses the build's key: the placeholder rejects, a dev key from the environment accepts", async () => {
    const placeholder = await cli(["verify", "--token", tokenPath])
    expect(placeholder.code).not.toBe(0)
    expect(JSON.parse(placeholder.stdout)).toMatchObject({ ok: false, error: "jwt_invalid" })
    const dev = await cli(["verify", "--token", tokenPath], { CELLULE_LICENSE_PUBKEY: pubkey })
    expect(dev.code).toBe(0)
  })
})
