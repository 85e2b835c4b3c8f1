// werkmatch: small progressive enhancement. Without this script every page still works.
// 1) search-as-you-type for competence and occupation fields (fills the shared <datalist>);
// 2) a "Regel toevoegen" button on list fields that adds an empty row.
(function () {
  "use strict";
  var timers = {};
  function suggest(input) {
    var kind = input.getAttribute("data-taxonomy");
    var list = document.getElementById("dl-" + kind);
    var q = input.value.trim();
    if (!list || q.length < 2) { return; }
    clearTimeout(timers[kind]);
    timers[kind] = setTimeout(function () {
      fetch("/ui/taxonomy/" + kind + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (data) {
          list.replaceChildren();
          (data.items || []).forEach(function (item) {
            var option = document.createElement("option");
            option.value = item.label;
            list.appendChild(option);
          });
        })
        .catch(function () { /* suggestions are optional */ });
    }, 150);
  }
  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.hasAttribute("data-taxonomy")) { suggest(target); }
  });
  document.querySelectorAll("fieldset.list-field").forEach(function (fieldset) {
    var button = fieldset.querySelector(".add-row");
    var rows = fieldset.querySelector(".rows");
    if (!button || !rows) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var last = rows.lastElementChild;
      if (!last) { return; }
      var copy = last.cloneNode(true);
      var n = rows.children.length + 1;
      copy.querySelectorAll("input").forEach(function (input) {
        input.value = "";
        input.id = input.id.replace(/-\d+$/, "-" + n);
      });
      copy.querySelectorAll("label").forEach(function (label) {
        label.htmlFor = label.htmlFor.replace(/-\d+$/, "-" + n);
        label.textContent = label.textContent.replace(/\d+$/, String(n));
      });
      rows.appendChild(copy);
      var first = copy.querySelector("input");
      if (first) { first.focus(); }
    });
  });
})();
