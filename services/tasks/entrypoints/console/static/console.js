// Progressive enhancement only: every form works without this script.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  // File inputs show the chosen file's name in the page's language (templates/_file_input.html).
  document.querySelectorAll("input.file-input").forEach(function (input) {
    input.addEventListener("change", function () {
      var name = document.getElementById(input.id + "-name");
      name.textContent = input.files && input.files.length ? input.files[0].name : name.getAttribute("data-none");
    });
  });
  // The action form shows the parts that belong to the chosen action (all of them show without JS).
  document.querySelectorAll("[data-action-form]").forEach(function (form) {
    var kind = form.querySelector("#kind");
    var documentSelect = form.querySelector("#document_id");
    function sync() {
      form.querySelectorAll("fieldset[data-kind]").forEach(function (fieldset) {
        fieldset.hidden = fieldset.dataset.kind.split(" ").indexOf(kind.value) === -1;
      });
      var chosen = documentSelect ? documentSelect.value : "";
      form.querySelectorAll("[data-document]").forEach(function (preview) {
        preview.hidden = preview.dataset.document !== chosen;
        preview.open = preview.dataset.document === chosen;
      });
    }
    kind.addEventListener("change", sync);
    if (documentSelect) documentSelect.addEventListener("change", sync);
    sync();
    // "Add a field": a new label + required row, numbered after the last one.
    var add = form.querySelector("[data-add-field]");
    var rows = form.querySelector("[data-field-rows]");
    if (add && rows) {
      add.hidden = false;
      add.addEventListener("click", function () {
        var count = rows.querySelectorAll("[data-field-row]").length;
        var row = rows.querySelector("[data-field-row]").cloneNode(true);
        var text = row.querySelector("input[type=text]");
        var box = row.querySelector("input[type=checkbox]");
        var labels = row.querySelectorAll("label");
        text.id = "field-label-" + count; text.value = "";
        box.id = "field-required-" + count; box.value = String(count); box.checked = true;
        labels[0].htmlFor = text.id; labels[0].textContent = add.dataset.label.replace("{n}", String(count + 1));
        labels[1].htmlFor = box.id;
        rows.appendChild(row);
        text.focus();
      });
    }
  });
  // "Copy" next to a secret or link shown once.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    if (!navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var input = document.getElementById(button.dataset.copy);
      navigator.clipboard.writeText(input.value).then(function () {
        button.textContent = button.dataset.copied;
      });
    });
  });
})();
