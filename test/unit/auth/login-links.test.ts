// One-time login links spent for a peer: single use under concurrency on a real PostgreSQL (the pool
// that made the link racing peers that ask for it), expiry on the injected clock, refusals by code.
import { afterAll, beforeAll, expect, test } from "bun:test"
import postgres from "postgres"
import { startDebianPostgres } from "../../support/postgres.ts"
import { cleanupAll, onCleanup } from "../../support/proc.ts"
import { ManualClock } from "../../../core/clock.ts"
import type { Sql } from "../../../core/db/client.ts"
import { hashToken } from "../../../core/crypto/token.ts"
import { consumeLoginLink, consumeLoginLinkForPeer, createLoginLink } from "../../../core/auth/login-links.ts"
import admins from "../../../sql/0003_admin.sql" with { type: "text" }
import setup from "../../../sql/0005_setup.sql" with { type: "text" }

let sql: Sql
let adminId: number
const clock = new ManualClock()
afterAll(cleanupAll)
beforeAll(async () => {
  const pg = await startDebianPostgres()
  sql = postgres(pg.url, { max: 20, onnotice: () => {} }) as unknown as Sql
  onCleanup(() => sql.end({ timeout: 1 }))
  await sql.unsafe(admins)
  await sql.unsafe(setup)
  const [row] =
    await sql`insert into admin_users (email, password_hash) values ('it@cabinet.example', 'x') returning id`
  adminId = Number(row.id)
}, 60_000)

const hex = (token: string) => hashToken(token).toString("hex")
const codeOf = (e: unknown) => (e as { code?: string }).code

test("10 peers and 10 local uses racing for one link on a real PostgreSQL: exactly one wins", async () => {
  for (let round = 0; round < 3; round++) {
    const token = await createLoginLink(sql, adminId, clock)
    const results = await Promise.allSettled([
      ...Array.from({ length: 10 }, () => consumeLoginLinkForPeer(sql, hex(token), clock)),
      ...Array.from({ length: 10 }, () => consumeLoginLink(sql, token, clock)),
    ])
    const won = results.filter((r) => r.status === "fulfilled" && r.value !== null)
    expect(won).toHaveLength(1)
    const won0 = (won[0] as PromiseFulfilledResult<string | number>).value
    expect([adminId, "it@cabinet.example"]).toContain(won0)
    const refused = results
      .filter((r) => r.status === "rejected")
      .map((r) => codeOf((r as PromiseRejectedResult).reason))
    expect(new Set(refused)).toEqual(refused.length ? new Set(["login_link_invalid"]) : new Set())
  }
})

test("a peer spends a link by its hash and gets the admin's e-mail, once", async () => {
  const token = await createLoginLink(sql, adminId, clock)
  expect(await consumeLoginLinkForPeer(sql, hex(token), clock)).toBe("it@cabinet.example")
  expect(codeOf(await consumeLoginLinkForPeer(sql, hex(token), clock).catch((e) => e))).toBe("login_link_invalid")
  expect(await consumeLoginLink(sql, token, clock)).toBeNull()
})

test.each([
  ["an unknown hash", hex("nobody-made-this")],
  ["not a hash", "zz"],
  ["the token itself instead of its hash", "a".repeat(43)],
])("%s is refused with login_link_invalid", async (_name, h) => {
  expect(codeOf(await consumeLoginLinkForPeer(sql, h, clock).catch((e) => e))).toBe("login_link_invalid")
})

test("an expired link is refused to a peer", async () => {
  const token = await createLoginLink(sql, adminId, clock, 1000)
  clock.advance(1001)
  expect(codeOf(await consumeLoginLinkForPeer(sql, hex(token), clock).catch((e) => e))).toBe("login_link_invalid")
})
