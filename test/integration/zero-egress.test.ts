// Zero egress: a pool, a worker and the proxy run in a network namespace whose only link leads to a
// "gateway" namespace that forwards nothing. The default routes (IPv4 and IPv6) and the resolver
// (/etc/netns/<ns>/resolv.conf → 192.0.2.53) all point through that link, so any connection the processes
// attempt outside the LAN, and any DNS lookup, arrives there and is recorded by a raw-socket listener
// (test/support/egress-recorder.py). The cluster boots, a worker joins, a chat completion goes through the
// proxy; then the recording must hold nothing but LAN addresses. The recorder is proved alive afterwards:
// a deliberate curl to 1.1.1.1 and a DNS lookup from inside the namespace must both be recorded.
import { afterAll, beforeAll, expect, test } from "bun:test"
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { tinyLlamaPath } from "../support/fixtures.ts"
import {
  celluleCmd,
  cleanupAll,
  onCleanup,
  ROOT,
  spawnProc,
  tempDir,
  testSetupAnswers,
  TEST_POOL_ENV,
  type Proc,
} from "../support/proc.ts"
import { until } from "../support/until.ts"
import { removeNamespaces, sh } from "../support/netns.ts"

const tag = `ze${process.pid % 100000}`
const NS = { app: `${tag}app`, gw: `${tag}gw` }
const LAN = "10.79.0."
const IP = { app: "10.79.0.1", gw: "10.79.0.254", app6: "fd79::1", gw6: "fd79::fe" }
const POOL = `http://${IP.app}:8080`
const PROXY = `http://${IP.app}:8090`
const NETNS_ETC = `/etc/netns/${NS.app}`

const inApp = (cmd: string[]) => ["ip", "netns", "exec", NS.app, ...cmd]

/** curl from inside the application namespace (the test process stays in the root namespace). */
async function curlIn(url: string, body?: unknown): Promise<{ status: number; text: string }> {
  const args = inApp(["curl", "-sS", "-m", "60", "-w", "\n%{http_code}"])
  if (body !== undefined) args.push("-H", "content-type: application/json", "--data-binary", JSON.stringify(body))
  args.push(url)
  const p = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" })
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
  if (code !== 0) throw new Error(`curl ${url}: ${err.trim()}`)
  const i = out.lastIndexOf("\n")
  return { status: Number(out.slice(i + 1)), text: out.slice(0, i) }
}

interface Packet {
  family: number
  src: string
  dst: string
  proto: string
  dport?: number
  syn?: boolean
  dns?: string
}

let recorder: Proc
const packets = (): Packet[] =>
  recorder
    .stdout()
    .split("\n")
    .filter((l) => l.startsWith("{") && !l.includes('"ready"'))
    .map((l) => JSON.parse(l) as Packet)
const isLan = (p: Packet) => (p.family === 4 ? p.dst.startsWith(LAN) : p.dst.startsWith("fd79::"))
const describePacket = (p: Packet) =>
  `${p.proto} ${p.src} -> ${p.dst}${p.dport ? `:${p.dport}` : ""}${p.syn ? " SYN" : ""}${p.dns ? ` DNS ${p.dns}` : ""}`

function removeAll() {
  removeNamespaces(Object.values(NS))
  rmSync(NETNS_ETC, { recursive: true, force: true })
}

beforeAll(async () => {
  onCleanup(removeAll) // registered first: runs last, after the processes are gone
  removeAll()
  const probe = sh(["ip", "netns", "add", NS.gw], true)
  if (!probe.ok) throw new Error(`network namespaces are not available here (need root): ${probe.out}`)
  sh(["ip", "netns", "add", NS.app])
  for (const ns of Object.values(NS)) sh(["ip", "-n", ns, "link", "set", "lo", "up"])
  sh(["ip", "-n", NS.app, "link", "add", "eth0", "type", "veth", "peer", "name", "gw0", "netns", NS.gw])
  // No duplicate-address detection delay: the IPv6 addresses are usable at once.
  for (const [ns, dev] of [
    [NS.app, "eth0"],
    [NS.gw, "gw0"],
  ])
    sh(["ip", "netns", "exec", ns, "sysctl", "-qw", `net.ipv6.conf.${dev}.accept_dad=0`], true)
  sh(["ip", "-n", NS.app, "addr", "add", `${IP.app}/24`, "dev", "eth0"])
  sh(["ip", "-n", NS.app, "addr", "add", `${IP.app6}/64`, "dev", "eth0", "nodad"])
  sh(["ip", "-n", NS.gw, "addr", "add", `${IP.gw}/24`, "dev", "gw0"])
  sh(["ip", "-n", NS.gw, "addr", "add", `${IP.gw6}/64`, "dev", "gw0", "nodad"])
  sh(["ip", "-n", NS.app, "link", "set", "eth0", "up"])
  sh(["ip", "-n", NS.gw, "link", "set", "gw0", "up"])
  // Every route out leads to the gateway namespace, which forwards nothing (a new namespace has forwarding off).
  sh(["ip", "-n", NS.app, "route", "add", "default", "via", IP.gw])
  sh(["ip", "-n", NS.app, "-6", "route", "add", "default", "via", IP.gw6])
  mkdirSync(NETNS_ETC, { recursive: true })
  writeFileSync(join(NETNS_ETC, "resolv.conf"), "nameserver 192.0.2.53\noptions timeout:1 attempts:1\n")

  recorder = spawnProc(["ip", "netns", "exec", NS.gw, "python3", join(ROOT, "test/support/egress-recorder.py"), "gw0"])
  await recorder.waitFor(/"ready"/, 10_000)
}, 60_000)
afterAll(cleanupAll)

