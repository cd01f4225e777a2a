// cellule vip — holds this pool's share of the cluster VIP (admin guide §4.7): reads the VIP settings the
// wizard stored from the local pool (/v1/cluster/vip-self, with the agent token under --data-dir), writes
// the keepalived configuration, supervises keepalived and reports its VRRP state back to the pool
// (core/vip/agent.ts). Flags override the pool's settings; with --address, --interface and --password it
// runs from flags alone. Run it as root (it adds the VIP to the interface).
import { defineCommand } from "citty"
import { cittyArgs, loadConfig } from "../core/config/index.ts"
import { CelluleError } from "../core/errors.ts"
import { startVipAgent } from "../core/vip/agent.ts"
import { untilSignal } from "./_signals.ts"

export default defineCommand({
  meta: { name: "vip", description: "Hold the cluster VIP with keepalived (VRRP) while the local pool is healthy" },
  args: {
    ...cittyArgs("cli"),
    address: { type: "string", description: "VIP with prefix, e.g. 192.168.1.251/24 (default: the pool's)" },
    interface: { type: "string", description: "LAN interface that carries the VIP (default: the pool's, or found)" },
    password: { type: "string", description: "VRRP password shared by every pool (default: the pool's)" },
    vrid: { type: "string", description: "VRRP router id shared by every pool (default: the pool's, else 51)" },
    priority: { type: "string", description: "Higher holds the VIP: first pool 200, others 100 (default: the pool's)" },
    "pool-url": { type: "string", description: "The local pool checked each second (default http://127.0.0.1:8080)" },
    name: { type: "string", description: "Name in keepalived's logs (default: the host name)" },
    keepalived: { type: "string", description: "keepalived executable (default keepalived)" },
    "report-ms": { type: "string", description: "How often the VRRP state is re-sent to the pool (default 5000)" },
  },
  async run({ args }) {
    const config = loadConfig("cli", args)
    const int = (v: unknown, what: string) => {
      if (v === undefined) return undefined
      const n = Number(v)
      if (!Number.isInteger(n)) throw new CelluleError("bad_flag", `--${what} takes a whole number`)
      return n
    }
    const str = (v: unknown) => (v === undefined ? undefined : String(v))
    const agent = await startVipAgent({
      poolUrl: String(args["pool-url"] ?? "http://127.0.0.1:8080").replace(/\/+$/, ""),
      dataDir: config.dataDir,
      flags: {
        address: str(args.address),
        interface: str(args.interface),
        password: str(args.password),
        vrid: int(args.vrid, "vrid"),
        priority: int(args.priority, "priority"),
      },
      name: String(args.name ?? (await import("node:os")).hostname()),
      keepalived: str(args.keepalived),
      reportMs: int(args["report-ms"], "report-ms"),
    })
    console.log(
      `cellule vip ready ${agent.supervisor.confPath} (VIP ${agent.options.address} on ${agent.options.interface}, priority ${agent.options.priority})`,
    )
    await untilSignal()
    await agent.stop()
  },
})
