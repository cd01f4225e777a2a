// bench/_stub-pool — a stand-in upstream for bench/entry-stub: answers GET /v1/models with a fixed JSON
// body of a pool's size and GET /v1/status for the proxies' health checks, at once, with no work behind
// them, so what an entry adds is measured without a pool's own noise. `bun bench/_stub-pool.ts N` listens
// on N ports (the entries balance over them) and prints "ready URL URL …".
const models = JSON.stringify({
  object: "list",
  data: [
    {
      id: "tiny",
      object: "model",
      created: 0,
      owned_by: "cellule",
      cellule: { kind: "llm", workers: 1, slots: 2, busy: 0, queued: 0, context: 2048, pools: ["stub"] },
    },
  ],
})
const servers = Array.from({ length: Number(process.argv[2] ?? 1) }, () =>
  Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname
      if (path === "/v1/models") return new Response(models, { headers: { "content-type": "application/json" } })
      if (path === "/v1/status") return Response.json({ status: "ok" })
      return new Response("not found", { status: 404 })
    },
  }),
)
console.log(`ready ${servers.map((s) => `http://127.0.0.1:${s.port}`).join(" ")}`)
