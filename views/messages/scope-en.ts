// views/messages/scope-en — what an administrator scoped to projects sees outside its projects.
export const scopeEn = {
  "scope.title": "Reserved to cluster administrators",
  "scope.body":
    "Your account manages only its projects. Settings, federation, workers, models, licence and audit are for an administrator of the whole cluster.",
  "scope.back": "Go to your projects",
}
