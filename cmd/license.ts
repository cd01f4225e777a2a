// cmd/license — `cellule license keygen | issue | verify`: the offline licence tooling.
// Parses, calls core/license, prints JSON on stdout; errors are thrown for cmd/main.ts to report.
import { writeFile } from "node:fs/promises"
import { defineCommand } from "citty"
import { logger } from "../core/log.ts"
import {
  generateKeyPair,
  issueLicense,
  LicenseRejected,
  licensePubkey,
  readPrivateKey,
  toHex,
  verify,
  writeKeyPair,
} from "../core/license/index.ts"
import { BadRequest } from "../core/errors.ts"
import { repeated } from "./_flags.ts"

const log = logger("license")
const print = (value: unknown) => console.log(JSON.stringify(value, null, 2))

const keygen = defineCommand({
  meta: { name: "keygen", description: "Generate the licence signing keypair (the ceremony; run offline)" },
  args: {
    out: { type: "string", required: true, description: "Directory for the key files (must not hold keys already)" },
  },
  async run({ args }) {
    const pair = await generateKeyPair()
    const { privateKeyPath } = await writeKeyPair(args.out, pair)
    pair.privateKey.fill(0)
    log.warn(`private key written to ${privateKeyPath} (0600): GPG-encrypt it, back it up, then shred it`)
    console.log(toHex(pair.publicKey))
  },
})

const issue = defineCommand({
  meta: { name: "issue", description: "Sign a licence for a client (tier defaults: docs/licensing.md)" },
  args: {
    privkey: { type: "string", required: true, description: "Private key file" },
    "client-id": { type: "string", required: true },
    tier: { type: "string", required: true, description: "trial, cabinet or corporate" },
    "duration-days": { type: "string", description: "Defaults to the tier's duration" },
    features: { type: "string", description: "Comma-separated; replaces the tier's feature set" },
    limit: { type: "string", description: "name=N (repeatable or comma-separated); name=none removes a limit" },
    "grace-days": { type: "string", description: "Defaults to the tier's grace period" },
    output: { type: "string", required: true, description: "Where to write the .jwt" },
  },
  async run({ args, rawArgs }) {
    const privateKey = await readPrivateKey(args.privkey)
    try {
      const { token, license } = await issueLicense(
        {
          clientId: args["client-id"],
          tier: args.tier,
          durationDays: integer(args["duration-days"], "--duration-days"),
          features:
            args.features === undefined
              ? undefined
              : args.features
                  .split(",")
                  .map((f) => f.trim())
                  .filter(Boolean),
          limits: parseLimits(repeated(rawArgs, "limit")),
          graceDays: integer(args["grace-days"], "--grace-days"),
        },
        privateKey,
      )
      await writeFile(args.output, `${token}\n`)
      print({ ok: true, output: args.output, payload: license })
    } finally {
      privateKey.fill(0)
    }
  },
})

const verifyCmd = defineCommand({
  meta: { name: "verify", description: "Verify a licence offline and print its payload and status" },
  args: {
    token: { type: "string", required: true, description: "The .jwt file" },
    pubkey: { type: "string", description: "Public key hex (defaults to the key built into this binary)" },
  },
  async run({ args }) {
    const token = await Bun.file(args.token).text()
    const result = await verify(token, args.pubkey ?? licensePubkey().hex)
    if (!result.ok) {
      print({ ok: false, error: result.error, message: result.message })
      throw new LicenseRejected(result.error, result.message)
    }
    const { status, days_remaining, expires_at, grace_ends_at } = result.status
    print({ ok: true, status, days_remaining, expires_at, grace_ends_at, payload: result.license })
  },
})

export default defineCommand({
  meta: { name: "license", description: "Offline licences: keygen, issue, verify" },
  subCommands: { keygen, issue, verify: verifyCmd },
})

function parseLimits(values: string[]): Record<string, number | null> | undefined {
  if (values.length === 0) return undefined
  const limits: Record<string, number | null> = {}
  for (const item of values
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter(Boolean)) {
    const [name, value, extra] = item.split("=")
    if (!name || value === undefined || extra !== undefined)
      throw new BadRequest(`--limit ${item}: expected name=N`, "limit_invalid")
    limits[name] = value === "none" ? null : integer(value, `--limit ${name}`)!
  }
  return limits
}

function integer(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value))
    throw new BadRequest(`${flag} must be a non-negative integer, got ${JSON.stringify(value)}`, "argument_invalid")
  return Number(value)
}
