// sql/index — every migration, embedded as text so the compiled binary carries them.
// Adding a migration: add the file and one line here (a test checks the two lists match).
import m0001 from "./0001_init.sql" with { type: "text" }
import m0002 from "./0002_models.sql" with { type: "text" }
import m0003 from "./0003_admin.sql" with { type: "text" }
import m0004 from "./0004_license.sql" with { type: "text" }
import m0005 from "./0005_setup.sql" with { type: "text" }
import m0006 from "./0006_federation.sql" with { type: "text" }
import m0007 from "./0007_workers.sql" with { type: "text" }
import m0009 from "./0009_api_keys.sql" with { type: "text" }
import m0010 from "./0010_api_keys_replicated.sql" with { type: "text" }
import m0011 from "./0011_api_usage_any_key.sql" with { type: "text" }
import m0012 from "./0012_worker_token_worker_id.sql" with { type: "text" }
import m0013 from "./0013_worker_identity.sql" with { type: "text" }
import m0014 from "./0014_federation_bond_via.sql" with { type: "text" }
import m0015 from "./0015_rag.sql" with { type: "text" }
import m0016 from "./0016_audit.sql" with { type: "text" }
import m0017 from "./0017_release_keys.sql" with { type: "text" }
import m0018 from "./0018_rag_federation.sql" with { type: "text" }
import m0019 from "./0019_migration_orders.sql" with { type: "text" }
import m0020 from "./0020_rag_search_terms.sql" with { type: "text" }
import m0021 from "./0021_rag_log_redaction.sql" with { type: "text" }
import m0022 from "./0022_model_catalogue.sql" with { type: "text" }
import m0023 from "./0023_model_probe.sql" with { type: "text" }
import m0025 from "./0025_vip.sql" with { type: "text" }
import m0026 from "./0026_catalogue_replication.sql" with { type: "text" }
import m0028 from "./0028_admin_project_scope.sql" with { type: "text" }
import m0029 from "./0029_balancer.sql" with { type: "text" }
import m0030 from "./0030_branding.sql" with { type: "text" }

export const MIGRATIONS = [
  { name: "0001_init.sql", sql: m0001 },
  { name: "0002_models.sql", sql: m0002 },
  { name: "0003_admin.sql", sql: m0003 },
  { name: "0004_license.sql", sql: m0004 },
  { name: "0005_setup.sql", sql: m0005 },
  { name: "0006_federation.sql", sql: m0006 },
  { name: "0007_workers.sql", sql: m0007 },
  { name: "0009_api_keys.sql", sql: m0009 },
  { name: "0010_api_keys_replicated.sql", sql: m0010 },
  { name: "0011_api_usage_any_key.sql", sql: m0011 },
  { name: "0012_worker_token_worker_id.sql", sql: m0012 },
  { name: "0013_worker_identity.sql", sql: m0013 },
  { name: "0014_federation_bond_via.sql", sql: m0014 },
  { name: "0015_rag.sql", sql: m0015 },
  { name: "0016_audit.sql", sql: m0016 },
  { name: "0017_release_keys.sql", sql: m0017 },
  { name: "0018_rag_federation.sql", sql: m0018 },
  { name: "0019_migration_orders.sql", sql: m0019 },
  { name: "0020_rag_search_terms.sql", sql: m0020 },
  { name: "0021_rag_log_redaction.sql", sql: m0021 },
  { name: "0022_model_catalogue.sql", sql: m0022 },
  { name: "0023_model_probe.sql", sql: m0023 },
  { name: "0025_vip.sql", sql: m0025 },
  { name: "0026_catalogue_replication.sql", sql: m0026 },
  { name: "0028_admin_project_scope.sql", sql: m0028 },
  { name: "0029_balancer.sql", sql: m0029 },
  { name: "0030_branding.sql", sql: m0030 },
]
