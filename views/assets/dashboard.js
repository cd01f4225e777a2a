// Dashboard behaviour that the CSP forbids inline: confirmation dialogs on forms marked data-confirm.
;(function () {
  document.addEventListener(
    "submit",
    function (ev) {
      var form = ev.target
      if (form && form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
        ev.preventDefault()
        ev.stopPropagation()
      }
    },
    true,
  )
})()
