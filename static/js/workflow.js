// Workflow tab: keep the task count of each step live. queue.changed carries the counts
// per step; task.changed says one task moved, so the counts are fetched again (debounced).
// Delivery is at-most-once, so every (re)connection fetches them too.
(function () {
  "use strict";

  function init() {
    var root = document.querySelector('[data-testid="workflow"]');
    if (!root) return;
    var project = root.getAttribute("data-project");
    var url = root.getAttribute("data-workflow-url");
    var stale = root.querySelector('[data-testid="workflow-stale"]');
    var known = {};
    root.querySelectorAll("[data-step]").forEach(function (el) { known[el.getAttribute("data-step")] = true; });

    function applyCounts(counts, complete) {
      Object.keys(counts).forEach(function (step) {
        if (!known[step] && counts[step] > 0 && stale) stale.hidden = false;
      });
      document.querySelectorAll("[data-step-count]").forEach(function (el) {
        var step = el.getAttribute("data-step-count");
        // queue.changed lists only the steps that hold tasks: the others hold none
        var n = counts[step] !== undefined ? counts[step] : complete ? 0 : null;
        if (n === null) return;
        el.textContent = String(n);
        var unit = el.nextElementSibling;
        if (unit && unit.hasAttribute("data-unit")) unit.textContent = n === 1 ? "task" : "tasks";
      });
    }

    var timer = null;
    function refetch() {
      if (!url || !window.fetch) return;
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (data) {
            if (!data || !data.steps) return;
            var counts = {};
            var ids = [];
            data.steps.forEach(function (s) { counts[s.id] = s.task_count; ids.push(s.id); });
            if (stale && (ids.length !== Object.keys(known).length || ids.some(function (id) { return !known[id]; }))) {
              stale.hidden = false;
            }
            applyCounts(counts, true);
          })
          .catch(function () {});
      }, 300);
    }

    document.addEventListener("labelhub:event", function (e) {
      var event = e.detail || {};
      if (event.project !== project) return;
      // queue.changed's counts apply at once; the fetch also notices added or removed steps
      if (event.type === "queue.changed" && event.counts) applyCounts(event.counts, true);
      if (event.type === "queue.changed" || event.type === "task.changed") refetch();
    });

    // Join the project's group on each socket console.js opens (it reconnects on its own).
    var group = "project." + project;
    var seen = null;
    function subscribe(socket) {
      socket.addEventListener("message", function (msg) {
        var data;
        try { data = JSON.parse(msg.data); } catch (err) { return; }
        if (data.type === "subscribed" && data.group === group) root.setAttribute("data-live-subscribed", "1");
      });
      socket.addEventListener("close", function () { root.removeAttribute("data-live-subscribed"); });
      socket.send(JSON.stringify({ type: "subscribe", group: group }));
      refetch();
    }
    window.setInterval(function () {
      var socket = window.labelhubSocket;
      if (!socket || socket === seen) return;
      seen = socket;
      if (socket.readyState === 1) subscribe(socket);
      else socket.addEventListener("open", function () { subscribe(socket); });
    }, 250);
  }

  document.addEventListener("DOMContentLoaded", init);
})();
