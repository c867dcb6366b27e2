// Data rows tab: confirm destructive bulk actions, keep Enter from submitting the wrong
// one, and keep each row's step, status and time spent live. task.changed names the row
// and its new step and status; queue.changed (bulk actions, workflow edits) only says the
// counts moved, so the page is fetched again and the rows shown are updated from it.
(function () {
  "use strict";

  function readJson(id) {
    var el = document.getElementById(id);
    if (!el) return {};
    try { return JSON.parse(el.textContent); } catch (e) { return {}; }
  }

  function flash(row) {
    row.classList.remove("row-flash");
    void row.offsetWidth; // restart the animation
    row.classList.add("row-flash");
  }

  function init() {
    var form = document.querySelector('[data-testid="bulk-form"]');
    if (!form) return;
    var project = form.getAttribute("data-project");
    var stepNames = readJson("data-rows-step-names");
    var statusNames = readJson("data-rows-status-names");

    form.querySelectorAll("button[data-confirm]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
    form.querySelectorAll(".bulk-actions input").forEach(function (input) {
      input.addEventListener("keydown", function (event) {
        if (event.key === "Enter") event.preventDefault();
      });
    });

    function rowOf(id) {
      return form.querySelector('tr[data-row="' + (window.CSS && CSS.escape ? CSS.escape(id) : id) + '"]');
    }

    function setBadge(cell, text) {
      var badge = cell.querySelector(".badge");
      if (badge) badge.textContent = text;
    }

    var timer = null;
    function refetch() {
      if (!window.fetch || !window.DOMParser) return;
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        fetch(window.location.pathname + window.location.search, { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) {
            if (!html) return;
            var doc = new DOMParser().parseFromString(html, "text/html");
            doc.querySelectorAll("tr[data-row]").forEach(function (fresh) {
              var row = rowOf(fresh.getAttribute("data-row"));
              if (!row) return;
              var changed = false;
              ["step", "status", "time"].forEach(function (name) {
                var now = row.querySelector('[data-cell="' + name + '"]');
                var next = fresh.querySelector('[data-cell="' + name + '"]');
                if (now && next && now.innerHTML !== next.innerHTML) {
                  now.innerHTML = next.innerHTML;
                  changed = true;
                }
              });
              if (changed) flash(row);
            });
          })
          .catch(function () {});
      }, 300);
    }

    document.addEventListener("labelhub:event", function (e) {
      var event = e.detail || {};
      if (event.project !== project) return;
      if (event.type === "task.changed") {
        var row = rowOf(String(event.data_row));
        if (!row) return;
        var step = row.querySelector('[data-cell="step"]');
        var status = row.querySelector('[data-cell="status"]');
        if (step && event.step && stepNames[event.step]) step.textContent = stepNames[event.step];
        if (status && event.status) setBadge(status, statusNames[event.status] || event.status);
        row.setAttribute("data-status", event.status || "");
        flash(row);
        refetch(); // time spent and step names the event does not carry
      } else if (event.type === "queue.changed") {
        refetch();
      }
    });

    // Join the project's group on each socket console.js opens (it reconnects on its own);
    // events may have been missed meanwhile, so fetch the rows again on each.
    var group = "project." + project;
    var seen = null;
    var first = true;
    function subscribe(socket) {
      socket.addEventListener("message", function (msg) {
        var data;
        try { data = JSON.parse(msg.data); } catch (err) { return; }
        if (data.type === "subscribed" && data.group === group) form.setAttribute("data-live-subscribed", "1");
      });
      socket.addEventListener("close", function () { form.removeAttribute("data-live-subscribed"); });
      socket.send(JSON.stringify({ type: "subscribe", group: group }));
      if (!first) refetch();
      first = false;
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
