// publicOrigin writes the pool's own address into installer scripts: a Host naming this machine is
// kept, a foreign one gets POOL_URL. An address brought up after the first request (a veth, a VPN, a
// new DHCP lease) is this machine's too.
import { afterAll, expect, test } from "bun:test"
import { publicOrigin } from "../../../core/http/public-origin.ts"

const DEV = `po${process.pid % 100000}`
const ADDR = `10.251.${process.pid % 250}.1`
const req = (host: string) => new Request(`http://${host}/v1/install/worker.sh`, { headers: { host } })
const sh = (...cmd: string[]) => Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" })

afterAll(() => void sh("ip", "link", "del", DEV))

test("a foreign Host gets POOL_URL; a local one is kept", () => {
  expect(publicOrigin(req("evil.example:80"), "http://pool.lan:8080")).toBe("http://pool.lan:8080")
  expect(publicOrigin(req("127.0.0.1:9000"), "http://pool.lan:8080")).toBe("http://127.0.0.1:9000")
})

test("an address added after the first call is recognised once the interfaces are re-read", async () => {
  expect(publicOrigin(req(`${ADDR}:9000`), "http://pool.lan:8080")).toBe("http://pool.lan:8080")
  const add = sh("ip", "link", "add", DEV, "type", "veth", "peer", "name", `${DEV}p`)
  if (add.exitCode !== 0) throw new Error(`ip link add needs root here: ${add.stderr}`)
  expect(sh("ip", "addr", "add", `${ADDR}/32`, "dev", DEV).exitCode).toBe(0)
  expect(sh("ip", "link", "set", DEV, "up").exitCode).toBe(0)
  expect(sh("ip", "link", "set", `${DEV}p`, "up").exitCode).toBe(0) // a veth without carrier is not listed
  await Bun.sleep(2_100) // the re-read is rate-limited to one every 2 s
  expect(publicOrigin(req(`${ADDR}:9000`), "http://pool.lan:8080")).toBe(`http://${ADDR}:9000`)
})
