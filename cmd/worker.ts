// cellule worker — joins a pool and serves GGUF models (and embeddings) with llama.cpp.
import { defineCommand } from "citty"
import { cittyArgs, loadConfig } from "../core/config/index.ts"
import { ConfigError } from "../core/errors.ts"
import { setLogLevel } from "../core/log.ts"
import { WorkerAgent, parseModelSpec } from "../core/workers/agent.ts"
import { untilSignal } from "./_signals.ts"

/** citty keeps only the last of a repeated flag; --model may be given several times. */
function repeated(rawArgs: string[], flag: string): string[] {
  const out: string[] = []
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i]
    if (a === `--${flag}` && rawArgs[i + 1] !== undefined) out.push(rawArgs[++i])
    else if (a.startsWith(`--${flag}=`)) out.push(a.slice(flag.length + 3))
  }
  return out
}

export default defineCommand({
  meta: { name: "worker", description: "Join a pool and serve models on this machine" },
  args: cittyArgs("worker"),
  async run({ args, rawArgs }) {
    const config = loadConfig("worker", { ...args, model: repeated(rawArgs, "model") })
    setLogLevel(config.logLevel)
    if (!config.poolConnectUrl) throw new ConfigError("--pool (CELLULE_POOL) is required", "cellule worker --pool http://pool:8080 --token …")
    if (!config.token) throw new ConfigError("--token (CELLULE_TOKEN) is required")
    if (!config.models.length && !config.embedderPath) throw new ConfigError("nothing to serve: give --model FILE.gguf and/or --embedder DIR")
    const agent = new WorkerAgent({
      poolUrl: config.poolConnectUrl,
      token: config.token,
      dataDir: config.dataDir,
      models: config.models.map(parseModelSpec),
      embedderPath: config.embedderPath,
      threads: config.threads,
      slots: config.slots,
      contextSize: config.contextSize,
      gpu: config.gpu,
      heartbeatMs: config.heartbeatMs,
      shutdownGraceMs: config.shutdownGraceMs,
    })
    const signal = untilSignal()
    await agent.start()
    void agent.connected.then(() => console.log(`cellule worker ready ${config.poolConnectUrl}`))
    await signal
    await agent.stop()
  },
})
