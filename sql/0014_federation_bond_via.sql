-- How each bond was made: only bonds made with an attachment token or a pinned key (CELLULE_BOND_PEERS
-- entry url#atom_id) may be auto-promoted (federation.auto_promote). Older bonds: a token if one was
-- used by that atom, else unknown (never auto-promoted; an admin promotes them).
alter table federation_peers add column bonded_via text check (bonded_via in ('token', 'pinned', 'admin'));
update federation_peers set bonded_via = 'token'
  where atom_id in (select used_by from federation_attachment_tokens where used_by is not null);
