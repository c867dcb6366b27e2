// Import labels pages: live progress of import jobs, copy buttons of the code samples.
(function () {
  "use strict";

  var COUNTS = ["processed", "total", "lines_read", "lines_valid", "lines_invalid", "lines_written", "warnings"];

  function readJson(id, fallback) {
    var el = document.getElementById(id);
    if (!el) return fallback;
    try { return JSON.parse(el.textContent); } catch (e) { return fallback; }
  }

  var stateLabels = readJson("import-state-labels", {});
  var finalStates = readJson("import-final-states", []);

  function isFinal(state) { return finalStates.indexOf(state) !== -1; }

  // Show one job's state and counters wherever the page lists that job.
  function applyJob(root, job) {
    var holders = root.querySelectorAll('[data-import-job="' + job.job + '"]');
    if (root.getAttribute && root.getAttribute("data-import-job") === job.job) holders = [root];
    Array.prototype.forEach.call(holders, function (holder) {
      COUNTS.forEach(function (name) {
        if (job[name] === undefined || job[name] === null) return;
        holder.querySelectorAll('[data-job-field="' + name + '"]').forEach(function (el) {
          el.textContent = job[name];
        });
      });
      holder.querySelectorAll('[data-job-field="state"]').forEach(function (el) {
        el.textContent = stateLabels[job.state] || job.state;
        el.className = "badge badge-job-" + job.state;
      });
      holder.querySelectorAll('progress[data-job-field="progress"]').forEach(function (bar) {
        if (typeof job.total === "number") bar.max = Math.max(job.total, 1);
        if (typeof job.processed === "number") bar.value = job.processed;
      });
      if (job.message) {
        holder.querySelectorAll('[data-job-field="message"]').forEach(function (el) {
          el.textContent = job.message;
          var box = el.closest("[hidden]");
          if (box) box.hidden = false;
        });
      }
    });
  }

  function init() {
    var root = document.querySelector("[data-import-live]");
    if (!root) return;
    var project = root.getAttribute("data-project");
    var jobUrl = root.getAttribute("data-job-url");
    var jobsUrl = root.getAttribute("data-jobs-url");
    var initialState = root.getAttribute("data-initial-state");
    var reloading = false;
    // A refetch answered after a newer live event must not roll that job back: count
    // events, and drop a job's API snapshot if an event about it came after the request.
    var clock = 0;
    var eventAt = {};
    var latest = {};

    // The list gains the jobs it does not show yet (started in another tab, by a script
    // or by someone else): the page is read again and its new rows go on top. Only the
    // first page shows the newest jobs, so later pages are left alone.
    var listBody = jobUrl ? null : root.querySelector("tbody");
    var firstPage = !/[?&]page=(?!1(&|$))/.test(window.location.search);
    var pending = null;
    function holderOf(id) {
      return listBody.querySelector('tr[data-import-job="' + (window.CSS && CSS.escape ? CSS.escape(id) : id) + '"]');
    }
    function addNewRows() {
      if (!listBody || !firstPage || !window.fetch || !window.DOMParser) return;
      window.clearTimeout(pending);
      pending = window.setTimeout(function () {
        var sent = clock;
        fetch(window.location.pathname + window.location.search, { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) {
            if (!html) return;
            var doc = new DOMParser().parseFromString(html, "text/html");
            var fresh = doc.querySelectorAll("[data-import-live] tbody tr[data-import-job]");
            var anchor = listBody.firstElementChild;
            Array.prototype.forEach.call(fresh, function (row) {
              var id = row.getAttribute("data-import-job");
              if (holderOf(id)) return;
              var added = document.importNode(row, true);
              listBody.insertBefore(added, anchor);
              // an event that came while the page was read is newer than its row
              if ((eventAt[id] || 0) > sent && latest[id]) applyJob(added, latest[id]);
            });
            Array.prototype.forEach.call(listBody.querySelectorAll("tr:not([data-import-job])"), function (row) {
              if (listBody.querySelector("tr[data-import-job]")) row.remove();
            });
          })
          .catch(function () {});
      }, 150);
    }

    function handle(job) {
      if (!job || job.project !== project) return;
      if (listBody && !holderOf(job.job)) addNewRows();
      applyJob(root, job);
      // The job page shows the error table once the import ends: reload once, then.
      if (jobUrl && !reloading && initialState && !isFinal(initialState) &&
          job.job === root.getAttribute("data-import-job") && isFinal(job.state)) {
        reloading = true;
        window.setTimeout(function () { window.location.reload(); }, 400);
      }
    }

    document.addEventListener("labelhub:event", function (e) {
      var ev = e.detail;
      if (ev && (ev.type === "import_job.progress" || ev.type === "import_job.created")) {
        eventAt[ev.job] = ++clock;
        latest[ev.job] = ev;
        handle(ev);
      }
    });

    // Events are at-most-once: after every (re)connect read the state from the API.
    function fromApi(job) {
      return {
        job: String(job.id), project: String(job.project), state: job.state, total: job.total,
        processed: job.processed, lines_read: job.lines_read, lines_valid: job.lines_valid,
        lines_invalid: job.lines_invalid, lines_written: job.lines_written,
        warnings: job.warnings, message: job.message
      };
    }
    function refetch() {
      var url = jobUrl || jobsUrl;
      if (!url || !window.fetch) return;
      var sent = clock;
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return;
          (data.results || [data]).forEach(function (job) {
            if ((eventAt[String(job.id)] || 0) <= sent) handle(fromApi(job));
          });
        })
        .catch(function () {});
    }

    // Join the project's group on each socket console.js opens (it reconnects on its own).
    var seen = null;
    var group = "project." + project;
    function subscribe(socket) {
      socket.addEventListener("message", function (msg) {
        var data;
        try { data = JSON.parse(msg.data); } catch (e) { return; }
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

  function initCopy() {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var source = document.getElementById(button.getAttribute("data-copy"));
        if (!source) return;
        var text = source.textContent;
        function done() {
          button.textContent = "Copied";
          window.setTimeout(function () { button.textContent = "Copy"; }, 1500);
        }
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done, function () { fallback(); });
        } else {
          fallback();
        }
        function fallback() {
          var area = document.createElement("textarea");
          area.value = text;
          area.setAttribute("readonly", "");
          area.style.position = "fixed";
          area.style.opacity = "0";
          document.body.appendChild(area);
          area.select();
          try { document.execCommand("copy"); done(); } catch (e) { /* select by hand */ }
          document.body.removeChild(area);
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    init();
    initCopy();
  });
})();
