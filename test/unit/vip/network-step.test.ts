// The wizard's HA network step (core/vip/net.ts, core/setup/network.ts) and the doctor's VIP verdict
// (core/doctor/vip.ts): pure rules, each refused input named next to its field.
import { describe, expect, test } from "bun:test"
import { vipChecks } from "../../../core/doctor/vip.ts"
import { resolveNetworkStep } from "../../../core/setup/network.ts"
import { CelluleError } from "../../../core/errors.ts"
import { cidrOf, interfaceFor, validateFirstPool, type LocalAddress } from "../../../core/vip/net.ts"

const local: LocalAddress[] = [
  { iface: "eth0", address: "192.168.1.10", prefix: 24 },
  { iface: "wlan0", address: "10.1.2.3", prefix: 16 },
]
const first = (input: Record<string, unknown>, poolHost?: string) =>
  validateFirstPool({ vip_address: "192.168.1.251", vip_cidr: "24", ...input }, { local, poolHost })

describe("first pool", () => {
  test("valid: the interface comes from the subnet, VRID 51 and priority 200 by default", () => {
    expect(first({})).toEqual({
      ok: true,
      value: {
        mode: "first",
        address: "192.168.1.251",
        prefix: 24,
        interface: "eth0",
        vrid: 51,
        priority: 200,
        joined_from: null,
      },
    })
    expect(first({ vip_cidr: "192.168.1.0/24", vip_vrid: "77" })).toMatchObject({ ok: true, value: { vrid: 77 } })
    expect(cidrOf("192.168.1.251", 22)).toBe("192.168.0.0/22")
    expect(interfaceFor("10.1.200.9", local)).toBe("wlan0")
  })
  test.each([
    [{ vip_address: "" }, "vip_address", "required"],
    [{ vip_address: "192.168.1.256" }, "vip_address", "invalid_ipv4"],
    [{ vip_address: "192.168.1" }, "vip_address", "invalid_ipv4"],
    [{ vip_cidr: "" }, "vip_cidr", "required"],
    [{ vip_cidr: "33" }, "vip_cidr", "invalid_cidr"],
    [{ vip_cidr: "192.168.1.7/24" }, "vip_cidr", "invalid_cidr"], // not a network address
    [{ vip_cidr: "192.168.2.0/24" }, "vip_address", "vip_outside_cidr"],
    [{ vip_address: "192.168.1.0" }, "vip_address", "vip_not_host"],
    [{ vip_address: "192.168.1.255" }, "vip_address", "vip_not_host"],
    [{ vip_address: "192.168.1.10" }, "vip_address", "vip_is_own_address"],
    [{ vip_address: "172.16.0.5" }, "vip_address", "vip_not_on_lan"],
    [{ vip_interface: "eth0; rm -rf /" }, "vip_interface", "invalid_interface"],
    [{ vip_vrid: "256" }, "vip_vrid", "invalid_vrid"],
    [{ vip_vrid: "0" }, "vip_vrid", "invalid_vrid"],
  ])("%j → %s %s", (input, field, code) => {
    const r = first(input)
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.errors[field]).toBe(code)
  })
  test("the pool's advertised host cannot be the VIP either; a named interface allows another subnet", () => {
    const r = first({ vip_address: "192.168.1.20" }, "192.168.1.20")
    expect(r.ok ? null : r.errors.vip_address).toBe("vip_is_own_address")
    expect(first({ vip_address: "172.16.0.5", vip_cidr: "24", vip_interface: "br0" })).toMatchObject({
      ok: true,
      value: { interface: "br0" },
    })
  })
})

