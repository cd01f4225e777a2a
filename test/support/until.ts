// Test support: wait for a condition by polling, with a deadline and the last error in the message.

/** Poll until `check` returns a truthy value; returns it with the elapsed milliseconds. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
  everyMs = 25,
): Promise<{ value: T; ms: number }> {
  const t0 = performance.now()
  let last: unknown
  for (;;) {
    try {
      const v = await check()
      if (v) return { value: v as T, ms: performance.now() - t0 }
    } catch (e) {
      last = e
    }
    if (performance.now() - t0 > timeoutMs)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`,
      )
    await Bun.sleep(everyMs)
  }
}
