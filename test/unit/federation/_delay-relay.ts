// A TCP relay that adds a fixed one-way delay to every chunk in both directions, order preserved.
// Used by the WAN test where the kernel has no sch_netem: run inside a network namespace.
//   bun _delay-relay.ts <listen-host> <listen-port> <target-host> <target-port> <one-way-delay-ms>
import type { Socket } from "bun"

const [listenHost, listenPort, targetHost, targetPort, delay] = process.argv.slice(2)
const ms = Number(delay)

type Pair = { peer?: Socket<Pair>; pending: Uint8Array[]; closed: boolean }
const later = (fn: () => void) => setTimeout(fn, ms)

Bun.listen<Pair>({
  hostname: listenHost,
  port: Number(listenPort),
  socket: {
    async open(client) {
      client.data = { pending: [], closed: false }
      const upstream = await Bun.connect<Pair>({
        hostname: targetHost,
        port: Number(targetPort),
        socket: {
          data(_s, chunk) {
            const copy = new Uint8Array(chunk)
            later(() => client.write(copy))
          },
          close() {
            later(() => client.end())
          },
          error() {
            later(() => client.end())
          },
        },
        data: { pending: [], closed: false },
      }).catch(() => undefined)
      if (!upstream) {
        client.end()
        return
      }
      client.data.peer = upstream
      for (const c of client.data.pending) later(() => upstream.write(c))
      client.data.pending = []
    },
    data(client, chunk) {
      const copy = new Uint8Array(chunk)
      if (!client.data.peer) client.data.pending.push(copy)
      else later(() => client.data.peer!.write(copy))
    },
    close(client) {
      later(() => client.data.peer?.end())
    },
    error(client) {
      later(() => client.data.peer?.end())
    },
  },
})
console.log(`delay relay ${listenHost}:${listenPort} -> ${targetHost}:${targetPort} (+${ms} ms each way) ready`)
