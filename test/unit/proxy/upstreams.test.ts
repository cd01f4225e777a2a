import { describe, expect, test } from "bun:test"
import { ManualClock } from "../../../core/clock.ts"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ConfigError } from "../../../core/errors.ts"
import { isSticky, upstreamList } from "../../../core/proxy/index.ts"
import { STICKY_PATHS } from "./_sticky-paths.ts"
import { Upstreams } from "../../../core/proxy/upstreams.ts"
import { stripHopByHop, upstreamRequestHeaders } from "../../../core/proxy/_headers.ts"
import { clientIp, forwardedOrigin } from "../../../core/http/client-ip.ts"
import { cidrList } from "../../../core/config/cidr.ts"

const urls = ["http://a:1", "http://b:2", "http://c:3"]
const opts = { maxFails: 3, failTimeoutMs: 30_000 }

describe("balancing", () => {
  test("least_conn: the pool with the fewest requests in flight comes first", () => {
    const ups = new Upstreams(urls, new ManualClock(), opts)
    const [a, b, c] = ups.all()
    a.inFlight = 2
    b.inFlight = 0
    c.inFlight = 1
    expect(ups.plan().map((u) => u.url)).toEqual(["http://b:2", "http://c:3", "http://a:1"])
  })

  test("equally loaded pools share the load round-robin", () => {
    const ups = new Upstreams(urls, new ManualClock(), opts)
    const firsts = Array.from({ length: 6 }, () => ups.plan()[0].url)
    expect(new Set(firsts).size).toBe(3)
  })

  test("a sticky key always lands on the same pool, and losing another pool does not move it", () => {
    const clock = new ManualClock()
    const ups = new Upstreams(urls, clock, opts)
    const home = ups.plan("10.0.0.7")[0]
    for (let i = 0; i < 5; i++) expect(ups.plan("10.0.0.7")[0]).toBe(home)
    const other = ups.all().find((u) => u !== home)!
    other.checked(false, clock.now(), "down")
    expect(ups.plan("10.0.0.7")[0]).toBe(home)
    home.checked(false, clock.now(), "down")
    expect(ups.plan("10.0.0.7")[0]).not.toBe(home)
  })

  test("sticky keys spread over the pools", () => {
    const ups = new Upstreams(urls, new ManualClock(), opts)
    const homes = new Set(Array.from({ length: 60 }, (_, i) => ups.plan(`10.0.0.${i}`)[0].url))
    expect(homes.size).toBe(3)
  })

  test("max_fails failures inside fail_timeout take a pool out for fail_timeout, then it returns", () => {
    const clock = new ManualClock()
    const ups = new Upstreams(urls, clock, opts)
    const a = ups.all()[0]
    ups.fail(a, "ECONNREFUSED")
    ups.fail(a, "ECONNREFUSED")
    expect(a.available(clock.now())).toBe(true)
    ups.fail(a, "ECONNREFUSED")
    expect(a.available(clock.now())).toBe(false)
    expect(ups.plan().at(-1)).toBe(a)
    clock.advance(30_000)
    expect(a.available(clock.now())).toBe(true)
  })

  test("failures spread wider than fail_timeout do not take a pool out", () => {
    const clock = new ManualClock()
    const ups = new Upstreams(urls, clock, opts)
    const a = ups.all()[0]
    for (let i = 0; i < 5; i++) {
      ups.fail(a, "timeout")
      clock.advance(16_000)
    }
    expect(a.available(clock.now())).toBe(true)
  })

  test("a passed health check brings an ejected pool back at once", () => {
    const clock = new ManualClock()
    const ups = new Upstreams(urls, clock, opts)
    const a = ups.all()[0]
    for (let i = 0; i < 3; i++) ups.fail(a, "x")
    a.checked(true, clock.now())
    expect(a.available(clock.now())).toBe(true)
  })

  test("when every pool is out they are still tried", () => {
    const clock = new ManualClock()
    const ups = new Upstreams(urls, clock, opts)
    for (const u of ups.all()) u.checked(false, clock.now(), "down")
    expect(ups.plan()).toHaveLength(3)
  })
})

test.each(STICKY_PATHS)("sticky(%s) is %p", (path, sticky) => {
  expect(isSticky(path)).toBe(sticky)
})

