// core/catalog/models — the models a pool has seen served (remembered across restarts).
import type { Sql } from "../db/client.ts"
import { logger } from "../log.ts"

const log = logger("catalog")

export async function knownModels(sql: Sql): Promise<{ id: string; kind: "llm" | "embedding" }[]> {
  return (await sql`select id, kind from models order by id`) as unknown as { id: string; kind: "llm" | "embedding" }[]
}

export function rememberModel(sql: Sql, id: string, kind: "llm" | "embedding") {
  sql`insert into models (id, kind) values (${id}, ${kind})
      on conflict (id) do update set last_seen = now(), kind = excluded.kind`.catch((e) =>
    log.warn(`could not record model ${id}: ${(e as Error).message}`),
  )
}
