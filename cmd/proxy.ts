// cellule proxy — the unified cluster entry in front of the pools (admin guide §3).
import { defineCommand } from "citty"
import { cittyArgs, loadConfig } from "../core/config/index.ts"
import { setLogFormat, setLogLevel } from "../core/log.ts"
import { startProxy } from "../core/proxy/index.ts"
import { warnEnvironment, withListFlags } from "./_flags.ts"
import { untilSignal } from "./_signals.ts"

export default defineCommand({
  meta: { name: "proxy", description: "Run the unified entry in front of the pools (least_conn, failover, WebSocket)" },
  args: cittyArgs("proxy"),
  async run({ args, rawArgs }) {
    const config = loadConfig("proxy", withListFlags("proxy", args, rawArgs))
    setLogLevel(config.logLevel)
    setLogFormat(config.logFormat)
    warnEnvironment()
    const proxy = await startProxy(config)
    process.on("SIGHUP", () => proxy.reload())
    // One machine-readable line on stdout: scripts and tests wait for it.
    console.log(`cellule proxy ready ${proxy.url}`)
    await untilSignal()
    await proxy.stop()
  },
})
