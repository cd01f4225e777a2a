// X-Cellule-Proxy (core/proxy/identity.ts): what a proxy writes parses back; anything else is ignored;
// the pool keeps the proxies seen newest first, bounded, and forgets those unseen for the window.
import { expect, test } from "bun:test"
import { parseProxyHeader, ProxiesSeen, proxyHeaderValue, proxyIdentity } from "../../../core/proxy/identity.ts"

test("a proxy's header parses back to its identity; the id is stable for a name and address", () => {
  const me = proxyIdentity("entry-1.lan", "http://0.0.0.0:18080")
  expect(parseProxyHeader(proxyHeaderValue(me))).toEqual(me)
  expect(proxyIdentity("entry-1.lan", "http://0.0.0.0:18080").id).toBe(me.id)
  expect(proxyIdentity("entry-2.lan", "http://0.0.0.0:18080").id).not.toBe(me.id)
})

test.each([
  ["nothing", null],
  ["no fields", "hello"],
  ["a short id", "id=abc; name=x; url=http%3A%2F%2Fa%3A1"],
  ["markup in the name", `id=aaaaaaaaaaaa; name=${encodeURIComponent("<b>x</b>")}; url=http%3A%2F%2Fa%3A1`],
  ["a URL that is not http", "id=aaaaaaaaaaaa; name=x; url=javascript%3Aalert(1)"],
  ["bad escapes", "id=aaaaaaaaaaaa; name=%E0%A4%A; url=http%3A%2F%2Fa%3A1"],
  ["an oversized value", `id=aaaaaaaaaaaa; name=${"x".repeat(700)}; url=http%3A%2F%2Fa%3A1`],
])("%s is not a proxy", (_what, v) => {
  expect(parseProxyHeader(v)).toBeNull()
})

test("proxies seen: newest first, first seen kept, bounded, forgotten after the window", () => {
  let now = 1_000_000
  const seen = new ProxiesSeen(() => now, 2)
  const a = proxyIdentity("a", "http://10.0.0.1:1")
  const b = proxyIdentity("b", "http://10.0.0.2:1")
  const c = proxyIdentity("c", "http://10.0.0.3:1")
  seen.record(a, "10.0.0.1")
  now += 1000
  seen.record(b, "10.0.0.2")
  now += 1000
  seen.record(a, "10.0.0.1")
  expect(seen.list().map((p) => p.name)).toEqual(["a", "b"])
  expect(seen.list()[0].first_seen).toBe(new Date(1_000_000).toISOString())
  now += 1000
  seen.record(c, "10.0.0.3") // over the bound: b, the longest unseen, goes
  expect(seen.list().map((p) => p.name)).toEqual(["c", "a"])
  now += 3_600_001
  expect(seen.list()).toEqual([])
})
