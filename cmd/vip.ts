// cellule vip — writes the keepalived configuration of this pool's VIP and supervises keepalived
// (core/vip/keepalived.ts; admin guide §4.7). Run it as root (it adds the VIP to the interface).
import { join } from "node:path"
import { defineCommand } from "citty"
import { cittyArgs, loadConfig } from "../core/config/index.ts"
import { CelluleError } from "../core/errors.ts"
import { superviseKeepalived } from "../core/vip/keepalived.ts"
import { untilSignal } from "./_signals.ts"

export default defineCommand({
  meta: { name: "vip", description: "Hold the cluster VIP with keepalived (VRRP) while the local pool is healthy" },
  args: {
    ...cittyArgs("cli"),
    address: { type: "string", required: true, description: "VIP with prefix, e.g. 192.168.1.251/24" },
    interface: { type: "string", required: true, description: "LAN interface that carries the VIP" },
    password: { type: "string", required: true, description: "VRRP password shared by every pool" },
    vrid: { type: "string", description: "VRRP router id shared by every pool (default 51)" },
    priority: { type: "string", description: "Higher holds the VIP: first pool 200, others 100 (default 100)" },
    "pool-url": { type: "string", description: "The local pool checked each second (default http://127.0.0.1:8080)" },
    name: { type: "string", description: "Name in keepalived's logs (default: the host name)" },
    keepalived: { type: "string", description: "keepalived executable (default keepalived)" },
  },
  async run({ args }) {
    const config = loadConfig("cli", args)
    const int = (v: unknown, d: number, what: string) => {
      const n = v === undefined ? d : Number(v)
      if (!Number.isInteger(n)) throw new CelluleError("bad_flag", `--${what} takes a whole number`)
      return n
    }
    const sup = superviseKeepalived(
      {
        address: String(args.address),
        interface: String(args.interface),
        password: String(args.password),
        vrid: int(args.vrid, 51, "vrid"),
        priority: int(args.priority, 100, "priority"),
        poolUrl: String(args["pool-url"] ?? "http://127.0.0.1:8080"),
        name: String(args.name ?? (await import("node:os")).hostname()),
      },
      join(config.dataDir, "vip"),
      args.keepalived ? String(args.keepalived) : undefined,
    )
    console.log(`cellule vip ready ${sup.confPath}`)
    await untilSignal()
    await sup.stop()
  },
})
