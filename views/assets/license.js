// Licence preview, in the browser, before upload: decodes the JWT payload (base64url JSON) and shows
// tier, client, expiry, features and limits. Nothing is verified here: the pool verifies the signature.
;(function () {
  function b64urlDecode(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/")
    while (s.length % 4) s += "="
    var bin = atob(s)
    var bytes = new Uint8Array(bin.length)
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i)
    return new TextDecoder().decode(bytes)
  }
  function decode(token) {
    var parts = token.trim().split(".")
    if (parts.length !== 3) return null
    try {
      var header = JSON.parse(b64urlDecode(parts[0]))
      var payload = JSON.parse(b64urlDecode(parts[1]))
      if (header?.alg !== "EdDSA" || !payload || typeof payload !== "object") return null
      return payload
    } catch (_e) {
      return null
    }
  }
  function el(tag, text) {
    var e = document.createElement(tag)
    if (text !== undefined) e.textContent = text
    return e
  }
  function render(box, token) {
    box.textContent = ""
    if (!token.trim()) {
      box.hidden = true
      return
    }
    box.hidden = false
    var p = decode(token)
    if (!p) {
      box.appendChild(el("p", box.dataset.labelInvalid)).className = "error"
      box.dataset.valid = "false"
      return
    }
    box.dataset.valid = "true"
    box.appendChild(el("strong", box.dataset.labelTitle))
    var dl = el("dl")
    var limits =
      p.limits && typeof p.limits === "object"
        ? Object.keys(p.limits)
            .map(function (k) {
              return k + "=" + p.limits[k]
            })
            .join(", ")
        : ""
    var rows = [
      ["tier", box.dataset.labelTier, String(p.tier || "—")],
      ["client", box.dataset.labelClient, String(p.client_id || "—")],
      [
        "expires",
        box.dataset.labelExpires,
        typeof p.exp === "number" ? new Date(p.exp * 1000).toISOString().slice(0, 10) : "—",
      ],
      [
        "features",
        box.dataset.labelFeatures,
        Array.isArray(p.features) && p.features.length ? p.features.join(", ") : "—",
      ],
      ["limits", box.dataset.labelLimits, limits || "—"],
    ]
    rows.forEach(function (r) {
      dl.appendChild(el("dt", r[1]))
      var dd = el("dd", r[2])
      dd.dataset.field = r[0]
      dl.appendChild(dd)
    })
    box.appendChild(dl)
  }
  function wire(root) {
    var area = root.querySelector("[data-license-token]")
    var box = root.querySelector("#license-preview")
    if (!area || !box || area.dataset.wired) return
    area.dataset.wired = "1"
    area.addEventListener("input", function () {
      render(box, area.value)
    })
    var file = root.querySelector("[data-license-file]")
    if (file)
      file.addEventListener("change", function () {
        var f = file.files?.[0]
        if (!f) return
        f.text().then(function (text) {
          area.value = text.trim()
          render(box, area.value)
        })
      })
    if (area.value.trim()) render(box, area.value)
  }
  document.addEventListener("DOMContentLoaded", function () {
    wire(document)
  })
  document.addEventListener("htmx:afterSwap", function () {
    wire(document)
  })
})()
