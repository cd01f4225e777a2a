import { describe, expect, test } from "bun:test"
import { projectFacing, requireClusterScope } from "../../../core/http/admin-scope.ts"

describe("what an administrator scoped to projects may reach", () => {
  test("its projects, their documents and keys, the documentation", () => {
    for (const p of [
      "/",
      "/v1/projects",
      "/v1/projects/p1/documents/d1/content",
      "/v1/admin/projects",
      "/v1/admin/keys/k1",
      "/projects",
      "/projects/p1/search",
      "/documentation",
      "/documentation.pdf",
      "/lang/fr",
      "/logout",
    ])
      expect([p, projectFacing(p)]).toEqual([p, true])
  })

  test("nothing of the cluster, and no look-alike prefix", () => {
    for (const p of [
      "/settings",
      "/v1/admin/settings/x",
      "/federation",
      "/workers/move",
      "/v1/admin/audit",
      "/v1/admin/admins",
      "/v1/cluster/vip-self",
      "/projectsX",
      "/v1/projectsX",
      "/v1/admin/keysX",
      "/overview.json",
      "/license",
    ])
      expect([p, projectFacing(p)]).toEqual([p, false])
  })

  test("an unscoped admin passes everywhere; a scoped one is refused with admin_scope_forbidden", () => {
    expect(() => requireClusterScope({ projects: null }, "/settings")).not.toThrow()
    expect(() => requireClusterScope({ projects: ["p1"] }, "/projects/p1")).not.toThrow()
    expect(() => requireClusterScope({ projects: ["p1"] }, "/settings")).toThrow(
      expect.objectContaining({ status: 403, code: "admin_scope_forbidden" }),
    )
  })
})
