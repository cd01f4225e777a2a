// The lifecycle fields are optional: old messages still parse; events are kept only when well-formed.
import { expect, test } from "bun:test"
import { parseWorkerMessage } from "../../../core/workers/protocol.ts"
import { workerHello } from "../../support/worker-hello.ts"

const hello = workerHello()

test("a hello and a heartbeat without lifecycle fields parse as before", () => {
  expect(parseWorkerMessage(JSON.stringify(hello))).toMatchObject({ type: "hello", worker_id: "worker-0001" })
  expect(parseWorkerMessage(JSON.stringify({ type: "heartbeat", activity: "busy", busy: {} }))).toEqual({
    type: "heartbeat",
    activity: "busy",
    busy: {},
  })
})

test("events travel in hello and heartbeat; malformed ones are dropped, never fatal", () => {
  const events = [
    { at: 1, event: "failover_down", detail: { unreachable_ms: 300000 } },
    { at: "x", event: 3 },
    { at: 2, event: "e".repeat(65) },
  ]
  const h = parseWorkerMessage(JSON.stringify({ ...hello, hardware_class: "cpu-mid", events }))
  expect(h).toMatchObject({
    hardware_class: "cpu-mid",
    events: [{ at: 1, event: "failover_down", detail: { unreachable_ms: 300000 } }],
  })
  const hb = parseWorkerMessage(JSON.stringify({ type: "heartbeat", activity: "nonsense", busy: {}, events }))
  expect(hb).toEqual({
    type: "heartbeat",
    activity: "available",
    busy: {},
    events: [{ at: 1, event: "failover_down", detail: { unreachable_ms: 300000 } }],
  })
})
