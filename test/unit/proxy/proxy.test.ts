// The proxy against real in-process listeners: retries, streaming, cut streams, limits, WebSocket.
import { afterEach, describe, expect, test } from "bun:test"
import type { Server } from "bun"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { loadConfig } from "../../../core/config/index.ts"
import { type Proxy as CelluleProxy, startProxy } from "../../../core/proxy/index.ts"

const stops: (() => unknown)[] = []
afterEach(async () => {
  while (stops.length) await stops.pop()!()
})

function upstream(
  name: string,
  fetch: (req: Request, srv: Server<unknown>) => Response | Promise<Response> | undefined,
  websocket?: Bun.WebSocketHandler<unknown>,
) {
  const s = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: fetch as never,
    websocket: websocket ?? { message() {} },
  })
  stops.push(() => s.stop(true))
  return { url: `http://127.0.0.1:${s.port}`, name, server: s }
}

/** A port with nothing listening: connections are refused. */
async function deadUrl(): Promise<string> {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() })
  const url = `http://127.0.0.1:${s.port}`
  await s.stop(true)
  return url
}

async function proxyFor(urls: string[], env: Record<string, string> = {}): Promise<CelluleProxy> {
  const config = loadConfig(
    "proxy",
    {},
    {
      CELLULE_PROXY_HOST: "127.0.0.1",
      CELLULE_PROXY_PORT: "0",
      CELLULE_PROXY_UPSTREAMS: urls.join(","),
      CELLULE_PROXY_HEALTH_INTERVAL_MS: "60000",
      CELLULE_SHUTDOWN_GRACE_MS: "1000",
      ...env,
    },
  )
  const p = await startProxy(config)
  stops.push(() => p.stop())
  return p
}

const echo = (name: string) =>
  upstream(name, async (req) =>
    Response.json({
      pool: name,
      method: req.method,
      body: await req.text(),
      xff: req.headers.get("x-forwarded-for"),
      proto: req.headers.get("x-forwarded-proto"),
      connection: req.headers.get("x-hop"),
    }),
  )

