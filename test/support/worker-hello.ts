// test/support/worker-hello — a worker's hello as it goes on the wire (docs/protocol.md), for tests
// that speak the protocol to the hub or parse it; override what the test is about.
export function workerHello(overrides: Record<string, unknown> = {}) {
  return {
    type: "hello",
    v: 1,
    worker_id: "worker-0001",
    name: "w",
    version: "0.1.0",
    hardware: { os: "linux", arch: "x64", cpu_threads: 4, ram_mb: 8192 },
    models: [],
    activity: "available",
    ...overrides,
  }
}
