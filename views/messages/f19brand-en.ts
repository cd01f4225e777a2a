// views/messages/f19brand-en — the branding box of Advanced settings once the branding is cluster-wide
// (issue 19, kind "branding"); spread into en.ts, which would pass 400 lines.
export const f19brandEn = {
  "branding.cluster_note": "Shared by every bonded pool: a change made here reaches them by signed gossip.",
  "branding.satellite":
    "The company name and logo are managed on the catalogue master; this pool receives them by signed gossip.",
  "branding.master_link": "Change them on the master",
}
