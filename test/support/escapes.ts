// Test support: what a piece of code lets escape. Bun ends a real process on an unhandled rejection or an
// uncaught exception, so a test of "the pool survives X" asserts that nothing escaped while X happened.

/** Start collecting unhandled rejections and uncaught exceptions; `stop()` unsubscribes. */
export function watchEscapes(): { escaped: unknown[]; stop(): void } {
  const escaped: unknown[] = []
  const onEscape = (e: unknown) => void escaped.push(e)
  process.on("unhandledRejection", onEscape)
  process.on("uncaughtException", onEscape)
  return {
    escaped,
    stop() {
      process.off("unhandledRejection", onEscape)
      process.off("uncaughtException", onEscape)
    },
  }
}