describe("the step", () => {
  test("no VIP is the default; first generates an 8-character password, or takes a given one", async () => {
    expect(await resolveNetworkStep({}, { local })).toEqual({ ok: true, answer: { mode: "none" }, authPass: null })
    const a = await resolveNetworkStep({ vip_mode: "first", vip_address: "192.168.1.251", vip_cidr: "24" }, { local })
    const b = await resolveNetworkStep({ vip_mode: "first", vip_address: "192.168.1.251", vip_cidr: "24" }, { local })
    expect(a.ok && a.authPass).toMatch(/^[A-Za-z0-9]{8}$/)
    expect(a.ok && b.ok && a.authPass !== b.authPass).toBe(true)
    const given = await resolveNetworkStep(
      { vip_mode: "first", vip_address: "192.168.1.251", vip_cidr: "24", vip_auth_pass: 'ab"cd' },
      { local },
    )
    expect(given).toEqual({ ok: false, errors: { vip_auth_pass: "invalid_vrrp_password" } })
    expect(await resolveNetworkStep({ vip_mode: "other" }, { local })).toEqual({
      ok: false,
      errors: { vip_mode: "invalid_choice" },
    })
  })
  test("join: the form is checked, then the pool's vip-info is read; its refusals land on the URL field", async () => {
    expect(await resolveNetworkStep({ vip_mode: "join", join_url: "ftp://x" }, { local })).toEqual({
      ok: false,
      errors: { join_url: "invalid_url", join_email: "required", join_password: "required" },
    })
    const form = { vip_mode: "join", join_url: "http://192.168.1.10:8080/x", join_email: "a@b.c", join_password: "pw" }
    const seen: string[] = []
    const ok = await resolveNetworkStep(form, {
      local,
      fetchVipInfo: async (url, email, password) => {
        seen.push(url, email, password)
        return {
          configured: true,
          vip_address: "192.168.1.251",
          prefix: 24,
          virtual_router_id: 9,
          auth_pass: "Secret12",
        }
      },
    })
    expect(seen).toEqual(["http://192.168.1.10:8080", "a@b.c", "pw"])
    expect(ok).toEqual({
      ok: true,
      answer: {
        mode: "join",
        address: "192.168.1.251",
        prefix: 24,
        interface: "eth0",
        vrid: 9,
        priority: 100,
        joined_from: "http://192.168.1.10:8080",
      },
      authPass: "Secret12",
    })
    const refused = await resolveNetworkStep(form, {
      local,
      fetchVipInfo: async () => {
        throw new CelluleError("join_login_failed", "no", 400)
      },
    })
    expect(refused).toEqual({ ok: false, errors: { join_url: "join_login_failed" } })
  })
})

describe("doctor's VIP verdict", () => {
  const self = (state: string, more: Record<string, unknown> = {}) => ({
    configured: true,
    supervised: true,
    state,
    vip_address: "10.0.0.100",
    virtual_router_id: 51,
    priority: 100,
    holds_vip: state === "MASTER",
    ...more,
  })
  const statuses = (c: ReturnType<typeof vipChecks>) => c.map((x) => `${x.status} ${x.subject}`)
  test("nothing configured: one ok line", () => {
    expect(statuses(vipChecks([{ pool: "a", self: { configured: false } }]))).toEqual(["ok cluster"])
  })
  test("one MASTER, one BACKUP, the VIP answers: all ok", () => {
    const c = vipChecks(
      [
        { pool: "a", self: self("MASTER") },
        { pool: "b", self: self("BACKUP") },
      ],
      { url: "http://10.0.0.100:8080", ok: true, name: "a" },
    )
    expect(statuses(c)).toEqual(["ok a", "ok b", "ok http://10.0.0.100:8080"])
  })
  test("unsupervised, FAULT, split brain, mismatch, silent VIP: each a problem", () => {
    const c = vipChecks(
      [
        { pool: "a", self: self("MASTER") },
        { pool: "b", self: self("MASTER") },
        { pool: "c", self: self("FAULT") },
        { pool: "d", self: self("BACKUP", { supervised: false }) },
        { pool: "e", self: self("BACKUP", { virtual_router_id: 52 }) },
        { pool: "f", self: { configured: false } },
      ],
      { url: "http://10.0.0.100:8080", ok: false, error: "timeout" },
    )
    expect(statuses(c)).toEqual([
      "warn f",
      "problem e",
      "ok a",
      "ok b",
      "problem c",
      "problem d",
      "ok e",
      "problem cluster",
      "problem http://10.0.0.100:8080",
    ])
    expect(c.find((x) => x.subject === "cluster")!.detail).toContain("split brain")
    expect(c.find((x) => x.subject === "d")!.detail).toContain("does not report")
  })
  test("nobody MASTER is a problem", () => {
    const c = vipChecks([
      { pool: "a", self: self("BACKUP") },
      { pool: "b", self: self("BACKUP") },
    ])
    expect(c.at(-1)).toMatchObject({ status: "problem", subject: "cluster" })
  })
})
