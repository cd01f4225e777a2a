// bench/_fleet-lib — what bench/fleet's one-pool and federated modes share: /proc readings of a pool
// process (CPU ticks, RSS), the simulator processes
// (bench/_fleet-sim.ts) and the looping streamed clients.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { BUN, ROOT, onCleanup } from "../test/support/proc.ts"

export const HZ = 100

/** utime + stime of one process, in clock ticks (0 once it is gone). */
export function cpuTicks(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8")
    const rest = f.slice(f.lastIndexOf(")") + 2).split(" ")
    return Number(rest[11]) + Number(rest[12])
  } catch {
    return 0
  }
}

export function rssMb(pid: number): { rss: number; hwm: number } {
  try {
    const s = readFileSync(`/proc/${pid}/status`, "utf8")
    const kb = (k: string) => Number(s.match(new RegExp(`${k}:\\s+(\\d+)`))?.[1] ?? 0)
    return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 }
  } catch {
    return { rss: 0, hwm: 0 }
  }
}

/** The soft limit on open files of this process (each simulated worker holds one socket in its simulator). */
export function openFilesLimit(): number {
  const m = readFileSync("/proc/self/limits", "utf8").match(/Max open files\s+(\d+|unlimited)/)
  return !m || m[1] === "unlimited" ? Number.POSITIVE_INFINITY : Number(m[1])
}

export type Sim = { proc: ReturnType<typeof Bun.spawn>; lines: string[]; wait: (re: RegExp) => Promise<string> }

/** One simulator process: `count` workers on `url`, each with `slots` slots of `model`. */
export function sim(
  url: string,
  token: string,
  prefix: string,
  count: number,
  slots: number,
  simTps: number,
  simPer: number,
  model: string,
): Sim {
  const proc = Bun.spawn(
    [
      BUN,
      join(ROOT, "bench/_fleet-sim.ts"),
      url,
      token,
      prefix,
      String(count),
      String(slots),
      String(simTps),
      String(simPer),
      model,
    ],
    { stdin: "pipe", stdout: "pipe", stderr: "inherit" },
  )
  onCleanup(() => void proc.kill())
  const lines: string[] = []
  const waiters: { re: RegExp; res: (l: string) => void }[] = []
  void (async () => {
    let buf = ""
    for await (const c of proc.stdout as unknown as AsyncIterable<Uint8Array>) {
      buf += new TextDecoder().decode(c)
      let i = buf.indexOf("\n")
      while (i >= 0) {
        const l = buf.slice(0, i)
        buf = buf.slice(i + 1)
        lines.push(l)
        for (const w of [...waiters]) if (w.re.test(l)) waiters.splice(waiters.indexOf(w), 1) && w.res(l)
        i = buf.indexOf("\n")
      }
    }
  })()
  return {
    proc,
    lines,
    wait: (re) =>
      new Promise((res) => {
        const l = lines.find((x) => re.test(x))
        if (l) return res(l)
        waiters.push({ re, res })
      }),
  }
}

export async function simStats(s: Sim) {
  ;(s.proc.stdin as import("bun").FileSink).write("stats\n")
  ;(s.proc.stdin as import("bun").FileSink).flush()
  const l = await s.wait(/^stats /)
  s.lines.splice(s.lines.indexOf(l), 1)
  return JSON.parse(l.slice(6)) as {
    welcomed: number
    heartbeats: number
    tokens: number
    closed: number
    closeCodes: Record<string, number>
  }
}

/** The in-pool stamps CELLULE_TTFT_TRACE sends back as an SSE comment (core/metrics/ttft-trace.ts), µs. */
export type Stamps = Partial<Record<"recv" | "handler" | "admitted" | "submit" | "submitted" | "sse", number>>

/**
 * `n` concurrent clients each looping streamed requests for `seconds` against `urlOf(i)` (client i);
 * TTFT and delivered tokens, and the pool's own stamps when the pool traces them.
 */
export async function clients(
  urlOf: (client: number) => string,
  n: number,
  seconds: number,
  model: string,
  maxTokens: number,
) {
  const ttft: number[] = []
  const stamps: Stamps[] = []
  let tokens = 0
  let errors = 0
  const firstErrors: string[] = []
  const end = performance.now() + seconds * 1000
  const body = JSON.stringify({
    model,
    stream: true,
    max_tokens: maxTokens,
    messages: [{ role: "user", content: "hi" }],
  })
  const one = async (i: number) => {
    const url = `${urlOf(i)}/v1/chat/completions`
    while (performance.now() < end) {
      const t0 = performance.now()
      try {
        const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body })
        if (!r.ok) {
          errors++
          if (firstErrors.length < 3) firstErrors.push(`${r.status} ${(await r.text()).slice(0, 120)}`)
          await Bun.sleep(200)
          continue
        }
        let first = true
        let tail = ""
        for await (const c of r.body as unknown as AsyncIterable<Uint8Array>) {
          const s = Buffer.from(c).toString()
          let k = 0
          let at = s.indexOf('"content":"t')
          while (at >= 0) {
            k++
            at = s.indexOf('"content":"t', at + 10)
          }
          if (k && first) {
            ttft.push(performance.now() - t0)
            first = false
          }
          if (performance.now() < end) tokens += k
          // The trace comment comes last, just before [DONE]; keep the end of the stream only.
          tail = (tail + s).slice(-2000)
        }
        const m = tail.match(/: ttft-trace (\{[^\n]*\})/)
        if (m) stamps.push(JSON.parse(m[1]) as Stamps)
      } catch (e) {
        errors++
        if (firstErrors.length < 3) firstErrors.push((e as Error).message)
      }
    }
  }
  const t0 = performance.now()
  await Promise.all(Array.from({ length: n }, (_, i) => one(i)))
  return { ttft, stamps, tokensPerS: tokens / seconds, errors, firstErrors, wallS: (performance.now() - t0) / 1000 }
}

export const pct = (xs: number[], p: number) => {
  if (!xs.length) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}
export const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "—")
