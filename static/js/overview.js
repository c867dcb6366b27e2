// Project overview: keep the status counts and the "Start …" buttons current. On a
// task.changed or queue.changed of this project (and after a reconnect, since events are
// at-most-once) the page re-reads itself and swaps the parts marked data-live-part.
(function () {
  "use strict";

  var marker = document.querySelector("[data-overview-live]");
  if (!marker || !window.fetch || !window.DOMParser) return;
  var project = marker.getAttribute("data-project");
  var pending = null;
  var opened = false;

  function refresh() {
    fetch(window.location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live-part]").forEach(function (part) {
          var next = fresh.getElementById(part.id);
          if (next) part.replaceWith(document.importNode(next, true));
        });
      })
      .catch(function () { /* offline: the next event or reconnect tries again */ });
  }

  function soon() {
    if (pending) clearTimeout(pending);
    pending = setTimeout(refresh, 300);
  }

  document.addEventListener("labelhub:live", function (e) {
    var d = e.detail || {};
    if (d.kind !== "open" || !window.labelhubSocket) return;
    window.labelhubSocket.send(JSON.stringify({ type: "subscribe", group: "project." + project }));
    if (opened) soon();  // events may have been missed while disconnected
    opened = true;
  });
  document.addEventListener("labelhub:event", function (e) {
    var ev = e.detail || {};
    if ((ev.type === "task.changed" || ev.type === "queue.changed") && ev.project === project) soon();
  });
})();
