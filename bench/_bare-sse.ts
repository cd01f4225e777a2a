// bench/_bare-sse — the floor of bench/ttft: a bare Bun server that answers POST /v1/chat/completions
// with the same SSE shape a pool sends (role chunk, one content chunk, [DONE]) at once, after parsing
// the JSON body. What a pool adds to the first token is its TTFT minus this one's. Prints "ready URL".
const enc = new TextEncoder()
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    const body = (await req.json()) as { model: string }
    const base = `{"id":"chatcmpl-bare","object":"chat.completion.chunk","created":0,"model":"${body.model}"`
    return new Response(
      new ReadableStream({
        type: "direct",
        async pull(c: { write(b: Uint8Array): void; flush(): unknown; close(): void }) {
          c.write(
            enc.encode(
              `data: ${base},"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n`,
            ),
          )
          await c.flush()
          c.write(
            enc.encode(`data: ${base},"choices":[{"index":0,"delta":{"content":"t0 "},"finish_reason":null}]}\n\n`),
          )
          await c.flush()
          c.write(
            enc.encode(`data: ${base},"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n`),
          )
          c.close()
        },
      } as unknown as UnderlyingDefaultSource),
      { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } },
    )
  },
})
console.log(`ready http://127.0.0.1:${server.port}`)
