// views/messages/models-fr — the Models page's guidance and probe strings in French, key for key with
// models-en.ts; spread into fr.ts.
import type { modelsEN } from "./models-en.ts"

export const modelsFR: Record<keyof typeof modelsEN, string> = {
  "guidance.title": "Choisir un modèle",
  "guidance.intro":
    "Préférez les modèles instruct sans raisonnement visible : ils répondent directement. Les modèles « thinking » peuvent afficher leur raisonnement ; les modèles de base peuvent laisser fuir des jetons spéciaux.",
  "guidance.class": "Classe matérielle",
  "guidance.recommended": "Modèle recommandé",
  "guidance.warn_thinking":
    "{file} ressemble à un modèle « thinking » : les réponses peuvent montrer le raisonnement. Préférez une variante Instruct.",
  "guidance.warn_base": "{file} ressemble à un modèle de base : déconseillé pour servir directement les salariés.",
  "probe.title": "Test du modèle",
  "probe.never": "Pas encore testé. Le test pose trois questions de contrôle sur un worker mis à l’écart du trafic.",
  "probe.start": "Lancer le test",
  "probe.restart": "Tester à nouveau",
  "probe.accept": "Accepter ce modèle malgré tout",
  "probe.accept_confirm":
    "Accepter {file} malgré ce que le test a trouvé ? Il pourra alors être affecté à toute la flotte.",
  "probe.accepted": "Accepté par {admin} le {at}.",
  "probe.on_worker": "sur le worker {worker}",
  "probe.status.running": "Test en cours…",
  "probe.status.passed": "Réussi : les réponses sont celles d’un modèle instruct.",
  "probe.status.flagged":
    "Signalé : les réponses montrent un raisonnement visible ou un comportement de modèle de base.",
  "probe.status.failed": "Le test n’a pas pu aboutir.",
  "probe.flag.think_tags": "balises <think>",
  "probe.flag.numbered_preamble": "préambule d’analyse numéroté",
  "probe.flag.special_tokens": "jetons spéciaux visibles",
  "probe.flag.empty_answer": "réponse vide",
  "probe.prompt.greeting": "Salutation",
  "probe.prompt.email": "E-mail à un responsable",
  "probe.prompt.summary": "Résumé",
  "probe.empty": "(vide)",
  "probe.assignable": "Ce modèle peut être affecté à la flotte.",
  "probe.blocked":
    "L’affectation à la flotte est bloquée tant que le test n’est pas réussi ou accepté par un administrateur.",
}
