// core/workers/install — renders the worker installers, uninstallers and service definitions from
// the templates in install/worker/ (embedded in the binary), with this pool's URL filled in.
import installSh from "../../install/worker/install.sh" with { type: "text" }
import uninstallSh from "../../install/worker/uninstall.sh" with { type: "text" }
import installPs1 from "../../install/worker/install.ps1" with { type: "text" }
import uninstallPs1 from "../../install/worker/uninstall.ps1" with { type: "text" }
import systemdUnit from "../../install/worker/cellule-worker.service" with { type: "text" }
import launchdPlist from "../../install/worker/com.cellule.worker.plist" with { type: "text" }
import taskXmlText from "../../install/worker/cellule-worker.task.xml" with { type: "text" }
// Bun types *.xml imports as a DOM Document; with type "text" it is the file's text.
const taskXml = taskXmlText as unknown as string
import type { WorkerHardware, WorkerOs } from "./provisioning.ts"

export type InstallFile = "worker.sh" | "worker.ps1" | "worker-uninstall.sh" | "worker-uninstall.ps1"

function fill(template: string, poolUrl: string) {
  // A URL goes into shell and PowerShell literals: refuse anything that could break out of them.
  if (!/^https?:\/\/[A-Za-z0-9.:[\]_-]+(\/[A-Za-z0-9._~/-]*)?$/.test(poolUrl))
    throw new Error(`pool URL ${poolUrl} is not safe to template`)
  return template.replaceAll("__POOL_URL__", poolUrl)
}

export const systemdUnitFor = (poolUrl: string) => fill(systemdUnit, poolUrl).trimEnd()
export const launchdPlistFor = (poolUrl: string) => fill(launchdPlist, poolUrl).trimEnd()
export const scheduledTaskFor = (poolUrl: string) => fill(taskXml, poolUrl).trimEnd()

export function installScript(file: InstallFile, poolUrl: string): string {
  switch (file) {
    case "worker.sh":
      return fill(installSh, poolUrl)
        .replace("__SYSTEMD_UNIT__", systemdUnitFor(poolUrl))
        .replace("__LAUNCHD_PLIST__", launchdPlistFor(poolUrl))
    case "worker-uninstall.sh":
      return fill(uninstallSh, poolUrl)
    case "worker.ps1":
      return fill(installPs1, poolUrl).replace("__TASK_XML__", scheduledTaskFor(poolUrl))
    case "worker-uninstall.ps1":
      return fill(uninstallPs1, poolUrl)
  }
}

export interface Snippets {
  one_liner: string
  config_json: string
  install: { name: string; content: string }
  start: { name: string; content: string }
  service: { name: string; path: string; content: string }
  uninstall: string
}

/** The ready-to-paste snippets of the dashboard's "add a worker" (admin guide §2.2). */
export function snippetsFor(poolUrl: string, os: WorkerOs, hardware: WorkerHardware, code: string): Snippets {
  const config = JSON.stringify({ pool: poolUrl, provisioning_code: code, hardware }, null, 2)
  if (os === "windows") {
    const oneLiner = `& ([scriptblock]::Create((iwr -UseBasicParsing ${poolUrl}/v1/install/worker.ps1).Content)) -Code ${code}`
    return {
      one_liner: oneLiner,
      config_json: config,
      install: { name: "install.ps1", content: oneLiner },
      start: { name: "start.ps1", content: `Start-ScheduledTask -TaskName cellule-worker` },
      service: {
        name: "cellule-worker (Scheduled Task)",
        path: "\\cellule-worker",
        content: scheduledTaskFor(poolUrl),
      },
      uninstall: `& ([scriptblock]::Create((iwr -UseBasicParsing ${poolUrl}/v1/install/worker-uninstall.ps1).Content))`,
    }
  }
  const oneLiner = `curl -fsSL ${poolUrl}/v1/install/worker.sh | sudo bash -s -- --code ${code}`
  const mac = os === "macos"
  return {
    one_liner: oneLiner,
    config_json: config,
    install: { name: "install.sh", content: `#!/bin/sh\nset -e\n${oneLiner}\n` },
    start: {
      name: "start.sh",
      content: mac
        ? "#!/bin/sh\nsudo launchctl kickstart -k system/com.cellule.worker\n"
        : "#!/bin/sh\nsudo systemctl enable --now cellule-worker\nsudo systemctl status --no-pager cellule-worker\n",
    },
    service: mac
      ? {
          name: "com.cellule.worker.plist",
          path: "/Library/LaunchDaemons/com.cellule.worker.plist",
          content: launchdPlistFor(poolUrl),
        }
      : {
          name: "cellule-worker.service",
          path: "/etc/systemd/system/cellule-worker.service",
          content: systemdUnitFor(poolUrl),
        },
    uninstall: `curl -fsSL ${poolUrl}/v1/install/worker-uninstall.sh | sudo bash`,
  }
}
