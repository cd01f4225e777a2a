// cellule pool — runs a pool: API, dashboard, worker WebSocket, embedded or external database.
import { defineCommand } from "citty"
import { cittyArgs, loadConfig } from "../core/config/index.ts"
import { setLogFormat, setLogLevel } from "../core/log.ts"
import { startPool } from "../core/pool/index.ts"
import { warnEnvironment, withListFlags } from "./_flags.ts"
import { untilSignal } from "./_signals.ts"

export default defineCommand({
  meta: { name: "pool", description: "Run a pool (API, dashboard, worker hub) on this machine" },
  args: cittyArgs("pool"),
  async run({ args, rawArgs }) {
    const config = loadConfig("pool", withListFlags("pool", args, rawArgs))
    setLogLevel(config.logLevel)
    setLogFormat(config.logFormat)
    warnEnvironment()
    const pool = await startPool(config)
    // One machine-readable line on stdout: scripts and tests wait for it.
    console.log(`cellule pool ready ${pool.url}`)
    // Booting compiled code the pool never runs again (config, migrations, the wizard's checks) and left
    // free pages in the allocator; once started, JSC drops all compiled code (recompiled on next call) and
    // returns free memory: idle RSS 175 → 166-168 MB (compiled binary, median 10-50 s), for ~10-17 ms
    // more on the first request after boot (bench/README.md, memory, issue 21).
    // Marked deprecated in Bun's types: called only where it still exists, so a newer Bun cannot make boot fail.
    ;(Bun as { shrink?: () => void }).shrink?.()
    await untilSignal()
    await pool.stop()
  },
})
