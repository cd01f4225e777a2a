-- Right to erasure in the federation log: the envelopes of an erased document (its row, its chunks'
-- text and vectors) and an erased project's memories are redacted in place on every pool: the payload
-- becomes {redacted, ids, sha256 of what it was}; origin, seq, hlc, kind and signature stay, so the log
-- keeps its order and a replay is still told from an equivocation. Nothing else may change a row.
alter table federation_log add column redacted_at timestamptz;

create or replace function federation_log_append_only() returns trigger language plpgsql as $$
begin
  if tg_op = 'UPDATE' and old.redacted_at is null and new.redacted_at is not null
     and old.kind in ('document', 'document_chunks', 'memory_fact')
     and new.origin = old.origin and new.seq = old.seq and new.hlc = old.hlc and new.kind = old.kind
     and new.sig = old.sig and new.received_from is not distinct from old.received_from
     and new.status = old.status and new.at = old.at and (new.payload->>'redacted')::boolean then
    return new;
  end if;
  raise exception 'federation_log is append-only';
end $$;