describe("headers", () => {
  test("hop-by-hop headers and the ones Connection names are removed", () => {
    const h = stripHopByHop(
      new Headers({
        connection: "close, x-secret",
        "x-secret": "1",
        "keep-alive": "timeout=5",
        te: "trailers",
        trailer: "x",
        "transfer-encoding": "chunked",
        upgrade: "h2c",
        "proxy-authorization": "Basic x",
        "proxy-connection": "keep-alive",
        "content-type": "text/plain",
      }),
    )
    expect([...(h as unknown as Map<string, string>).keys()]).toEqual(["content-type"])
  })

  test("an untrusted client's X-Forwarded-* are replaced, a trusted proxy's are extended", () => {
    const incoming = new Headers({
      "x-forwarded-for": "6.6.6.6",
      "x-forwarded-proto": "https",
      forwarded: "for=6.6.6.6",
      host: "entry",
    })
    const untrusted = upstreamRequestHeaders(incoming, {
      peer: "10.0.0.9",
      ip: "10.0.0.9",
      peerTrusted: false,
      proto: "http",
      host: "entry",
    })
    expect(untrusted.get("x-forwarded-for")).toBe("10.0.0.9")
    expect(untrusted.get("x-forwarded-proto")).toBe("http")
    expect(untrusted.get("forwarded")).toBeNull()
    expect(untrusted.get("host")).toBeNull()
    const trusted = upstreamRequestHeaders(incoming, {
      peer: "10.0.0.2",
      ip: "6.6.6.6",
      peerTrusted: true,
      proto: "https",
      host: "llm.example",
    })
    expect(trusted.get("x-forwarded-for")).toBe("6.6.6.6, 10.0.0.2")
    expect(trusted.get("x-forwarded-proto")).toBe("https")
    expect(trusted.get("x-forwarded-host")).toBe("llm.example")
  })
})

describe("clientIp", () => {
  const server = (ip: string) => ({ requestIP: () => ({ address: ip, family: "IPv4", port: 1 }) }) as never
  const req = (xff?: string, extra: Record<string, string> = {}) =>
    new Request("http://localhost/x", { headers: { ...(xff ? { "x-forwarded-for": xff } : {}), ...extra } })

  test.each([
    ["no trusted proxies: the peer, whatever the header says", [], "10.0.0.2", "1.2.3.4", "10.0.0.2"],
    ["a peer outside the trusted list cannot name a client", ["10.0.0.0/24"], "192.168.1.5", "1.2.3.4", "192.168.1.5"],
    ["a trusted proxy names the client", ["10.0.0.2/32"], "10.0.0.2", "192.168.1.50", "192.168.1.50"],
    [
      "spoofed hops left of the real client are ignored",
      ["10.0.0.0/24"],
      "10.0.0.2",
      "6.6.6.6, 192.168.1.50, 10.0.0.3",
      "192.168.1.50",
    ],
    ["a trusted proxy without the header: the peer", ["10.0.0.2"], "10.0.0.2", undefined, "10.0.0.2"],
    ["IPv4-mapped peer", ["10.0.0.2"], "::ffff:10.0.0.2", "192.168.1.50", "192.168.1.50"],
  ])("%s", (_name, cidrs, peer, xff, expected) => {
    expect(clientIp(req(xff), server(peer), { trustedProxies: cidrList(cidrs, "test") })).toBe(expected)
  })

  test("X-Forwarded-Proto/Host only from a trusted proxy", () => {
    const r = req(undefined, { "x-forwarded-proto": "https", "x-forwarded-host": "llm.example", host: "pool-a:8080" })
    expect(forwardedOrigin(r, server("10.0.0.2"), { trustedProxies: cidrList([], "test") })).toEqual({
      proto: "http",
      host: "pool-a:8080",
    })
    expect(forwardedOrigin(r, server("10.0.0.2"), { trustedProxies: cidrList(["10.0.0.2"], "test") })).toEqual({
      proto: "https",
      host: "llm.example",
    })
  })
})

describe("upstream list", () => {
  test("flags/env and the upstreams file are merged, normalised and de-duplicated", () => {
    const dir = mkdtempSync(join(tmpdir(), "cellule-up-"))
    const file = join(dir, "pools.txt")
    writeFileSync(
      file,
      "# the cabinet\nhttp://10.0.0.12:18082/\n\n10.0.0.13:18083  # bare host:port\nhttp://10.0.0.11:18081\n",
    )
    expect(upstreamList({ proxyUpstreams: ["http://10.0.0.11:18081"], proxyUpstreamsFile: file })).toEqual([
      "http://10.0.0.11:18081",
      "http://10.0.0.12:18082",
      "http://10.0.0.13:18083",
    ])
    rmSync(dir, { recursive: true, force: true })
  })

  test.each([
    ["no pool at all", [], /at least one pool/],
    ["a path", ["http://10.0.0.11:18081/v1"], /must not have a path/],
    ["another scheme", ["ftp://10.0.0.11"], /http\(s\) URL/],
    ["garbage", ["http://"], /not a pool URL/],
  ])("%s is refused at start", (_name, list, msg) => {
    expect(() => upstreamList({ proxyUpstreams: list })).toThrow(msg)
    expect(() => upstreamList({ proxyUpstreams: list })).toThrow(ConfigError)
  })
})
