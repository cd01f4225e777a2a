// Resolves on the first SIGTERM or SIGINT; a second one exits at once (the operator insists).
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    let got = false
    const on = (sig: string) => {
      if (got) process.exit(130)
      got = true
      resolve(sig)
    }
    process.on("SIGTERM", () => on("SIGTERM"))
    process.on("SIGINT", () => on("SIGINT"))
  })
}
