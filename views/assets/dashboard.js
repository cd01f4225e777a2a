// Dashboard behaviour that the CSP forbids inline: confirmation dialogs on forms marked data-confirm,
// and live regions: an element with data-sse="URL" gets its content pushed over Server-Sent Events;
// while the stream is up, its HTMX polling (the fallback) is switched off.
;(function () {
  document.addEventListener(
    "submit",
    function (ev) {
      var form = ev.target
      if (form?.dataset?.confirm && !window.confirm(form.dataset.confirm)) {
        ev.preventDefault()
        ev.stopPropagation()
      }
    },
    true,
  )

  function live(el) {
    if (!window.EventSource || el.dataset.sseWired) return
    el.dataset.sseWired = "1"
    var source = new EventSource(el.dataset.sse)
    var target = el
    source.onopen = function () {
      if (target !== el || !target.hasAttribute("hx-trigger")) return
      // Replacing the element stops HTMX's polling timer (it belongs to the removed node).
      var fresh = el.cloneNode(true)
      fresh.removeAttribute("hx-get")
      fresh.removeAttribute("hx-trigger")
      el.replaceWith(fresh)
      target = fresh
      target.dataset.live = "sse"
    }
    source.onmessage = function (ev) {
      target.innerHTML = ev.data
      if (window.htmx) window.htmx.process(target)
    }
    window.addEventListener("beforeunload", function () {
      source.close()
    })
  }

  function wire() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-sse]"), live)
  }
  document.addEventListener("DOMContentLoaded", wire)
})()
