// core/vip/keepalived — the pool VIP of admin guide §4.7: the keepalived (VRRP) configuration for one pool
// and a supervisor that runs keepalived in the foreground and restarts it if it dies. The VIP follows the
// healthy pool with the highest priority: a track script polls the local pool's /v1/status every second,
// so a dead pool gives the VIP away within ~1 s (one failed check: FAULT sends priority 0); a dead host loses it after
// 3 adverts (~3.6 s with advert_int 1).
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { CelluleError } from "../errors.ts"
import { logger } from "../log.ts"
import type { VrrpState } from "./store.ts"

const log = logger("vip")

export interface VipOptions {
  /** The VIP with its prefix length, e.g. 192.168.1.251/24. */
  address: string
  /** Interface that carries the LAN (and gets the VIP). */
  interface: string
  /** Same on every pool of the cluster (1-255). */
  vrid: number
  /** Higher wins; the first pool 200, the others 100 (guide §4.7). */
  priority: number
  /** Shared VRRP password (keepalived uses the first 8 characters). */
  password: string
  /** The local pool checked before holding the VIP. */
  poolUrl: string
  /** Name in keepalived's logs. */
  name: string
}

export function validateVip(o: VipOptions): void {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(o.address)
  if (!m || m.slice(1, 5).some((x) => Number(x) > 255) || Number(m[5]) > 32)
    throw new CelluleError(
      "vip_invalid",
      `the VIP must be an IPv4 address with its prefix, e.g. 192.168.1.251/24 (got "${o.address}")`,
    )
  if (!/^[\w.@-]{1,15}$/.test(o.interface)) throw new CelluleError("vip_invalid", `bad interface name "${o.interface}"`)
  if (!(o.vrid >= 1 && o.vrid <= 255)) throw new CelluleError("vip_invalid", "the VRID must be 1-255")
  if (!(o.priority >= 1 && o.priority <= 254)) throw new CelluleError("vip_invalid", "the priority must be 1-254")
  if (!/^[\x21-\x7e]{4,}$/.test(o.password) || o.password.includes('"'))
    throw new CelluleError("vip_invalid", "the VRRP password needs 4+ printable characters, no quote")
  new URL(o.poolUrl)
}

export function keepalivedConf(o: VipOptions, curl = "/usr/bin/curl"): string {
  validateVip(o)
  const check = `${o.poolUrl.replace(/\/+$/, "")}/v1/status`
  return `# Written by \`cellule vip\`; rewritten at each start. Admin guide §4.7.
global_defs {
  router_id cellule_${o.name.replace(/\W/g, "_")}
  enable_script_security
  script_user root
}

vrrp_script chk_cellule_pool {
  script "${curl} -fsS -o /dev/null -m 1 ${check}"
  interval 1
  timeout 1
  fall 1
  rise 2
}

vrrp_instance CELLULE_VIP {
  state BACKUP
  interface ${o.interface}
  virtual_router_id ${o.vrid}
  priority ${o.priority}
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass ${o.password.slice(0, 8)}
  }
  virtual_ipaddress {
    ${o.address} dev ${o.interface}
  }
  track_script {
    chk_cellule_pool
  }
}
`
}

export interface VipSupervisor {
  confPath: string
  /** The VRRP state keepalived last logged (null before its first transition). */
  state(): VrrpState | null
  stop(): Promise<void>
}

/** keepalived's transition line, e.g. "(CELLULE_VIP) Entering MASTER STATE". */
const TRANSITION = /\(CELLULE_VIP\) Entering (MASTER|BACKUP|FAULT) STATE/

/** Copies a stream to `out` line by line, calling `onLine` for each. */
async function pump(stream: ReadableStream<Uint8Array>, out: NodeJS.WriteStream, onLine: (l: string) => void) {
  const dec = new TextDecoder()
  let buf = ""
  const reader = stream.getReader()
  for (;;) {
    const { done, value: chunk } = await reader.read()
    if (done) break
    out.write(chunk)
    buf += dec.decode(chunk, { stream: true })
    let i = buf.indexOf("\n")
    while (i >= 0) {
      onLine(buf.slice(0, i))
      buf = buf.slice(i + 1)
      i = buf.indexOf("\n")
    }
  }
}

/**
 * Writes the configuration under `dir` and runs keepalived in the foreground, restarting it when it exits.
 * `onState` hears each VRRP transition keepalived logs, and STOPPED when keepalived exits.
 */
export function superviseKeepalived(
  o: VipOptions,
  dir: string,
  keepalived = "keepalived",
  onState: (s: VrrpState) => void = () => {},
): VipSupervisor {
  mkdirSync(dir, { recursive: true })
  const confPath = join(dir, "keepalived.conf")
  writeFileSync(confPath, keepalivedConf(o), { mode: 0o600 })
  let stopping = false
  let child: ReturnType<typeof Bun.spawn> | undefined
  let state: VrrpState | null = null
  const set = (s: VrrpState) => {
    if (s === state) return
    state = s
    onState(s)
  }
  const onLine = (line: string) => {
    const m = TRANSITION.exec(line)
    if (m) set(m[1] as VrrpState)
  }
  const start = () => {
    child = Bun.spawn(
      [
        keepalived,
        "--dont-fork",
        "--log-console",
        "--vrrp",
        "-f",
        confPath,
        "-p",
        join(dir, "keepalived.pid"),
        "-r",
        join(dir, "vrrp.pid"),
      ],
      { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
    )
    void pump(child.stdout as ReadableStream<Uint8Array>, process.stdout, onLine).catch(() => {})
    void pump(child.stderr as ReadableStream<Uint8Array>, process.stderr, onLine).catch(() => {})
    log.info(`keepalived started (pid ${child.pid}) for VIP ${o.address} on ${o.interface}, priority ${o.priority}`)
    void child.exited.then((code) => {
      set("STOPPED")
      if (stopping) return
      log.warn(`keepalived exited (${code}); restarting in 1 s`)
      setTimeout(() => !stopping && start(), 1000)
    })
  }
  start()
  return {
    confPath,
    state: () => state,
    async stop() {
      stopping = true
      if (child && child.exitCode === null) {
        child.kill("SIGTERM")
        await child.exited
      }
    },
  }
}