test("a pool, a worker and the proxy attempt no connection outside the LAN", async () => {
  const model = await tinyLlamaPath()
  const token = "egress-token-0123456789"
  const pool = spawnProc(
    inApp([...celluleCmd(), "pool", "--host", IP.app, "--port", "8080", "--data-dir", tempDir("cellule-egress-")]),
    {
      env: {
        ...TEST_POOL_ENV,
        POOL_NAME: "egress",
        POOL_URL: POOL,
        CELLULE_SETUP_ANSWERS: testSetupAnswers(),
        CELLULE_WORKER_TOKEN: token,
      },
    },
  )
  await pool.waitFor(/cellule pool ready/, 180_000)
  const worker = spawnProc(
    inApp([
      ...celluleCmd(),
      "worker",
      "--pool",
      POOL,
      "--token",
      token,
      "--data-dir",
      tempDir("cellule-egress-worker-"),
      "--model",
      `tiny=${model}`,
      "--slots",
      "1",
      "--threads",
      "1",
      "--context-size",
      "1024",
      "--heartbeat-ms",
      "1000",
    ]),
  )
  await worker.waitFor(/cellule worker ready/, 90_000)
  const proxy = spawnProc(inApp([...celluleCmd(), "proxy", "--host", IP.app, "--port", "8090", "--upstream", POOL]))
  await proxy.waitFor(/cellule proxy ready/, 60_000)

  await until(
    "the model is served",
    async () => (await curlIn(`${PROXY}/v1/models`)).text.includes('"tiny"'),
    60_000,
    250,
  )
  const res = await curlIn(`${PROXY}/v1/chat/completions`, {
    model: "tiny",
    messages: [{ role: "user", content: "hi" }],
    max_tokens: 8,
  })
  expect(res.status).toBe(200)
  expect(JSON.parse(res.text).usage.completion_tokens).toBeGreaterThan(0)
  // The dashboard's login page and the status route, as a browser on the LAN would load them.
  expect((await curlIn(`${POOL}/v1/status`)).status).toBe(200)
  expect((await curlIn(`${POOL}/login`)).status).toBe(200)
  // Let the background loops (federation, licence, worker heartbeats, proxy health checks) run a while.
  await Bun.sleep(5_000)

  const egress = packets().filter((p) => !isLan(p))
  console.log(
    `zero egress: ${packets().length} packet(s) reached the gateway, ${egress.length} outside the LAN${egress.length ? `:\n  ${egress.map(describePacket).join("\n  ")}` : ""}`,
  )
  expect(egress.map(describePacket)).toEqual([])
}, 400_000)

test("the recorder catches an egress: a curl to 1.1.1.1 and a DNS lookup from inside the namespace", async () => {
  const before = packets().length
  sh(inApp(["curl", "-sS", "-m", "2", "http://1.1.1.1/"]), true)
  sh(inApp(["getent", "ahosts", "egress-canary.example.com"]), true)
  sh(inApp(["curl", "-sS", "-m", "2", "-g", "http://[2606:4700:4700::1111]/"]), true)
  const { value } = await until(
    "the canary packets are recorded",
    async () => {
      const seen = packets().slice(before)
      const syn = seen.find((p) => p.dst === "1.1.1.1" && p.dport === 80 && p.syn)
      const dns = seen.find((p) => p.dns === "egress-canary.example.com" && p.dst === "192.0.2.53")
      const syn6 = seen.find((p) => p.dst === "2606:4700:4700::1111" && p.syn)
      return syn && dns && syn6 && [syn, dns, syn6]
    },
    10_000,
    100,
  )
  console.log(`recorded canaries:\n  ${value.map(describePacket).join("\n  ")}`)
  expect(value.every((p) => !isLan(p))).toBe(true)
})
