// views/messages/catalogue-fr — the Models page's catalogue (upload, list, assignment, master);
// spread into fr.ts, which would pass 400 lines.
import { h18Fr } from "./h18-fr.ts"

export const catalogueFr = {
  ...h18Fr,
  "models.title": "Modèles",
  "models.guidance":
    "Recommandé : des modèles instruct sans raisonnement visible (par ex. Qwen3-4B-Instruct-2507 Q4_K_M pour cpu-mid, gpu-small et apple-m ; Qwen3-30B-A3B-Instruct-2507 pour gpu-large). Les modèles « thinking » (<think>, QwQ, DeepSeek-R1, Qwen3 sans Instruct) et les modèles de base sont signalés ci-dessous.",
  "models.upload": "Téléverser un modèle",
  "models.file": "Fichier GGUF",
  "models.upload_button": "Téléverser",
  "models.upload_done": "Modèle téléversé et vérifié.",
  "models.upload_duplicate": "Ce modèle est déjà au catalogue (même SHA-256) : rien n’a été ajouté.",
  "models.upload_failed": "Téléversement refusé",
  "models.err.file_required": "Choisissez d’abord un fichier .gguf.",
  "models.catalogue": "Catalogue",
  "models.empty": "Aucun modèle : téléversez le premier ci-dessus.",
  "models.name": "Fichier",
  "models.size": "Taille",
  "models.architecture": "Architecture",
  "models.parameters": "Paramètres",
  "models.quantization": "Quantification",
  "models.context": "Contexte",
  "models.behaviour": "Comportement",
  "models.behaviour.instruct": "instruct",
  "models.behaviour.thinking": "raisonnement visible",
  "models.behaviour.base": "modèle de base",
  "models.warn.thinking":
    "Affiche son raisonnement (<think> ou analyse numérotée) : déconseillé pour le chat des salariés.",
  "models.warn.base": "Pas de modèle de chat : réponses brutes ou jetons spéciaux possibles.",
  "models.header_unreadable": "en-tête illisible",
  "models.assigned": "Affecté à",
  "models.delete": "Supprimer",
  "models.delete_confirm": "Supprimer le modèle {name} ? Les workers ne pourront plus le télécharger.",
  "models.deleted": "Modèle supprimé.",
  "models.by_class": "Modèle par classe de matériel",
  "models.by_tier": "Modèle par niveau (rapide, raisonnement, code)",
  "models.assign": "Affecter",
  "models.role.master": "Ce pool est le maître du catalogue : téléversements et affectations se font ici.",
  "models.role.satellite": "Ce pool est un satellite du catalogue (lecture seule) : écrivez sur le pool maître {url}.",
  "models.promote": "Promouvoir ce pool maître du catalogue",
  "models.promote_confirm":
    "Faire de ce pool le maître du catalogue ? Le maître actuel deviendra satellite. À faire seulement s’il est durablement hors service.",
  "models.promoted": "Ce pool est désormais le maître du catalogue.",
  "models.assigned_ok": "{target} sert désormais {name} ; ses workers basculent sans redémarrage.",
} as const
