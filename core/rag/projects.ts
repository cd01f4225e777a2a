// core/rag/projects — projects as API callers see them, scoped: a key bound to a project sees only
// that project, and anything else is "not found" (404, never 403: another client's project must not
// even be confirmed to exist). Creation and renames replicate (kind "project"); deletion sends a
// tombstone (kind "document_tombstone", core/rag/replicate.ts) when the pool is federated.
import { randomBytes } from "node:crypto"
import type { Clock } from "../clock.ts"
import type { Sql } from "../db/client.ts"
import { Forbidden, NotFound } from "../errors.ts"
import type { BlobStore } from "./blobs.ts"

export interface ProjectRow {
  id: string
  name: string
  description: string
  origin: string
  created_at: Date
  documents_count: number
}

/**
 * Who asks: an administrator (scoped to some projects, or null: every project) or an API key (bound to
 * one project, or to none: every project).
 */
export type ProjectCaller =
  | { kind: "admin"; projects: readonly string[] | null }
  | { kind: "key"; project: string | null }

/** Every project: the pool itself, or an unscoped administrator. */
export const ANY_PROJECT: ProjectCaller = { kind: "admin", projects: null }

/** The projects `caller` may see, or null for every project. */
export function scopeOf(caller: ProjectCaller): readonly string[] | null {
  if (caller.kind === "admin") return caller.projects
  return caller.project === null ? null : [caller.project]
}

export type Publish = (kind: string, payload: unknown) => Promise<{ payload: unknown; origin: string }>

const COLUMNS = `p.id, p.name, p.description, p.origin, p.created_at,
  (select count(*)::int from documents d where d.project_id = p.id) as documents_count`

export class Projects {
  constructor(
    private readonly sql: Sql,
    private readonly clock: Clock,
    private readonly blobs: BlobStore,
    private readonly publish: Publish,
    /** Erasure everywhere (a signed tombstone); without it, the project is deleted here only. */
    private readonly erase?: (projectId: string) => Promise<void>,
  ) {}

  /** 404 project_not_found unless `caller` may see `id` and it exists. */
  async require(caller: ProjectCaller, id: string): Promise<ProjectRow> {
    const scope = scopeOf(caller)
    if (scope && !scope.includes(id)) throw notFound(id)
    const [p] = await this.sql<ProjectRow[]>`select ${this.sql.unsafe(COLUMNS)} from projects p where p.id = ${id}`
    if (!p) throw notFound(id)
    return p
  }

  async list(caller: ProjectCaller): Promise<ProjectRow[]> {
    const scope = scopeOf(caller)
    return await this.sql<ProjectRow[]>`
      select ${this.sql.unsafe(COLUMNS)} from projects p
      where ${scope === null} or p.id = any(${scope ?? []}::text[])
      order by p.created_at, p.id`
  }

  async create(input: { name: string; description?: string }): Promise<ProjectRow> {
    const id = `prj_${this.clock.now().toString(36)}${randomBytes(5).toString("hex")}`
    await this.publish("project", { id, name: input.name, description: input.description ?? "" })
    return this.require(ANY_PROJECT, id)
  }

  async update(caller: ProjectCaller, id: string, patch: { name?: string; description?: string }): Promise<ProjectRow> {
    const p = await this.require(caller, id)
    await this.publish("project", {
      id,
      name: patch.name ?? p.name,
      description: patch.description ?? p.description,
    })
    return this.require(caller, id)
  }

  /** Documents, chunks and memories go with the project (cascade), then files no project still holds. */
  async remove(caller: ProjectCaller, id: string): Promise<void> {
    await this.require(caller, id)
    if (this.erase) return this.erase(id)
    const hashes = await this.sql.begin(async (tx) => {
      const docs = await tx`select distinct content_hash from documents where project_id = ${id}`
      await tx`delete from projects where id = ${id}`
      return docs.map((d) => d.content_hash as string)
    })
    for (const h of hashes) {
      const [used] = await this.sql`select 1 from documents where content_hash = ${h} limit 1`
      if (!used) await this.blobs.remove(h)
    }
  }
}

/** An administrator scoped to projects manages those only: creating one is an unscoped administrator's job. */
export const scopedCannotCreate = () =>
  new Forbidden("an administrator scoped to projects cannot create one", "admin_scope_forbidden")

const notFound = (id: string) => new NotFound(`no project ${id}`, "project_not_found")
