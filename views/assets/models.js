// Models page: streams the chosen GGUF as the raw request body to POST /v1/admin/models with
// XMLHttpRequest, so a progress bar follows the bytes (the CSP forbids inline scripts). The session
// cookie and the CSRF header authenticate the administrator; the page reloads with the new entry.
;(function () {
  function wire() {
    var form = document.getElementById("model-upload-form")
    if (!form || form.dataset.wired) return
    form.dataset.wired = "1"
    var bar = document.getElementById("model-upload-progress")
    var pct = document.getElementById("model-upload-pct")
    var msg = document.getElementById("model-upload-msg")
    var button = document.getElementById("model-upload-button")
    function show(p) {
      bar.hidden = false
      bar.value = p
      bar.dataset.percent = String(p)
      pct.textContent = p + " %"
    }
    function fail(text) {
      button.disabled = false
      bar.dataset.state = "failed"
      msg.textContent = form.dataset.failed + (text ? " (" + text + ")" : "")
      msg.className = "flash bad"
    }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault()
      var input = form.querySelector('input[type="file"]')
      if (!input.files.length) {
        msg.textContent = form.dataset.nofile
        msg.className = "error"
        return
      }
      var file = input.files[0]
      var csrf = form.querySelector('input[name="_csrf"]')
      var xhr = new XMLHttpRequest()
      xhr.open("POST", form.dataset.api + "?file_name=" + encodeURIComponent(file.name))
      xhr.setRequestHeader("content-type", "application/octet-stream")
      if (csrf) xhr.setRequestHeader("x-csrf-token", csrf.value)
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) show(Math.floor((100 * e.loaded) / e.total))
      })
      xhr.addEventListener("load", function () {
        if (xhr.status === 201 || xhr.status === 200) {
          show(100)
          bar.dataset.state = "done"
          msg.textContent = xhr.status === 201 ? form.dataset.done : form.dataset.duplicate
          msg.className = "flash"
          setTimeout(function () {
            window.location.reload()
          }, 800)
          return
        }
        var text = xhr.status + ""
        try {
          var body = JSON.parse(xhr.responseText)
          text = body.error + ": " + body.message
        } catch (_) {}
        fail(text)
      })
      xhr.addEventListener("error", function () {
        fail("")
      })
      button.disabled = true
      bar.dataset.state = "sending"
      msg.textContent = ""
      show(0)
      xhr.send(file)
    })
  }
  document.addEventListener("DOMContentLoaded", wire)
})()
