// Proxy discovery: the merge of listed and discovered pools (pure), and the loop against real
// in-process listeners that answer GET /v1/federation/entry-pools the way a pool does.
import { afterEach, describe, expect, test } from "bun:test"
import { ManualClock } from "../../../core/clock.ts"
import { Discovery, mergeUpstreams, type EntryPool } from "../../../core/proxy/discovery.ts"
import { Upstreams } from "../../../core/proxy/upstreams.ts"

const pool = (url: string, atom_id: string, pool_name: string | null = null): EntryPool => ({ url, atom_id, pool_name })

describe("mergeUpstreams", () => {
  test.each([
    [
      "static pools come first, discovered ones after",
      ["http://a:1"],
      [pool("http://b:2", "B")],
      [],
      ["http://a:1", "http://b:2"],
    ],
    [
      "a discovered URL equal to a static one is not added twice",
      ["http://a:1"],
      [pool("http://a:1", "A"), pool("http://b:2", "B")],
      [],
      ["http://a:1", "http://b:2"],
    ],
    [
      "discovered URLs are normalised like the static list",
      ["http://a:1"],
      [pool("b:2", "B"), pool("http://B:2/", "B2")],
      [],
      ["http://a:1", "http://b:2"],
    ],
    [
      "a pool listed under another address than its POOL_URL is recognised by its atom",
      ["http://10.0.0.1:1"],
      [pool("http://a.lan:1", "A"), pool("http://b:2", "B")],
      [["http://10.0.0.1:1", "A"]],
      ["http://10.0.0.1:1", "http://b:2"],
    ],
    [
      "two entries of one atom keep the first",
      [],
      [pool("http://b:2", "B"), pool("http://b-alias:2", "B")],
      [],
      ["http://b:2"],
    ],
    ["nothing discovered leaves the static list", ["http://a:1", "http://c:3"], [], [], ["http://a:1", "http://c:3"]],
  ] as [string, string[], EntryPool[], [string, string][], string[]][])(
    "%s",
    (_name, statics, discovered, atoms, expected) => {
      const { urls, rejected } = mergeUpstreams(statics, discovered, new Map(atoms))
      expect(urls).toEqual(expected)
      expect(rejected).toEqual([])
    },
  )

  test("entries that are not pool origins are rejected, the others kept", () => {
    const { urls, rejected } = mergeUpstreams(
      ["http://a:1"],
      [pool("ftp://x:1", "X"), pool("http://y:1/path", "Y"), pool("http://b:2", "B")],
    )
    expect(urls).toEqual(["http://a:1", "http://b:2"])
    expect(rejected).toEqual(["ftp://x:1", "http://y:1/path"])
  })
})

const stops: (() => unknown)[] = []
afterEach(async () => {
  while (stops.length) await stops.pop()!()
})

/** A listener that answers entry-pools like a pool: its own atom and whatever `pools()` says now. */
function fakePool(atom: string, pools: () => EntryPool[]) {
  const s = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) =>
      new URL(req.url).pathname === "/v1/federation/entry-pools"
        ? Response.json({ atom_id: atom, pools: pools() })
        : new Response("no", { status: 404 }),
  })
  stops.push(() => s.stop(true))
  return { url: `http://127.0.0.1:${s.port}`, server: s }
}

function discoveryOver(statics: string[]) {
  const clock = new ManualClock()
  const upstreams = new Upstreams(statics, clock, { maxFails: 3, failTimeoutMs: 30_000 })
  // Ticks are driven by hand; the loop is never started.
  const discovery = new Discovery(upstreams, statics, clock, { intervalMs: 60_000, timeoutMs: 2_000 })
  return { upstreams, discovery, urls: () => upstreams.all().map((u) => u.url) }
}

describe("Discovery", () => {
  test("a discovered pool joins, and leaves when the answer no longer lists it; static pools stay", async () => {
    let answer: EntryPool[] = [pool("http://10.9.0.2:2", "B", "pool-b")]
    const a = fakePool("A", () => [pool(a.url, "A", "pool-a"), ...answer])
    const { discovery, urls } = discoveryOver([a.url])
    await discovery.tick()
    expect(urls()).toEqual([a.url, "http://10.9.0.2:2"])
    answer = []
    await discovery.tick()
    expect(urls()).toEqual([a.url])
  })

  test("upstreams that stay keep their in-flight count and failure state", async () => {
    let answer: EntryPool[] = [pool("http://10.9.0.2:2", "B"), pool("http://10.9.0.3:3", "C")]
    const a = fakePool("A", () => answer)
    const { upstreams, discovery } = discoveryOver([a.url])
    await discovery.tick()
    const [ua, ub] = upstreams.all()
    ua.inFlight = 2
    ub.inFlight = 1
    ub.checked(false, 0, "down")
    answer = [pool("http://10.9.0.2:2", "B")]
    await discovery.tick()
    expect(upstreams.all()).toEqual([ua, ub])
    expect(upstreams.all()[0].inFlight).toBe(2)
    expect(upstreams.all()[1].inFlight).toBe(1)
    expect(upstreams.all()[1].lastError).toBe("down")
  })

  test("when the first pool does not answer the next one is asked; when none does the list is kept", async () => {
    const b = fakePool("B", () => [pool(b.url, "B"), pool("http://10.9.0.3:3", "C")])
    const dead = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() })
    const deadUrl = `http://127.0.0.1:${dead.port}`
    await dead.stop(true)
    const { discovery, urls } = discoveryOver([deadUrl, b.url])
    await discovery.tick()
    expect(discovery.source).toBe(b.url)
    expect(urls()).toEqual([deadUrl, b.url, "http://10.9.0.3:3"])
    await b.server.stop(true)
    await discovery.tick()
    expect(urls()).toEqual([deadUrl, b.url, "http://10.9.0.3:3"])
  })

  test("a pool that answers 404 (federation routes missing) is skipped like one that is down", async () => {
    const old = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => Response.json({ error: "not_found" }, { status: 404 }),
    })
    stops.push(() => old.stop(true))
    const oldUrl = `http://127.0.0.1:${old.port}`
    const b = fakePool("B", () => [pool("http://10.9.0.3:3", "C")])
    const { discovery, urls } = discoveryOver([oldUrl, b.url])
    await discovery.tick()
    expect(urls()).toEqual([oldUrl, b.url, "http://10.9.0.3:3"])
  })

  test("a new static list (SIGHUP) is merged with the last answer at once", async () => {
    const a = fakePool("A", () => [pool("http://10.9.0.2:2", "B")])
    const { discovery, urls } = discoveryOver([a.url])
    await discovery.tick()
    discovery.setStatic([a.url, "http://10.9.0.9:9"])
    expect(urls()).toEqual([a.url, "http://10.9.0.9:9", "http://10.9.0.2:2"])
  })

  test("start runs a first round at once and stop ends the loop", async () => {
    const a = fakePool("A", () => [pool("http://10.9.0.2:2", "B")])
    const { discovery, urls } = discoveryOver([a.url])
    discovery.start()
    for (let i = 0; i < 100 && urls().length < 2; i++) await Bun.sleep(20)
    expect(urls()).toEqual([a.url, "http://10.9.0.2:2"])
    await discovery.stop()
    expect(discovery.state).toBe("stopped")
  })
})
