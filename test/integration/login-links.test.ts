// One-time login links across bonded pools: a link made on pool A works when the browser lands on
// pool B (behind the entry, its sticky pool): B asks its trusted peers over a signed call, A spends the
// link and answers the admin's e-mail, B signs its own admin of that e-mail in. Once only, anywhere,
// also when pools race for it; a pool without that administrator says so in a readable page.
import { afterAll, beforeAll, expect, test } from "bun:test"
import { celluleCmd, cleanupAll, spawnProc, tempDir, testSetupAnswers, TEST_ADMIN } from "../support/proc.ts"
import { bondAll, startFedPool, type FedPool } from "../support/fed-pools.ts"

const OTHER_ADMIN = { email: "other@test.local", password: "other-password-123" }
let a: FedPool
let b: FedPool
let c: FedPool
/** Links made on A before it started (the embedded database is A's alone once it runs). */
const links: string[] = []

async function cellule(...args: string[]): Promise<string> {
  const p = spawnProc([...celluleCmd(), ...args])
  const code = await p.exited
  if (code !== 0) throw new Error(`cellule ${args.join(" ")} exited ${code}: ${p.stderr()}`)
  return p.stdout()
}
const linkIn = (out: string) => out.match(/login link: (\/auth\/once\/\S+)/)![1]

beforeAll(async () => {
  const dirA = tempDir("cellule-links-a-")
  links.push(linkIn(await cellule("setup", "--answers", testSetupAnswers(), "--data-dir", dirA, "--login-link")))
  for (let i = 0; i < 2; i++) links.push(linkIn(await cellule("setup", "--login-link", "--data-dir", dirA)))
  ;[a, b, c] = await Promise.all([
    startFedPool({ name: "pool-a", dataDir: dirA }),
    startFedPool({ name: "pool-b" }),
    startFedPool({
      name: "pool-c",
      env: { CELLULE_SETUP_ANSWERS: testSetupAnswers({ admin: OTHER_ADMIN }) },
    }),
  ])
  c.adminEmail = OTHER_ADMIN.email
  await bondAll([a, b, c])
}, 180_000)
afterAll(cleanupAll)

const open = (pool: FedPool, link: string) => fetch(pool.url + link, { redirect: "manual" })
const sessionOf = (r: Response) => r.headers.get("set-cookie")?.match(/cellule_session=[^;]+/)?.[0]

test("a link made on pool A signs in on pool B, once; used again on any pool it is refused", async () => {
  const r = await open(b, links[0])
  expect(r.status).toBe(303)
  expect(r.headers.get("location")).toBe("/")
  const cookie = sessionOf(r)
  expect(cookie).toBeDefined()
  // A session of B's own administrator: B's dashboard opens with it.
  const overview = await fetch(`${b.url}/`, { headers: { cookie: cookie! }, redirect: "manual" })
  expect(overview.status).toBe(200)
  expect(await overview.text()).toContain(TEST_ADMIN.email)
  for (const pool of [a, b, c]) {
    const again = await open(pool, links[0])
    expect(again.status).toBe(401)
    expect(sessionOf(again)).toBeUndefined()
    expect(await again.text()).toContain("invalid, expired or already used")
  }
})

test("pools racing for one link: exactly one signs in", async () => {
  const results = await Promise.all([open(a, links[1]), open(b, links[1]), open(b, links[1]), open(a, links[1])])
  const statuses = results.map((r) => r.status).sort()
  expect(statuses).toEqual([303, 401, 401, 401])
  expect(results.filter((r) => sessionOf(r))).toHaveLength(1)
})

test("a pool without the link's administrator refuses with a readable page (in French here)", async () => {
  const r = await fetch(c.url + links[2], { redirect: "manual", headers: { "accept-language": "fr-FR" } })
  expect(r.status).toBe(403)
  expect(sessionOf(r)).toBeUndefined()
  const page = await r.text()
  expect(page).toContain("pool-a")
  expect(page).toContain(TEST_ADMIN.email)
  expect(page).toContain("pas de compte administrateur sur ce pool")
  // The link was spent on the way: it signs in nowhere now.
  expect((await open(a, links[2])).status).toBe(401)
})

test("the peer call is refused unsigned", async () => {
  const r = await fetch(`${a.url}/v1/federation/login-links/consume`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token_hash: "0".repeat(64) }),
  })
  expect(r.status).toBe(401)
  expect(((await r.json()) as { error: string }).error).toBe("request_unsigned")
})
