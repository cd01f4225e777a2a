// bench/_fleet-sim — one simulator process of bench/fleet: opens `count` WebSocket connections to a
// pool's /ws speaking the real worker protocol (hello, heartbeats at the interval the welcome gives,
// one model advertised) and answers each job with synthetic tokens: `tps` tokens/s per job (0: as
// fast as the socket takes them), `per` tokens per job. Prints "ready N" once every worker is welcomed,
// then "stats {...}" on each "stats" line read from stdin.
//   bun bench/_fleet-sim.ts URL TOKEN PREFIX COUNT SLOTS TPS PER MODEL
import { PROTOCOL_VERSION, type PoolMessage, type WorkerMessage } from "../core/workers/protocol.ts"

const [url, token, prefix, countS, slotsS, tpsS, perS, model = "fleet"] = process.argv.slice(2)
const count = Number(countS)
const slots = Number(slotsS)
const tps = Number(tpsS)
const per = Number(perS)
let welcomed = 0
let heartbeats = 0
let tokens = 0
let jobs = 0
let closed = 0
const closeCodes: Record<string, number> = {}

function runJob(ws: WebSocket, id: string, stop: Set<string>) {
  jobs++
  let sent = 0
  const finish = (reason: "length" | "abort") => {
    stop.delete(id)
    if (ws.readyState === 1)
      ws.send(
        JSON.stringify({
          type: "done",
          job_id: id,
          finish_reason: reason,
          usage: { prompt_tokens: 8, completion_tokens: sent },
        } satisfies WorkerMessage),
      )
  }
  const frame = (i: number) => {
    tokens++
    return `{"type":"token","job_id":"${id}","text":"t${i % 10} ","ids":[${i}]}`
  }
  if (tps <= 0) {
    // As fast as possible, yielding between bursts so other jobs and heartbeats interleave.
    const burst = () => {
      if (!stop.has(id) || ws.readyState !== 1) return finish("abort")
      for (let k = 0; k < 16 && sent < per; k++) ws.send(frame(sent++))
      if (sent >= per) return finish("length")
      setImmediate(burst)
    }
    ws.send(frame(sent++))
    return burst()
  }
  ws.send(frame(sent++))
  const t = setInterval(() => {
    if (!stop.has(id) || ws.readyState !== 1) {
      clearInterval(t)
      return finish("abort")
    }
    ws.send(frame(sent++))
    if (sent >= per) {
      clearInterval(t)
      finish("length")
    }
  }, 1000 / tps)
}

function connect(i: number) {
  const ws = new WebSocket(url.replace(/^http/, "ws") + "/ws", {
    headers: { authorization: `Bearer ${token}` },
  } as unknown as string[])
  const live = new Set<string>()
  let hb: ReturnType<typeof setInterval> | undefined
  ws.onopen = () => {
    ws.send(
      JSON.stringify({
        type: "hello",
        v: PROTOCOL_VERSION,
        worker_id: `${prefix}-${String(i).padStart(6, "0")}`,
        name: `sim-${prefix}-${i}`,
        version: "0.0.0-sim",
        hardware: { os: "linux", arch: "x64", cpu_threads: 8, ram_mb: 16384 },
        models: [{ id: model, kind: "llm", slots, context: 4096 }],
        activity: "available",
      } satisfies WorkerMessage),
    )
  }
  ws.onmessage = (ev) => {
    const m = JSON.parse(String(ev.data)) as PoolMessage
    if (m.type === "welcome") {
      welcomed++
      if (welcomed === count) console.log(`ready ${count}`)
      // Real agents start at a random point of the interval; so do we (no synchronized storm).
      setTimeout(() => {
        hb = setInterval(() => {
          heartbeats++
          ws.send(JSON.stringify({ type: "heartbeat", activity: "available", busy: {} } satisfies WorkerMessage))
        }, m.heartbeat_ms)
      }, Math.random() * m.heartbeat_ms)
    } else if (m.type === "job") {
      live.add(m.job_id)
      runJob(ws, m.job_id, live)
    } else if (m.type === "cancel") live.delete(m.job_id)
  }
  ws.onclose = (ev) => {
    clearInterval(hb)
    closed++
    closeCodes[ev.code] = (closeCodes[ev.code] ?? 0) + 1
  }
}

// Open gradually: a burst of thousands of handshakes at once measures the kernel's accept backlog.
for (let i = 0; i < count; i++) {
  connect(i)
  if (i % 100 === 99) await Bun.sleep(20)
}

for await (const line of console) {
  if (line.trim() === "stats")
    console.log(`stats ${JSON.stringify({ welcomed, heartbeats, tokens, jobs, closed, closeCodes })}`)
}
