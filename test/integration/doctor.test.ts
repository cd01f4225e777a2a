// `cellule doctor` against real pools: two bonded pools and a worker → exit 0; a third pool whose clock runs
// 2 minutes ahead (faketime) → a clock problem naming it; the bonded peer stopped → a bond problem naming it.
import { afterAll, beforeAll, expect, test } from "bun:test"
import { bondAll, startFedPool, type FedPool } from "../support/fed-pools.ts"
import { tinyLlamaPath } from "../support/fixtures.ts"
import { celluleCmd, cleanupAll, startWorker, TEST_ADMIN } from "../support/proc.ts"
import { until } from "../support/until.ts"

afterAll(cleanupAll)

let a: FedPool
let b: FedPool
let c: FedPool

interface Report {
  ok: boolean
  problems: number
  checks: { check: string; status: string; subject: string; detail: string; fix?: string }[]
}

async function doctor(pools: string[]): Promise<{ code: number; report: Report; stderr: string }> {
  const p = Bun.spawn(
    [
      ...celluleCmd(),
      "doctor",
      "--pool",
      pools.join(","),
      "--admin",
      TEST_ADMIN.email,
      "--data-dir",
      a.dataDir,
      "--json",
    ],
    { stdout: "pipe", stderr: "pipe" },
  )
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
  return { code, report: JSON.parse(out) as Report, stderr: err }
}

beforeAll(async () => {
  const token = "doctor-token-0123456789"
  // c (not bonded) runs 2 minutes ahead; started with the others so the file boots its pools once.
  ;[a, b] = await Promise.all([
    startFedPool({ name: "a", env: { CELLULE_WORKER_TOKEN: token } }),
    startFedPool({ name: "b" }),
  ])
  ;[c] = await Promise.all([
    startFedPool({ name: "c", prefix: ["faketime", "-f", "+120s"] }),
    (async () => {
      await bondAll([a, b])
      await startWorker({ poolUrl: a.url, token, models: [`tiny=${await tinyLlamaPath()}`], slots: 1 })
    })(),
  ])
}, 400_000)

test("a healthy cluster: every check ok, exit 0", async () => {
  const { code, report, stderr } = await doctor([a.url])
  const by = (c: string) => report.checks.filter((x) => x.check === c)
  console.log(report.checks.map((c) => `${c.status} ${c.check} ${c.subject}: ${c.detail}`).join("\n"))
  expect(stderr).not.toContain("error:")
  expect(code).toBe(0)
  expect(report.ok).toBe(true)
  expect(report.problems).toBe(0)
  expect(by("pool").map((c) => c.status)).toEqual(["ok", "ok"]) // a given, b found through the bond
  expect(by("bond")).toMatchObject([{ status: "ok", subject: "b" }])
  // b has no worker of its own: a warning, not a problem (it forwards to a).
  expect(by("workers")).toMatchObject([
    { status: "warn", subject: `b (${b.url})` },
    { status: "ok", subject: "cluster", detail: "1 worker(s) connected" },
  ])
  expect(by("models")[0]).toMatchObject({ status: "ok", detail: "served: tiny" })
  expect(by("clock")[0].status).toBe("ok")
  expect(by("disk")[0].status).toBe("ok")
  expect(by("licence")).toHaveLength(1)
})

test("a pool whose clock is 2 minutes ahead is named, exit 1", async () => {
  const { code, report, stderr } = await doctor([a.url, c.url])
  const clock = report.checks.filter((x) => x.check === "clock")
  console.log(clock)
  expect(code).toBe(1)
  expect(stderr).toContain("problem(s) found")
  expect(clock).toHaveLength(1)
  expect(clock[0]).toMatchObject({ status: "problem", subject: `c (${c.url})` })
  expect(clock[0].detail).toMatch(/^clock is 1[12]\d\.\d s ahead of the other pools/)
  expect(clock[0].fix).toContain("ntp")
  await c.kill()
})

test("a stopped bonded peer is named, exit 1", async () => {
  await b.kill("SIGKILL")
  await until(
    "b is down",
    async () =>
      !(await fetch(`${b.url}/v1/status`).then(
        () => true,
        () => false,
      )),
    10_000,
  )
  const { code, report } = await doctor([a.url])
  const problems = report.checks.filter((x) => x.status === "problem")
  console.log(problems)
  expect(code).toBe(1)
  expect(problems).toHaveLength(1)
  expect(problems[0]).toMatchObject({ check: "bond", subject: "b" })
  expect(problems[0].detail).toContain(`bonded peer b at ${b.url} does not answer`)
  expect(problems[0].fix).toContain("start the pool b")
})
