-- First-boot wizard. cluster_setup_state holds the wizard's answers while it runs and, once
-- completed_at is set, records what the sector defaults filled in (audit). The admin password is
-- never stored here in clear: the admin step keeps only its Argon2id hash until completion.
create table cluster_setup_state (
  id int primary key check (id = 1),
  answers jsonb not null default '{}'::jsonb,
  admin_password_hash text check (admin_password_hash is null or admin_password_hash like '$argon2%'),
  logo bytea check (logo is null or octet_length(logo) <= 512000),
  logo_mime text check (logo_mime is null or logo_mime in ('image/png', 'image/jpeg', 'image/svg+xml')),
  completed_at timestamptz,
  sector_defaults_applied jsonb,
  updated_at timestamptz not null default now()
);

-- The cluster's identity and policy as the wizard left them (the dashboard header, audit retention).
create table cluster_profile (
  id int primary key check (id = 1),
  company_name text not null check (length(company_name) between 1 and 120),
  sector text not null check (sector in ('LAW', 'HEALTHCARE', 'ACCOUNTING', 'ARCHITECTURE', 'DESIGN', 'CONSULTING', 'OTHER')),
  logo bytea check (logo is null or octet_length(logo) <= 512000),
  logo_mime text check (logo_mime is null or logo_mime in ('image/png', 'image/jpeg', 'image/svg+xml')),
  -- null: unlimited retention
  audit_retention_months int check (audit_retention_months is null or audit_retention_months > 0),
  audit_grade text not null check (audit_grade in ('basic', 'strict', 'iso27001')),
  description_template text not null,
  cpu_workers_enabled boolean not null,
  gpu_servers int not null check (gpu_servers between 0 and 10000),
  provisioning_hub_url text,
  model_tiers text[] not null,
  updated_at timestamptz not null default now()
);

-- Sites (branches) and their declared headcount.
create table cluster_sites (
  id bigint generated always as identity primary key,
  name text not null unique check (length(name) between 1 and 80),
  headcount int not null default 0 check (headcount between 0 and 1000000),
  position int not null default 0
);

-- One-time dashboard login links (npm start prints one instead of a default password).
create table admin_login_links (
  token_hash bytea primary key,
  admin_id bigint not null references admin_users (id) on delete cascade,
  expires_at timestamptz not null,
  used_at timestamptz
);
