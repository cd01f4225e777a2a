// core/pool/identity — this pool's row in pool_identity: its configured name, recorded at every boot.
import type { Sql } from "../db/client.ts"

export async function recordPoolName(sql: Sql, poolName: string): Promise<void> {
  await sql`insert into pool_identity (id, pool_name) values (1, ${poolName})
            on conflict (id) do update set pool_name = excluded.pool_name`
}
