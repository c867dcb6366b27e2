// Data row page: fit the annotation overlay to the image once it tells its natural size,
// and fall back to a neutral placeholder when the image cannot be loaded (offline demo
// data, an expired URL). The overlay is drawn by the server; this only adjusts it.
(function () {
  "use strict";

  function fitPoints(svg, width, height) {
    var radius = Math.max(width, height) / 100;
    svg.querySelectorAll("circle.shape").forEach(function (c) {
      c.setAttribute("r", String(Math.round(radius * 100) / 100));
    });
  }

  function enhance(asset) {
    var img = asset.querySelector("[data-asset-image]");
    var svg = asset.querySelector("[data-overlay]");
    var note = asset.parentNode.querySelector("[data-asset-note]");
    if (!img || !svg) return;

    function loaded() {
      var w = img.naturalWidth, h = img.naturalHeight;
      if (!w || !h) return failed();
      svg.setAttribute("viewBox", "0 0 " + w + " " + h);
      fitPoints(svg, w, h);
      asset.classList.remove("asset-missing", "asset-size-unknown");
      asset.classList.add("asset-loaded");
      if (note) note.hidden = true;
    }

    function failed() {
      asset.classList.remove("asset-loaded");
      asset.classList.add("asset-missing");
      if (note) note.hidden = false;
    }

    img.addEventListener("load", loaded);
    img.addEventListener("error", failed);
    // The image may have settled before this deferred script ran.
    if (img.complete) {
      if (img.naturalWidth) loaded();
      else failed();
    }
  }

  document.querySelectorAll("[data-asset]").forEach(enhance);
})();
