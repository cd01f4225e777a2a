// The pool VIP (admin guide §4.7) with Debian's keepalived: two pools in network namespaces on one bridge,
// each with `cellule vip` (priority 200 and 100); a client in a third namespace calls the API on the VIP.
// Killing the pool that holds the VIP moves it to the other one within 3 s, and the client keeps working.
import { afterAll, beforeAll, expect, test } from "bun:test"
import { startFedPool, type FedPool } from "../support/fed-pools.ts"
import { celluleCmd, cleanupAll, onCleanup, spawnProc, tempDir, type Proc } from "../support/proc.ts"
import { until } from "../support/until.ts"

const tag = `cv${process.pid % 100000}`
const NS = { a: `${tag}a`, b: `${tag}b`, c: `${tag}c`, sw: `${tag}sw` }
const IP = { a: "10.80.0.1", b: "10.80.0.2", c: "10.80.0.3" }
const VIP = "10.80.0.100"
const API = `http://${VIP}:8080`

function sh(cmd: string[], allowFail = false): { ok: boolean; out: string } {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" })
  const out = r.stdout.toString() + r.stderr.toString()
  if (!r.success && !allowFail) throw new Error(`${cmd.join(" ")} failed: ${out}`)
  return { ok: r.success, out }
}

/** The client: GET through the VIP from its own namespace; the answering pool's name, or null. */
function whoAnswers(): string | null {
  const r = sh(["ip", "netns", "exec", NS.c, "curl", "-fsS", "-m", "0.5", `${API}/v1/status`], true)
  return r.ok ? (JSON.parse(r.out).pool_name as string) : null
}

const removeNamespaces = () => {
  for (const ns of Object.values(NS)) sh(["ip", "netns", "del", ns], true)
}

let pools: Record<"a" | "b", FedPool>
const vips: Proc[] = []

beforeAll(async () => {
  if (!sh(["keepalived", "--version"], true).ok)
    throw new Error("keepalived is not installed (npm run setup -- --test)")
  onCleanup(removeNamespaces)
  removeNamespaces()
  const probe = sh(["ip", "netns", "add", NS.sw], true)
  if (!probe.ok) throw new Error(`network namespaces are not available here (need root): ${probe.out}`)
  sh(["ip", "-n", NS.sw, "link", "add", "br0", "type", "bridge"])
  sh(["ip", "-n", NS.sw, "link", "set", "br0", "up"])
  for (const k of ["a", "b", "c"] as const) {
    sh(["ip", "netns", "add", NS[k]])
    sh(["ip", "-n", NS[k], "link", "set", "lo", "up"])
    sh(["ip", "-n", NS[k], "link", "add", "eth0", "type", "veth", "peer", "name", `p${k}`, "netns", NS.sw])
    sh(["ip", "-n", NS[k], "addr", "add", `${IP[k]}/24`, "dev", "eth0"])
    sh(["ip", "-n", NS[k], "link", "set", "eth0", "up"])
    sh(["ip", "-n", NS.sw, "link", "set", `p${k}`, "master", "br0"])
    sh(["ip", "-n", NS.sw, "link", "set", `p${k}`, "up"])
  }
  const started = await Promise.all(
    (["a", "b"] as const).map((k) =>
      startFedPool({
        name: k,
        host: "0.0.0.0",
        port: 8080,
        prefix: ["ip", "netns", "exec", NS[k]],
        env: { POOL_URL: `http://${IP[k]}:8080`, CELLULE_FED_ALLOW_LOOPBACK_URL: "false" },
      }),
    ),
  )
  pools = { a: started[0], b: started[1] }
  for (const [k, priority] of [
    ["a", 200],
    ["b", 100],
  ] as const) {
    const v = spawnProc([
      "ip",
      "netns",
      "exec",
      NS[k],
      ...celluleCmd(),
      "vip",
      "--address",
      `${VIP}/24`,
      "--interface",
      "eth0",
      "--password",
      "s3cretVR",
      "--vrid",
      "77",
      "--priority",
      String(priority),
      "--pool-url",
      "http://127.0.0.1:8080",
      "--name",
      k,
      "--data-dir",
      tempDir(`cellule-vip-${k}-`),
    ])
    await v.waitFor(/cellule vip ready/, 30_000)
    vips.push(v)
  }
}, 400_000)
afterAll(cleanupAll)

test("the VIP is on the priority-200 pool; killing it moves the VIP within 3 s and the client keeps working", async () => {
  await until("pool a holds the VIP", async () => whoAnswers() === "a", 30_000, 200)
  expect(sh(["ip", "-n", NS.a, "-br", "-4", "addr", "show", "eth0"]).out).toContain(VIP)
  expect(sh(["ip", "-n", NS.b, "-br", "-4", "addr", "show", "eth0"]).out).not.toContain(VIP)

  const holds = (k: "a" | "b") => sh(["ip", "-n", NS[k], "-br", "-4", "addr", "show", "eth0"]).out.includes(VIP)
  const t0 = performance.now()
  await pools.a.kill("SIGKILL")
  await until("the VIP is on b", async () => holds("b"), 15_000, 50)
  const moved = performance.now() - t0
  // The client's next calls on the same URL reach b (the gratuitous ARP has moved the address).
  const { ms } = await until("pool b answers on the VIP", async () => whoAnswers() === "b", 10_000, 50)
  console.log(`VIP on b ${Math.round(moved)} ms after the kill; the client reached b ${Math.round(ms)} ms later`)
  expect(holds("a")).toBe(false)
  expect(moved).toBeLessThan(3000) // the guide's promise (§4.7)
  // The client keeps working on the same URL.
  for (let i = 0; i < 5; i++) expect(whoAnswers()).toBe("b")
})
