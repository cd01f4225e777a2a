// core/workers/ownership — which token a worker id belongs to. The first token to present an id owns
// it; any other token presenting it is refused, so an enrolled machine cannot evict another and take
// its prompts (issue 22.5). Never decides anything about the socket: the hub closes, this answers.
import type { Clock } from "../clock.ts"
import type { Sql } from "../db/client.ts"

/**
 * Bind `workerId` to `tokenId` (null: the shared join token) if it is unbound, and say whether it
 * belongs to that token. The insert … on conflict do nothing is the whole guard: of two tokens
 * racing for a fresh id, exactly one insert lands and both then read the same owner.
 */
export async function claimWorkerId(sql: Sql, clock: Clock, workerId: string, tokenId: number | null) {
  const owner = await sql.begin(async (tx) => {
    await tx`insert into worker_ids (worker_id, token_id, bound_at) values (${workerId}, ${tokenId}, ${new Date(clock.now())})
             on conflict (worker_id) do nothing`
    const [row] = await tx`select token_id from worker_ids where worker_id = ${workerId}`
    return row.token_id === null ? null : Number(row.token_id)
  })
  return { owned: owner === tokenId, owner: owner as number | null }
}
