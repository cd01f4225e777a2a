// views/messages/settings-fr — the Advanced settings page (/settings); spread into fr.ts, which
// would pass 400 lines.
export const settingsFr = {
  "settings.title": "Paramètres avancés",
  "settings.intro":
    "Tous les réglages du cluster, par catégorie. Ceux du haut changent pendant que les pools tournent ; le tableau du bas est la configuration de démarrage de ce pool.",
  "settings.gossip_note":
    "Un changement fait sur le maître est signé et envoyé à chaque pool associé de confiance en quelques secondes ; une valeur n'est remplacée que par un changement plus récent.",
  "settings.source": "Origine",
  "settings.source.default": "par défaut",
  "settings.source.environment": "environnement",
  "settings.source.admin": "administrateur",
  "settings.last_change": "modifié le {at} sur {pool}",
  "settings.recommended": "Recommandé",
  "settings.profile.cabinet": "cabinet",
  "settings.profile.corporate": "entreprise",
  "settings.recommended_here": "Recommandé pour votre secteur ({sector}, {profile})",
  "settings.satellite": "Ce pool est un satellite.",
  "settings.satellite_note":
    "Les réglages du cluster se changent sur le maître du catalogue, qui envoie chaque changement ici par diffusion signée en quelques secondes. Changez-les sur le maître :",
  "settings.satellite_field": "Lecture seule ici : changez-le sur le pool maître.",
  "settings.master_note":
    "Ce pool reçoit les changements de réglages (il est le maître du catalogue, ou associé à aucun autre pool) ; les satellites associés les reçoivent par diffusion signée.",
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
