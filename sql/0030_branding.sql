-- Branding replicated (issue 19): the company name and logo are the cluster's, not one pool's. The kind
-- "branding" carries both (the logo as the wizard stores it: PNG/JPEG, or SVG sanitised again on
-- arrival), last writer wins by (hlc, origin). One row once any pool has edited the branding; until
-- then each pool shows what its wizard recorded in cluster_profile.
create table cluster_branding (
  id boolean primary key default true check (id),
  company_name text not null check (length(company_name) between 1 and 120),
  logo bytea check (logo is null or octet_length(logo) <= 512000),
  logo_mime text check (logo_mime is null or logo_mime in ('image/png', 'image/jpeg', 'image/svg+xml')),
  check ((logo is null) = (logo_mime is null)),
  hlc text not null,
  origin text not null,
  updated_at timestamptz not null default now()
);
