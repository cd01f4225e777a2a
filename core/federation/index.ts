// core/federation — the federation domain's surface. Where things live:
//   federation.ts   the Federation facade (one per pool): loops, links, topology, entry pools
//   replication.ts  relay and anti-entropy between bonded pools
//   gossip.ts       publish and ingest (verify, order, apply, log) of signed envelopes
//   envelope.ts     the envelope, its canonical bytes, signing and verifying
//   transport.ts    signed pool-to-pool HTTP (sign and verify requests)
//   bonding.ts      register / hello / bond at boot;  peers.ts  the bonds and attachment tokens
//   probes.ts       latency probes;  trust.ts  auto-promotion;  topology.ts  link classes
export { KINDS, type ReplicatedKind, type Stamp } from "./kinds/index.ts"
export { settingType, CLUSTER_WIDE } from "./kinds/setting.ts"
export type { Envelope } from "./envelope.ts"
export type { EntryPool, Peer } from "./peers.ts"
export { Federation, advertisedUrl } from "./federation.ts"
export { helloProof, type NewBond } from "./bonding.ts"
export { PULL_LIMIT, PUSH_LIMIT, type FederationStats } from "./replication.ts"
export { AUTO_PROMOTE_AFTER_MS } from "./trust.ts"
import * as peers from "./peers.ts"
export { peers }
