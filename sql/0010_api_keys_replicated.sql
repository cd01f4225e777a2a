-- API keys replicate cluster-wide (kind "api_key"): last writer wins by (hlc, origin).
alter table api_keys add column hlc text not null default '';
alter table api_keys add column origin text not null default '';
