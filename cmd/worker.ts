// cellule worker — joins a pool and serves GGUF models (and embeddings) with llama.cpp.
import { serveMetrics } from "../core/metrics/worker.ts"
import { defineCommand } from "citty"
import { cittyArgs, loadConfig } from "../core/config/index.ts"
import { CelluleError, ConfigError } from "../core/errors.ts"
import { setLogFormat, setLogLevel } from "../core/log.ts"
import { WorkerAgent, parseModelSpec } from "../core/workers/agent.ts"
import { warnEnvironment, withListFlags } from "./_flags.ts"
import { untilSignal } from "./_signals.ts"
import {
  type AutoPlan,
  checkUpgradeHealth,
  commitUpgrade,
  prepareAuto,
  readWorkerConfigFile,
  watchAssignment,
} from "../core/workers/auto.ts"
import { fileProbe, procStatProbe } from "../core/workers/activity.ts"
import { inputIdleProbe } from "../core/workers/input-idle.ts"
import { stageUpgrade } from "../core/workers/upgrade.ts"
import { finishSelfUpdate } from "../core/workers/upgrade-trial.ts"
import { runningCompiled } from "../core/workers/binaries.ts"
import { VERSION } from "../core/version.ts"

/** A file probe always applies; measuring the CPU is for desktops (--auto) unless asked. */
function watchActivity(config: { activityFile?: string; activityWatch: string; auto: boolean }): boolean {
  if (config.activityWatch === "off") return false
  return !!config.activityFile || config.activityWatch === "cpu" || config.auto
}

export default defineCommand({
  meta: { name: "worker", description: "Join a pool and serve models on this machine" },
  args: cittyArgs("worker"),
  async run({ args, rawArgs }) {
    const flags = withListFlags("worker", args, rawArgs)
    const first = loadConfig("worker", flags)
    // The installer's config.json sits under flags and environment: flag > env > file > default.
    const config = first.workerConfigFile
      ? loadConfig("worker", flags, undefined, readWorkerConfigFile(first.workerConfigFile))
      : first
    setLogLevel(config.logLevel)
    setLogFormat(config.logFormat)
    warnEnvironment()
    const upgrade = checkUpgradeHealth(config.dataDir)
    if (upgrade.rolledBack)
      throw new CelluleError(
        "upgrade_rolled_back",
        `v${upgrade.to} never joined its pool; the previous binary (v${upgrade.from}) is back`,
        500,
        "the service manager restarts it",
      )
    if (!config.poolConnectUrl)
      throw new ConfigError("--pool (CELLULE_POOL) is required", "cellule worker --pool http://pool:8080 --token …")
    if (!config.token) throw new ConfigError("--token (CELLULE_TOKEN) is required")
    if (!config.auto && !config.models.length && !config.embedderPath)
      throw new ConfigError("nothing to serve: give --model FILE.gguf and/or --embedder DIR, or --auto")
    const signal = untilSignal()
    let plan = config.auto ? await prepareAuto(config) : undefined
    const exePath = process.execPath
    const allowUnsigned = config.allowUnsignedUpdates
    let staged: string | undefined
    const [poolUrl, token] = [config.poolConnectUrl, config.token]
    const makeAgent = (plan: AutoPlan | undefined) =>
      new WorkerAgent({
        poolUrl,
        token,
        dataDir: config.dataDir,
        models: [...(plan?.models ?? []), ...config.models.map(parseModelSpec)],
        embedderPath: config.embedderPath,
        threads: config.threads,
        slots: config.slots,
        contextSize: plan?.contextSize ?? config.contextSize,
        gpu: config.gpu,
        heartbeatMs: config.heartbeatMs,
        shutdownGraceMs: config.shutdownGraceMs,
        // Unset ("auto" without --auto): the agent classifies the machine it runs on.
        hardwareClass: plan?.hardwareClass ?? (config.hardwareClass === "auto" ? undefined : config.hardwareClass),
        name: config.workerName,
        // Flags and environment still win over the file: only a re-enrolment (new worker.json) changes it.
        reloadToken: first.workerConfigFile
          ? () => loadConfig("worker", flags, undefined, readWorkerConfigFile(first.workerConfigFile!)).token
          : undefined,
        peerPoolUrls: config.peerPoolUrls,
        failover: {
          mode: config.failoverMode,
          failingMs: config.failoverFailingMs,
          downMs: config.failoverDownMs,
          retryMs: config.failoverRetryMs,
          stickyMs: config.failoverStickyMs,
          failsafeMs: config.failoverFailsafeMs,
        },
        activity: !watchActivity(config)
          ? undefined
          : {
              probe: config.activityFile ? fileProbe(config.activityFile) : procStatProbe(),
              throttledPct: config.activityThrottledPct,
              busyPct: config.activityBusyPct,
              intervalMs: config.activityIntervalMs,
              inputIdleMs: inputIdleProbe(process.platform, config.activityInputFile),
              inputActiveMs: config.activityInputActiveMs,
            },
        // Only a compiled binary can replace itself; from sources there is nothing to swap.
        onSelfUpdate: runningCompiled()
          ? async (offer, poolUrl) => {
              const token = config.token!
              await stageUpgrade(offer, {
                poolUrl,
                token,
                exePath,
                poolKey: config.poolKey,
                peerKeys: agent.releaseKeys.all,
                allowUnsigned,
              })
              staged = offer.version
            }
          : undefined,
      })
    let agent = makeAgent(plan)
    await agent.start()
    const metrics = config.workerMetricsListen
      ? serveMetrics(config.workerMetricsListen, () => agent.metricsText())
      : undefined
    void agent.connected.then(() => {
      commitUpgrade(config.dataDir)
      console.log(`cellule worker ready ${config.poolConnectUrl} (v${VERSION})`)
    })
    let why: string
    for (;;) {
      // --auto: a new assignment for this class is downloaded, then this agent drains and a new one
      // joins with the new model (issue 18: no restart).
      const watch = new AbortController()
      const never = new Promise<never>(() => {})
      const changed = plan ? watchAssignment(config, plan, watch.signal).then((p) => (p ? { plan: p } : never)) : never
      const r = await Promise.race([
        signal.then((s) => ({ why: s })),
        agent.restart.then((r) => ({ why: `restart: ${r}` })),
        changed,
      ])
      watch.abort()
      if ("why" in r) {
        why = r.why
        break
      }
      await agent.stop()
      plan = r.plan
      agent = makeAgent(plan)
      await agent.start()
      void agent.connected.then(() => console.log(`cellule worker reloaded ${plan?.models[0]?.id} (new assignment)`))
    }
    await agent.stop()
    void metrics?.stop(true)
    // The old binary tries the staged one; a non-zero exit makes systemd (Restart=on-failure), launchd
    // (KeepAlive) and the Scheduled Task start whichever binary is then in place.
    if (why.startsWith("restart: ") && staged)
      await finishSelfUpdate({
        exePath,
        dataDir: config.dataDir,
        version: staged,
        args: ["worker", ...rawArgs],
        timeoutMs: config.upgradeHealthTimeoutMs,
        graceMs: config.shutdownGraceMs,
      })
  },
})
