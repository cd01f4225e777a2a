// core/federation/kinds/_lww — the one last-writer-wins rule every replicated kind applies.
/**
 * The last-writer-wins rule, as the WHERE of an upsert into a table aliased `t` with `hlc` and
 * `origin` columns: the incoming row wins when its HLC is later, or equal with a greater origin.
 * Byte order ("C" collation) so every pool, whatever its locale, ranks stamps the same way.
 */
export const NEWER_WINS = `where (excluded.hlc collate "C" > t.hlc collate "C" or (excluded.hlc = t.hlc and excluded.origin collate "C" > t.origin collate "C"))`
