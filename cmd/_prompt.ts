// cmd/_prompt — secrets from the operator: on a terminal, each prompt is answered with echo off (raw
// mode, nothing printed but the newline); from a pipe, one line per prompt (automation).
export async function readSecretLines(prompts: string[]): Promise<string[]> {
  if (process.stdin.isTTY) {
    const out: string[] = []
    for (const p of prompts) out.push(await readHidden(p))
    return out
  }
  const text = await new Response(Bun.stdin.stream()).text()
  const lines = text.split(/\r?\n/)
  for (const p of prompts) process.stderr.write(p + "\n")
  return prompts.map((_, i) => lines[i] ?? "")
}

function readHidden(prompt: string): Promise<string> {
  process.stderr.write(prompt)
  const stdin = process.stdin
  stdin.setRawMode(true)
  stdin.resume()
  return new Promise((resolve, reject) => {
    let value = ""
    const done = (err?: Error) => {
      stdin.setRawMode(false)
      stdin.pause()
      stdin.off("data", onData)
      process.stderr.write("\n")
      err ? reject(err) : resolve(value)
    }
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return done()
        if (ch === "\u0003") return done(new Error("interrupted"))
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1)
        else if (ch >= " ") value += ch
      }
    }
    stdin.on("data", onData)
  })
}
