// Signing by drawing, with the signature_pad library. Progressive enhancement: without this script (or without the
// library) the sign page offers typing and uploading only, and still works. The drawing is sent as a PNG data URL in
// a hidden field; the server checks it like any other signature image (an empty drawing is refused there).
(function () {
  "use strict";

  var form = document.querySelector("form[data-sign-form]");
  if (!form || typeof window.SignaturePad !== "function") {
    return;
  }
  var group = form.querySelector("[data-signature]");
  var canvas = form.querySelector("#signature-pad");
  var drawing = form.querySelector("#signature_drawn");
  var status = form.querySelector("#signature-pad-status");
  var radios = form.querySelectorAll('input[name="signature_kind"]');
  var panels = form.querySelectorAll("[data-signature-panel]");

  var pad = new window.SignaturePad(canvas, { penColor: "rgb(18, 32, 96)", minWidth: 1, maxWidth: 3 });
  var size = { width: 0, height: 0, ratio: 0 };
  // A drawing shown again after another field's error goes back onto the canvas once the canvas has a size.
  var restore = drawing.value;

  function chosen() {
    for (var i = 0; i < radios.length; i++) {
      if (radios[i].checked) {
        return radios[i].value;
      }
    }
    return "";
  }

  // The canvas's bitmap follows its CSS size times the device pixel ratio, so strokes stay sharp on phones.
  // Resizing a canvas wipes it; redraw() puts the strokes back. Only real size changes count: a phone's toolbar
  // sliding in and out fires resize events without changing the canvas.
  function fit() {
    var width = canvas.offsetWidth;
    var height = canvas.offsetHeight;
    var ratio = Math.max(window.devicePixelRatio || 1, 1);
    if (!width || !height) {
      return; // hidden: fit again when shown
    }
    if (width === size.width && height === size.height && ratio === size.ratio) {
      return;
    }
    size = { width: width, height: height, ratio: ratio };
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.getContext("2d").scale(ratio, ratio);
    pad.redraw();
    if (restore) {
      pad.fromDataURL(restore).catch(function () {
        pad.clear(); // unreadable: better an empty box than one that only looks signed
      });
      restore = "";
    }
  }

  function show() {
    var kind = chosen();
    for (var i = 0; i < panels.length; i++) {
      panels[i].hidden = panels[i].getAttribute("data-signature-panel") !== kind;
    }
    fit();
  }

  form.querySelector('[data-signature-choice="drawn"]').hidden = false;
  // Drawing is the default where it can work, unless the signer already chose (in a submission shown again) or
  // began typing or choosing a file before this script ran.
  if (!group.hasAttribute("data-chosen") && !form.querySelector("#typed_name").value &&
      !form.querySelector("#signature_file").value) {
    form.querySelector("#kind-drawn").checked = true;
  }
  for (var i = 0; i < radios.length; i++) {
    radios[i].addEventListener("change", show);
  }

  form.querySelector("#signature-clear").addEventListener("click", function () {
    pad.clear();
    drawing.value = "";
    status.textContent = status.getAttribute("data-cleared");
  });
  pad.addEventListener("beginStroke", function () {
    status.textContent = "";
  });

  form.addEventListener("submit", function () {
    drawing.value = chosen() === "drawn" && !pad.isEmpty() ? pad.toDataURL("image/png") : "";
  });

  if (typeof window.ResizeObserver === "function") {
    new window.ResizeObserver(fit).observe(canvas);
  } else {
    window.addEventListener("resize", fit);
  }
  show();
})();