describe("cellule proxy", () => {
  test("a POST whose pool refuses the connection is retried on the next pool with its body intact", async () => {
    const live = echo("live")
    const doomed = [echo("doomed-1"), echo("doomed-2")]
    const p = await proxyFor([...doomed.map((d) => d.url), live.url])
    await p.health.checkAll()
    // The two pools die after the proxy saw them healthy: it only learns it from refused connections.
    for (const d of doomed) await d.server.stop(true)
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${p.url}/v1/chat/completions`, {
        method: "POST",
        body: JSON.stringify({ n: i }),
        headers: { "content-type": "application/json" },
      })
      expect(res.status).toBe(200)
      const j = await res.json()
      expect(j).toMatchObject({
        pool: "live",
        method: "POST",
        body: JSON.stringify({ n: i }),
        xff: "127.0.0.1",
        proto: "http",
      })
    }
    const metrics = await (await fetch(`${p.url}/metrics`)).text()
    expect(metrics).toMatch(/cellule_proxy_retries_total\{upstream="http:\/\/127\.0\.0\.1:\d+"\} [1-9]/)
    expect(metrics).toContain(`cellule_proxy_requests_total{upstream="${live.url}",status="200"} 4`)
    // Two refused pools are taken out after max_fails (3) failures each and stop costing a retry.
    expect(metrics).toMatch(/cellule_proxy_upstream_up\{upstream="http:\/\/127\.0\.0\.1:\d+"\} 0/)
    expect(metrics).toContain("# TYPE cellule_proxy_request_duration_seconds histogram")
  })

  test("a 503 from one pool is retried on another; the last pool's answer is relayed as is", async () => {
    const busy = upstream("busy", () => Response.json({ error: "no_worker" }, { status: 503 }))
    const live = echo("live")
    const p = await proxyFor([busy.url, live.url])
    for (let i = 0; i < 4; i++) expect((await fetch(`${p.url}/v1/models`)).status).toBe(200)
    const only = await proxyFor([busy.url])
    const res = await fetch(`${only.url}/v1/models`)
    expect(res.status).toBe(503)
    expect(await res.json()).toEqual({ error: "no_worker" })
  })

  test("every pool down gives 502 upstream_unavailable", async () => {
    const p = await proxyFor([await deadUrl()])
    const res = await fetch(`${p.url}/v1/models`)
    expect(res.status).toBe(502)
    expect((await res.json()).error).toBe("upstream_unavailable")
  })

  test("an SSE stream reaches the client chunk by chunk, unbuffered", async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const sse = upstream("sse", () => {
      const enc = new TextEncoder()
      return new Response(
        new ReadableStream({
          async start(c) {
            c.enqueue(enc.encode("data: one\n\n"))
            await gate
            c.enqueue(enc.encode("data: two\n\n"))
            c.close()
          },
        }),
        { headers: { "content-type": "text/event-stream" } },
      )
    })
    const p = await proxyFor([sse.url])
    const res = await fetch(`${p.url}/v1/chat/completions`, { method: "POST", body: "{}" })
    expect(res.headers.get("content-type")).toBe("text/event-stream")
    const reader = res.body!.getReader()
    const first = new TextDecoder().decode((await reader.read()).value)
    expect(first).toBe("data: one\n\n")
    release()
    let rest = ""
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      rest += new TextDecoder().decode(value)
    }
    expect(rest).toBe("data: two\n\n")
  })

  test("a pool that dies mid-answer cuts the client's response: it never looks complete", async () => {
    // A raw socket: headers and one chunk, then the connection drops without the final chunk.
    const raw = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(sock) {
          sock.write(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n6\r\ndata: \r\n",
          )
          setTimeout(() => sock.end(), 100)
        },
      },
    })
    stops.push(() => raw.stop(true))
    const p = await proxyFor([`http://127.0.0.1:${raw.port}`])
    const res = await fetch(`${p.url}/v1/chat/completions`, { method: "POST", body: "{}" })
    expect(res.status).toBe(200)
    await expect(res.text()).rejects.toThrow()
    await Bun.sleep(100)
    expect(await (await fetch(`${p.url}/metrics`)).text()).toMatch(
      /cellule_proxy_broken_streams_total\{upstream="[^"]+"\} 1/,
    )
  })

  test("a client that hangs up mid-stream releases the pool's stream and is not the pool's failure", async () => {
    let cancelled!: () => void
    const poolSawCancel = new Promise<void>((r) => (cancelled = r))
    const sse = upstream("sse", () => {
      return new Response(
        new ReadableStream({
          start(c) {
            c.enqueue(new TextEncoder().encode("data: one\n\n"))
          },
          cancel() {
            cancelled()
          },
        }),
        { headers: { "content-type": "text/event-stream" } },
      )
    })
    const p = await proxyFor([sse.url])
    const ac = new AbortController()
    const res = await fetch(`${p.url}/v1/chat/completions`, { method: "POST", body: "{}", signal: ac.signal })
    await res.body!.getReader().read()
    ac.abort()
    await poolSawCancel
    await Bun.sleep(50)
    const metrics = await (await fetch(`${p.url}/metrics`)).text()
    expect(metrics).not.toContain("cellule_proxy_broken_streams_total{")
    expect(metrics).not.toContain("cellule_proxy_upstream_failures_total{")
    expect(metrics).toContain("cellule_proxy_in_flight 0")
  })

  test("hop-by-hop headers stop at the proxy in both directions", async () => {
    const up = upstream(
      "h",
      (req) =>
        new Response(JSON.stringify({ hop: req.headers.get("x-hop"), ka: req.headers.get("keep-alive") }), {
          headers: { connection: "x-drop", "x-drop": "1", "x-keep": "1", "content-type": "application/json" },
        }),
    )
    const p = await proxyFor([up.url])
    const res = await fetch(`${p.url}/x`, {
      headers: { connection: "x-hop", "x-hop": "secret", "keep-alive": "timeout=1" },
    })
    expect(await res.json()).toEqual({ hop: null, ka: null })
    expect(res.headers.get("x-drop")).toBeNull()
    expect(res.headers.get("x-keep")).toBe("1")
  })

  test("a body over the cap gets 413 request_too_large", async () => {
    const p = await proxyFor([echo("e").url], { CELLULE_PROXY_MAX_BODY: "2048" })
    const res = await fetch(`${p.url}/v1/embeddings`, { method: "POST", body: "x".repeat(4096) })
    expect(res.status).toBe(413)
    expect((await res.json()).error).toBe("request_too_large")
  })

  test("admin paths stay on one pool per client while the API is balanced", async () => {
    const a = echo("a")
    const b = echo("b")
    const c = echo("c")
    const p = await proxyFor([a.url, b.url, c.url])
    const admin = new Set<string>()
    const api = new Set<string>()
    for (let i = 0; i < 9; i++) {
      admin.add((await (await fetch(`${p.url}/v1/admin/workers`)).json()).pool)
      api.add((await (await fetch(`${p.url}/v1/models`)).json()).pool)
    }
    expect(admin.size).toBe(1)
    expect(api.size).toBe(3)
  })

  test("WebSocket upgrades pass through both ways; a pool's refusal is relayed with its status", async () => {
    const ws = upstream(
      "ws",
      (req, srv) => {
        if (req.headers.get("authorization") !== "Bearer good")
          return Response.json({ error: "worker_token_invalid" }, { status: 401 })
        return srv.upgrade(req, { data: {} }) ? undefined : new Response("no", { status: 400 })
      },
      { message: (s, m) => void s.send(`echo:${m}`) },
    )
    const p = await proxyFor([await deadUrl(), ws.url])
    const wsUrl = p.url.replace("http", "ws") + "/ws"
    const sock = new WebSocket(wsUrl, { headers: { authorization: "Bearer good" } } as never)
    const got = await new Promise<string>((resolve, reject) => {
      sock.onopen = () => sock.send("hello")
      sock.onmessage = (e) => resolve(String(e.data))
      sock.onerror = () => reject(new Error("ws error"))
    })
    expect(got).toBe("echo:hello")
    const closed = new Promise<number>((r) => (sock.onclose = (e) => r(e.code)))
    sock.close(1000)
    expect(await closed).toBe(1000)
    const probe = await fetch(`${p.url}/ws`, {
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        authorization: "Bearer bad",
      },
    })
    expect(probe.status).toBe(401)
    expect((await probe.json()).error).toBe("worker_token_invalid")
  })

  test.skipIf(!Bun.which("openssl"))(
    "with a certificate the proxy serves HTTPS and tells the pools X-Forwarded-Proto: https",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "cellule-proxy-tls-"))
      stops.push(() => rmSync(dir, { recursive: true, force: true }))
      const gen = Bun.spawnSync(
        [
          "openssl",
          "req",
          "-x509",
          "-newkey",
          "ec",
          "-pkeyopt",
          "ec_paramgen_curve:prime256v1",
          "-nodes",
          "-days",
          "1",
          "-subj",
          "/CN=localhost",
          "-keyout",
          join(dir, "key.pem"),
          "-out",
          join(dir, "cert.pem"),
        ],
        { stderr: "pipe" },
      )
      expect(gen.exitCode).toBe(0)
      const p = await proxyFor([echo("e").url], {
        CELLULE_PROXY_TLS_CERT: join(dir, "cert.pem"),
        CELLULE_PROXY_TLS_KEY: join(dir, "key.pem"),
      })
      expect(p.url).toStartWith("https://")
      const res = await fetch(`${p.url}/v1/models`, { tls: { rejectUnauthorized: false } })
      expect((await res.json()).proto).toBe("https")
    },
  )

  test("the read timeout bounds a pool's silence, not the length of a stream that keeps talking", async () => {
    const silent = upstream("silent", async () => {
      await Bun.sleep(2500)
      return new Response("late")
    })
    const talking = upstream("talking", () => {
      const enc = new TextEncoder()
      return new Response(
        new ReadableStream({
          async start(c) {
            for (let i = 0; i < 5; i++) {
              c.enqueue(enc.encode(": keep-alive\n\n"))
              await Bun.sleep(500)
            }
            c.enqueue(enc.encode("data: [DONE]\n\n"))
            c.close()
          },
        }),
        { headers: { "content-type": "text/event-stream" } },
      )
    })
    const env = { CELLULE_PROXY_READ_TIMEOUT_MS: "1000" }
    const quiet = await proxyFor([silent.url], env)
    const t0 = performance.now()
    const res = await fetch(`${quiet.url}/v1/chat/completions`, { method: "POST", body: "{}" })
    expect(res.status).toBe(502)
    expect(performance.now() - t0).toBeLessThan(2400)
    const chatty = await proxyFor([talking.url], env)
    expect(await (await fetch(`${chatty.url}/v1/chat/completions`, { method: "POST", body: "{}" })).text()).toEndWith(
      "data: [DONE]\n\n",
    )
  })

  test("stop waits for a request in flight", async () => {
    const slow = upstream("slow", async () => {
      await Bun.sleep(300)
      return new Response("done")
    })
    const p = await proxyFor([slow.url])
    const pending = fetch(`${p.url}/x`).then((r) => r.text())
    await Bun.sleep(50)
    await p.stop()
    expect(await pending).toBe("done")
  })
})
