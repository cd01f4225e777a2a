-- The pool VIP (admin guide §4.7, core/vip): the keepalived settings the wizard's HA network step chose
-- (first pool: address, prefix and a generated VRRP password; joining pool: the same values read from
-- /v1/cluster/vip-info of the pool it joins, with a lower priority). One row per pool; `cellule vip` reads
-- it through /v1/cluster/vip-self. vip_auth_pass on the wizard's state keeps the password between the
-- network step and completion (never in the answers JSON); completion moves it here and clears it.
create table cluster_vip (
  id int primary key default 1 check (id = 1),
  address text not null,
  prefix int not null check (prefix between 1 and 32),
  interface text,
  vrid int not null check (vrid between 1 and 255),
  auth_pass text not null,
  priority int not null check (priority between 1 and 254),
  joined_from text,
  updated_at timestamptz not null default now()
);
alter table cluster_setup_state add column vip_auth_pass text;
