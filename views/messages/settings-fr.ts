// views/messages/settings-fr — the Advanced settings page (/settings); spread into fr.ts, which
// would pass 400 lines.
export const settingsFr = {
  "settings.title": "Paramètres avancés",
  "settings.intro":
    "Tous les réglages du cluster, par catégorie. Ceux du haut changent pendant que les pools tournent ; le tableau du bas est la configuration de démarrage de ce pool.",
  "settings.gossip_note":
    "Un changement fait ici est signé et envoyé à chaque pool associé de confiance en quelques secondes ; quand deux pools changent le même réglage, le plus récent l'emporte.",
  "settings.source": "Origine",
  "settings.source.default": "par défaut",
  "settings.source.environment": "environnement",
  "settings.source.admin": "administrateur",
  "settings.last_change": "modifié le {at} sur {pool}",
  "settings.recommended": "Recommandé",
  "settings.profile.cabinet": "cabinet",
  "settings.profile.corporate": "entreprise",
  "settings.restart": "redémarrage nécessaire",
  "settings.locked": "verrouillé",
  "settings.locked_note": "Fixé par {env} dans l'environnement de ce pool : retirez-le pour le changer ici.",
  "settings.on": "Activé",
  "settings.off": "Désactivé",
  "settings.save": "Enregistrer",
  "settings.saved": "Enregistré ; envoyé aux pools associés.",
  "settings.boot": "Configuration de démarrage",
  "settings.boot_note":
    "Fixée dans l'environnement du pool (ou par défaut) ; un changement prend effet au prochain redémarrage.",
  "settings.name": "Variable",
  "settings.value": "Valeur",
  "settings.meaning": "Signification",
  "settings.category.access": "Accès",
  "settings.category.federation": "Fédération",
  "settings.category.workers": "Postes et options d'exécution",
  "settings.category.routing": "Routage et profil MoE",
  "settings.category.cluster": "Autres valeurs du cluster",
  "settings.category.rag": "Documents (RAG)",
  "settings.category.system": "Système",
} as const
