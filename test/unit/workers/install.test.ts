// The installers and service definitions the pool serves: shellcheck-clean scripts, a systemd unit
// that `systemd-analyze verify` accepts, a well-formed launchd plist and Scheduled Task, URL safety.
import { afterAll, describe, expect, test } from "bun:test"
import { chmodSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { cleanupAll, tempDir } from "../../support/proc.ts"
import {
  installScript,
  snippetsFor,
  systemdUnitFor,
  launchdPlistFor,
  scheduledTaskFor,
} from "../../../core/workers/install.ts"

afterAll(cleanupAll)
const POOL = "http://pool.corp.local:8080"

describe("installers", () => {
  test.each([["worker.sh"], ["worker-uninstall.sh"]] as const)("%s passes shellcheck", (file) => {
    const dir = tempDir()
    const path = join(dir, file)
    writeFileSync(path, installScript(file, POOL))
    const r = Bun.spawnSync(["shellcheck", "-s", "bash", path], { stdout: "pipe", stderr: "pipe" })
    expect(r.stdout.toString() + r.stderr.toString()).toBe("")
    expect(r.exitCode).toBe(0)
  })

  test("the generated systemd unit passes systemd-analyze verify", () => {
    const dir = tempDir()
    // verify checks that ExecStart= exists: point it at a stand-in binary; the rest is the served unit verbatim.
    const unit = systemdUnitFor(POOL)
    expect(unit).toContain("Restart=on-failure")
    expect(unit).toContain("User=cellule")
    const bin = join(dir, "cellule")
    writeFileSync(bin, "#!/bin/sh\n")
    chmodSync(bin, 0o755)
    const path = join(dir, "cellule-worker.service")
    writeFileSync(path, unit.replace("ExecStart=/opt/cellule/bin/cellule", `ExecStart=${bin}`))
    const r = Bun.spawnSync(["systemd-analyze", "verify", "--man=no", path], {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, SYSTEMD_LOG_LEVEL: "warning" },
    })
    // Any warning (unknown key, bad value, missing binary) is printed: the unit must produce none.
    expect(r.stdout.toString() + r.stderr.toString()).toBe("")
    expect(r.exitCode).toBe(0)
  })

  test("the launchd plist and the Scheduled Task are well-formed XML with the required keys", () => {
    const dir = tempDir()
    for (const [name, text] of [
      ["p.plist", launchdPlistFor(POOL)],
      ["t.xml", scheduledTaskFor(POOL).replace('encoding="UTF-16"', 'encoding="UTF-8"')],
    ]) {
      writeFileSync(join(dir, name), text)
      const r = Bun.spawnSync(
        ["python3", "-c", "import sys,xml.dom.minidom as m; m.parse(sys.argv[1])", join(dir, name)],
        { stderr: "pipe" },
      )
      expect(r.stderr.toString()).toBe("")
    }
    expect(launchdPlistFor(POOL)).toContain("<key>KeepAlive</key>")
    expect(scheduledTaskFor(POOL)).toContain("<UserId>S-1-5-18</UserId>")
    expect(scheduledTaskFor(POOL)).toContain("<BootTrigger>")
  })

  // No PowerShell on the Debian image: a reported skip (the totals line counts it), never a silent pass.
  const pwsh = Bun.which("pwsh")
  test.skipIf(!pwsh)("PowerShell scripts parse (needs pwsh)", () => {
    const dir = tempDir()
    for (const f of ["worker.ps1", "worker-uninstall.ps1"] as const) {
      const path = join(dir, f)
      writeFileSync(path, installScript(f, POOL))
      const r = Bun.spawnSync([
        pwsh!,
        "-NoProfile",
        "-Command",
        `$e=$null;[void][System.Management.Automation.Language.Parser]::ParseFile('${path}',[ref]$null,[ref]$e);if($e){$e;exit 1}`,
      ])
      expect(r.exitCode).toBe(0)
    }
  })

  test("snippets carry the code and the service for each OS", () => {
    const s = snippetsFor(POOL, "linux", "cpu", "cwp_abc")
    expect(s.one_liner).toBe(`curl -fsSL ${POOL}/v1/install/worker.sh | sudo bash -s -- --code cwp_abc`)
    expect(s.service.path).toBe("/etc/systemd/system/cellule-worker.service")
    expect(JSON.parse(s.config_json)).toMatchObject({ pool: POOL, provisioning_code: "cwp_abc" })
    expect(snippetsFor(POOL, "macos", "gpu", "cwp_abc").service.path).toBe(
      "/Library/LaunchDaemons/com.cellule.worker.plist",
    )
    expect(snippetsFor(POOL, "windows", "cpu", "cwp_abc").one_liner).toContain("worker.ps1")
  })

  test.each([["http://x;rm -rf /"], ["http://a'b"], ["file:///etc"]])(
    "an unsafe pool URL %p is never templated",
    (url) => {
      expect(() => installScript("worker.sh", url)).toThrow()
    },
  )
})
