// The wizard in the browser: keeps what the admin typed in localStorage (never passwords, never files)
// and restores it after a refresh; adds site rows. The server keeps the saved steps too.
;(function () {
  var KEY = "cellule.setup.v1"
  function load() {
    try {
      return JSON.parse(localStorage.getItem(KEY) || "{}") || {}
    } catch (_e) {
      return {}
    }
  }
  function save(all) {
    try {
      localStorage.setItem(KEY, JSON.stringify(all))
    } catch (_e) {}
  }
  function persistable(input) {
    return (
      input.name &&
      input.type !== "password" &&
      input.type !== "file" &&
      input.type !== "hidden" &&
      input.type !== "submit" &&
      !/password|_csrf/.test(input.name)
    )
  }
  function snapshot(form) {
    var out = {}
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!persistable(el)) return
      if (el.type === "radio") {
        if (el.checked) out[el.name] = el.value
        return
      }
      if (el.type === "checkbox") {
        out[el.name] = out[el.name] || []
        if (el.checked) out[el.name].push(el.value)
        return
      }
      if (el.name === "site_name" || el.name === "site_headcount") {
        out[el.name] = out[el.name] || []
        out[el.name].push(el.value)
        return
      }
      out[el.name] = el.value
    })
    return out
  }
  function store(form) {
    var all = load()
    all[form.dataset.step] = snapshot(form)
    // Belt and braces: a password never reaches storage, whatever the form looks like.
    Object.keys(all).forEach(function (s) {
      Object.keys(all[s] || {}).forEach(function (k) {
        if (/password/.test(k)) delete all[s][k]
      })
    })
    save(all)
  }
  function addSiteRow(form) {
    var rows = form.querySelectorAll("[data-site-row]")
    var last = rows[rows.length - 1]
    var copy = last.cloneNode(true)
    Array.prototype.forEach.call(copy.querySelectorAll("input"), function (i) {
      i.value = ""
    })
    Array.prototype.forEach.call(copy.querySelectorAll(".error"), function (e) {
      e.remove()
    })
    last.parentNode.appendChild(copy)
    return copy
  }
  function restore(form) {
    var saved = load()[form.dataset.step]
    if (!saved) return
    if (form.dataset.step === "topology" && Array.isArray(saved.site_name)) {
      while (form.querySelectorAll("[data-site-row]").length < saved.site_name.length) addSiteRow(form)
      var names = form.querySelectorAll("input[name=site_name]")
      var counts = form.querySelectorAll("input[name=site_headcount]")
      saved.site_name.forEach(function (v, i) {
        if (names[i] && !names[i].value) names[i].value = v
      })
      ;(saved.site_headcount || []).forEach(function (v, i) {
        if (counts[i] && !counts[i].value) counts[i].value = v
      })
    }
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!persistable(el) || !(el.name in saved) || el.name === "site_name" || el.name === "site_headcount") return
      var v = saved[el.name]
      if (el.type === "checkbox") el.checked = Array.isArray(v) && v.indexOf(el.value) >= 0
      else if (el.type === "radio") el.checked = el.value === v
      else if (el.tagName === "SELECT" || !el.value) el.value = v
    })
    if (form.querySelector("[data-license-token]"))
      form.querySelector("[data-license-token]").dispatchEvent(new Event("input"))
  }
  // The HA network step: only the fieldset of the chosen mode is shown (without JavaScript, all are).
  function showVipMode(form) {
    var chosen = form.querySelector("input[name=vip_mode]:checked")
    Array.prototype.forEach.call(form.querySelectorAll("[data-vip-mode]"), function (f) {
      f.hidden = !chosen || f.dataset.vipMode !== chosen.value
    })
  }
  function wire() {
    var form = document.querySelector("form.wizard-form")
    if (!form || form.dataset.wired) return
    form.dataset.wired = "1"
    restore(form)
    showVipMode(form)
    form.addEventListener("input", function () {
      store(form)
    })
    form.addEventListener("change", function () {
      store(form)
      showVipMode(form)
    })
    var add = form.querySelector("[data-add-site]")
    if (add)
      add.addEventListener("click", function () {
        addSiteRow(form).querySelector("input").focus()
      })
  }
  // A JSON error (409 after completion, 403 without the wizard's cookie, 5xx) is shown as a message
  // above the form instead of being swapped in as raw JSON.
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var xhr = ev.detail.xhr
    if (!/json/.test(xhr.getResponseHeader("content-type") || "")) return
    ev.detail.shouldSwap = false
    var message = xhr.statusText
    try {
      message = JSON.parse(xhr.responseText).message || message
    } catch (_e) {}
    var box = document.getElementById("wizard-error")
    if (!box) {
      box = document.createElement("p")
      box.id = "wizard-error"
      box.className = "flash bad"
      box.setAttribute("role", "alert")
      var wizard = document.getElementById("wizard")
      wizard.insertBefore(box, wizard.firstChild)
    }
    box.textContent = message
  })
  document.addEventListener("DOMContentLoaded", wire)
  document.addEventListener("htmx:afterSwap", wire)
})()
