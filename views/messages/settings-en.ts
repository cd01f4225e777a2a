// views/messages/settings-en — the Advanced settings page (/settings); spread into en.ts, which
// would pass 400 lines.
export const settingsEn = {
  "settings.title": "Advanced settings",
  "settings.intro":
    "Every setting of the cluster, by category. The ones at the top change while the pools run; the table below is this pool's start-up configuration.",
  "settings.gossip_note":
    "A change made on the master is signed and sent to every trusted bonded pool within seconds; a value is replaced only by a later change.",
  "settings.source": "Source",
  "settings.source.default": "default",
  "settings.source.environment": "environment",
  "settings.source.admin": "administrator",
  "settings.last_change": "changed {at} on {pool}",
  "settings.recommended": "Recommended",
  "settings.profile.cabinet": "small office",
  "settings.profile.corporate": "company",
  "settings.recommended_here": "Recommended for your sector ({sector}, {profile})",
  "settings.satellite": "This pool is a satellite.",
  "settings.satellite_note":
    "Cluster settings are changed on the catalogue master, which sends each change here by signed gossip within seconds. Change them on the master:",
  "settings.satellite_field": "Read-only here: change it on the master pool.",
  "settings.master_note":
    "This pool takes setting changes (it is the catalogue master, or bonded to no other pool); bonded satellites receive them by signed gossip.",
  "settings.restart": "restart needed",
  "settings.locked": "locked",
  "settings.locked_note": "Set by {env} in this pool's environment: remove it there to change it here.",
  "settings.on": "On",
  "settings.off": "Off",
  "settings.save": "Save",
  "settings.saved": "Saved; sent to the bonded pools.",
  "settings.boot": "Start-up configuration",
  "settings.boot_note": "Set in the pool's environment (or its defaults); a change takes effect at the next restart.",
  "settings.name": "Variable",
  "settings.value": "Value",
  "settings.meaning": "Meaning",
  "settings.category.access": "Access",
  "settings.category.federation": "Federation",
  "settings.category.workers": "Workers and runtime flags",
  "settings.category.routing": "Routing and MoE profile",
  "settings.category.cluster": "Other cluster-wide values",
  "settings.category.rag": "Documents (RAG)",
  "settings.category.system": "System",
} as const
