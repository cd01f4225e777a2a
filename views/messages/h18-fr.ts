// views/messages/h18-fr — the Models page's satellite copies and probe forms (issue 18); spread into
// catalogue-fr.ts (fr.ts is near its 400-line limit).
export const h18Fr = {
  "models.copy.copying": "Copie depuis le maître du catalogue : {pct} %",
  "models.copy.failed": "La copie depuis le maître du catalogue a échoué et reprendra : {error}",
  "models.copy.done": "Copié depuis le maître du catalogue.",
  "models.probes": "Tests des modèles",
  "models.probe_started": "Test de {file} lancé : rechargez la page pour voir ses réponses.",
  "models.probe_accepted": "{file} accepté : il peut maintenant être attribué à toute la flotte.",
} as const
