// views/messages/f19brand-fr — le bloc Identité visuelle des Réglages avancés, partagée par tout le
// cluster (issue 19, type "branding") ; intégré à fr.ts, qui dépasserait 400 lignes.
import type { f19brandEn } from "./f19brand-en.ts"

export const f19brandFr: Record<keyof typeof f19brandEn, string> = {
  "branding.cluster_note":
    "Partagée par tous les pools liés : une modification faite ici leur parvient par gossip signé.",
  "branding.satellite":
    "Le nom et le logo de l’entreprise se gèrent sur le maître du catalogue ; ce pool les reçoit par gossip signé.",
  "branding.master_link": "Les modifier sur le maître",
}
