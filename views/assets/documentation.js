// The Documentation page's search box: filters the sections as you type (the form's GET ?q= does the
// same on the server without JavaScript). Words are matched without accents, every word must appear.
;(() => {
  const input = document.getElementById("doc-q")
  const sections = Array.from(document.querySelectorAll(".doc-section"))
  if (!input || sections.length === 0) return
  const fold = (s) =>
    s
      .normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
  input.addEventListener("input", () => {
    const words = fold(input.value).split(/\s+/).filter(Boolean)
    for (const s of sections) {
      const hay = s.getAttribute("data-search") || ""
      s.hidden = !words.every((w) => hay.includes(w))
    }
  })
})()
