// views/messages/scope-fr — ce que voit hors de ses projets un administrateur limité à des projets.
export const scopeFr = {
  "scope.title": "Réservé aux administrateurs du cluster",
  "scope.body":
    "Votre compte ne gère que ses projets. Les réglages, la fédération, les workers, les modèles, la licence et l'audit relèvent d'un administrateur de tout le cluster.",
  "scope.back": "Aller à vos projets",
}
