-- The append-only audit log (guide §5.3, §6.1). One row per action; each row carries the SHA-256 of
-- the previous row (prev_hash) and of its own canonical bytes including prev_hash (row_hash), both
-- computed here by a trigger, so no caller can choose them. UPDATE and TRUNCATE are refused to
-- everyone; DELETE only from inside audit_purge(), which removes a prefix of the chain older than a
-- cutoff and appends a checkpoint row naming the last purged row's hash, so verification still
-- starts from a known anchor. A superuser can still disable the triggers: the hash chain is what
-- makes such an edit visible (verify names the first broken row).
create table audit_log (
  id bigint primary key,
  at timestamptz not null,
  actor_kind text not null check (actor_kind in ('admin', 'api_key', 'peer', 'system')),
  actor_id text not null check (length(actor_id) between 1 and 320),
  action text not null check (action ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$'),
  target text check (length(target) <= 512),
  project text check (length(project) <= 128),
  client_ip text check (length(client_ip) <= 64),
  outcome text not null check (outcome in ('success', 'failure', 'denied')),
  details jsonb not null default '{}'::jsonb check (jsonb_typeof(details) = 'object'),
  prev_hash bytea not null check (octet_length(prev_hash) = 32),
  row_hash bytea not null check (octet_length(row_hash) = 32)
);
create index audit_log_at on audit_log (at);
create index audit_log_project on audit_log (project, id) where project is not null;
create index audit_log_action on audit_log (action, id);

-- The head of the chain: the last id and hash appended. Locking this row serialises appends, so the
-- chain stays linear when several connections (or pools on one database) record at once.
create table audit_head (
  id int primary key check (id = 1),
  last_id bigint not null,
  last_hash bytea not null check (octet_length(last_hash) = 32)
);
insert into audit_head (id, last_id, last_hash) values (1, 0, decode(repeat('00', 32), 'hex'));

-- Canonical bytes of a row: every field as a netstring (length:value, a null as "-"), in a fixed
-- order, then prev_hash. Netstrings make the encoding unambiguous whatever the fields contain.
create function audit_canonical(
  p_id bigint, p_at timestamptz, p_actor_kind text, p_actor_id text, p_action text, p_target text,
  p_project text, p_client_ip text, p_outcome text, p_details jsonb, p_prev_hash bytea
) returns bytea language sql stable as $$
  select convert_to(
    (select string_agg(coalesce(octet_length(f)::text || ':' || f, '-') || ',', '' order by n)
       from unnest(array[
         p_id::text,
         (extract(epoch from p_at) * 1000000)::bigint::text,
         p_actor_kind, p_actor_id, p_action, p_target, p_project, p_client_ip, p_outcome, p_details::text
       ]) with ordinality as t(f, n)),
    'UTF8') || p_prev_hash
$$;

create function audit_row_hash(r audit_log) returns bytea language sql stable as $$
  select sha256(audit_canonical(r.id, r.at, r.actor_kind, r.actor_id, r.action, r.target, r.project,
                                r.client_ip, r.outcome, r.details, r.prev_hash))
$$;

create function audit_append() returns trigger language plpgsql as $$
declare
  h audit_head%rowtype;
begin
  select * into h from audit_head where id = 1 for update;
  new.id := h.last_id + 1;
  new.prev_hash := h.last_hash;
  new.row_hash := audit_row_hash(new);
  update audit_head set last_id = new.id, last_hash = new.row_hash where id = 1;
  return new;
end
$$;
create trigger audit_log_append before insert on audit_log for each row execute function audit_append();

-- Refuses UPDATE and TRUNCATE always, DELETE unless the outermost frame of the call stack is
-- audit_purge() called directly. Only the last line is trusted: earlier lines quote SQL text, which
-- a client's DO block could fill with anything, but the outermost frame is always the real caller.
create function audit_guard() returns trigger language plpgsql as $$
declare
  stack text;
begin
  if tg_op = 'DELETE' then
    get diagnostics stack = pg_context;
    if split_part(stack, E'\n', array_length(string_to_array(stack, E'\n'), 1))
         like 'PL/pgSQL function audit_purge(%' then
      return old;
    end if;
  end if;
  raise exception 'audit_log is append-only: % refused', tg_op
    using errcode = 'insufficient_privilege', hint = 'retention purges through audit_purge()';
end
$$;
create trigger audit_log_no_update before update or delete on audit_log for each row execute function audit_guard();
create trigger audit_log_no_truncate before truncate on audit_log for each statement execute function audit_guard();
create trigger audit_head_no_truncate before truncate on audit_head for each statement execute function audit_guard();

-- Retention: deletes the longest prefix of the chain whose rows are all older than p_cutoff, then
-- appends a checkpoint row (action audit.purge) carrying the id and hash of the last purged row.
-- Returns the number of rows purged and the checkpoint's id (null when nothing was old enough).
create function audit_purge(p_cutoff timestamptz, p_now timestamptz)
returns table (purged bigint, checkpoint_id bigint) language plpgsql as $$
declare
  through bigint;
  through_hash bytea;
  n bigint;
  cp bigint;
begin
  -- Same lock as appends: nothing is appended while the prefix is chosen and removed.
  perform 1 from audit_head where id = 1 for update;
  select coalesce((select min(id) - 1 from audit_log where at >= p_cutoff), (select max(id) from audit_log))
    into through;
  if through is null or not exists (select 1 from audit_log where id <= through) then
    return query select 0::bigint, null::bigint;
    return;
  end if;
  select row_hash into through_hash from audit_log where id = through;
  delete from audit_log where id <= through;
  get diagnostics n = row_count;
  insert into audit_log (at, actor_kind, actor_id, action, outcome, details)
    values (p_now, 'system', 'retention', 'audit.purge', 'success',
            jsonb_build_object('cutoff', p_cutoff, 'purged_rows', n, 'through_id', through,
                               'through_hash', encode(through_hash, 'hex')))
    returning id into cp;
  return query select n, cp;
end
$$;
