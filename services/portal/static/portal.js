// Every page: after a submit, an error or a confirmation the page opens with focus on its summary or message
// (marked data-focus), so a screen reader reads it first and the keyboard starts there; file inputs show the
// chosen file's name in the page's language (templates/_file_input.html).
(function () {
  "use strict";

  document.documentElement.classList.add("js");
  var first = document.querySelector("[data-focus]");
  if (first) {
    first.focus();
  }
  var inputs = document.querySelectorAll("input.file-input");
  for (var i = 0; i < inputs.length; i++) {
    inputs[i].addEventListener("change", function (event) {
      var input = event.target;
      var name = document.getElementById(input.id + "-name");
      name.textContent = input.files && input.files.length ? input.files[0].name : name.getAttribute("data-none");
    });
  }
})();
