// views/messages/models-en — the Models page's guidance and probe strings (admin guide §4.9), apart from
// en.ts so the dictionary stays short; spread into it.
export const modelsEN = {
  "guidance.title": "Choosing a model",
  "guidance.intro":
    "Prefer instruct, non-thinking models: they answer directly. Thinking models may show their reasoning; base models may leak special tokens.",
  "guidance.class": "Hardware class",
  "guidance.recommended": "Recommended model",
  "guidance.warn_thinking":
    "{file} looks like a thinking model: answers may show reasoning. Prefer an Instruct variant.",
  "guidance.warn_base": "{file} looks like a base model: not recommended to serve employees directly.",
  "probe.title": "Model probe",
  "probe.never": "Not probed yet. The probe asks three control questions on one worker set apart from traffic.",
  "probe.start": "Start the probe",
  "probe.restart": "Probe again",
  "probe.accept": "Accept this model anyway",
  "probe.accept_confirm": "Accept {file} despite what the probe found? It can then be assigned to the whole fleet.",
  "probe.accepted": "Accepted by {admin} on {at}.",
  "probe.on_worker": "on worker {worker}",
  "probe.status.running": "Probe running…",
  "probe.status.passed": "Passed: the answers look like an instruct model's.",
  "probe.status.flagged": "Flagged: the answers show thinking or base-model behaviour.",
  "probe.status.failed": "The probe could not finish.",
  "probe.flag.think_tags": "<think> tags",
  "probe.flag.numbered_preamble": "numbered analytical preamble",
  "probe.flag.special_tokens": "leaked special tokens",
  "probe.flag.empty_answer": "empty answer",
  "probe.prompt.greeting": "Greeting",
  "probe.prompt.email": "E-mail to a manager",
  "probe.prompt.summary": "Summary",
  "probe.empty": "(empty)",
  "probe.assignable": "This model can be assigned to the fleet.",
  "probe.blocked": "Assignment to the fleet is blocked until the probe passes or an administrator accepts it.",
} as const
