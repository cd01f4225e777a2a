// Projects page: uploads a document to the documents API with XMLHttpRequest so that a progress bar
// follows the bytes (the CSP forbids inline scripts). The session cookie and the CSRF header
// authenticate the administrator there; the documents list is then refreshed at once.
;(function () {
  function wire() {
    var form = document.getElementById("upload-form")
    if (!form || form.dataset.wired) return
    form.dataset.wired = "1"
    var bar = document.getElementById("upload-progress")
    var pct = document.getElementById("upload-pct")
    var msg = document.getElementById("upload-msg")
    var button = document.getElementById("upload-button")
    function show(p) {
      bar.hidden = false
      bar.value = p
      bar.dataset.percent = String(p)
      pct.textContent = p + " %"
    }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault()
      var file = form.querySelector('input[type="file"]')
      if (!file.files.length) {
        msg.textContent = form.dataset.nofile
        msg.className = "error"
        return
      }
      var csrf = form.querySelector('input[name="_csrf"]')
      var xhr = new XMLHttpRequest()
      xhr.open("POST", form.dataset.api)
      if (csrf) xhr.setRequestHeader("x-csrf-token", csrf.value)
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) show(Math.floor((100 * e.loaded) / e.total))
      })
      xhr.addEventListener("load", function () {
        button.disabled = false
        if (xhr.status === 202) {
          show(100)
          bar.dataset.state = "done"
          msg.textContent = form.dataset.done
          msg.className = "flash"
          form.reset()
          var live = document.getElementById("documents-live")
          if (live && window.htmx) window.htmx.trigger(live, "refresh")
          return
        }
        var text = xhr.status + ""
        try {
          var body = JSON.parse(xhr.responseText)
          text = body.error + ": " + body.message
        } catch (_) {}
        bar.dataset.state = "failed"
        msg.textContent = form.dataset.failed + " (" + text + ")"
        msg.className = "flash bad"
      })
      xhr.addEventListener("error", function () {
        button.disabled = false
        bar.dataset.state = "failed"
        msg.textContent = form.dataset.failed
        msg.className = "flash bad"
      })
      button.disabled = true
      bar.dataset.state = "sending"
      msg.textContent = ""
      show(0)
      xhr.send(new FormData(form))
    })
  }
  document.addEventListener("DOMContentLoaded", wire)
})()
