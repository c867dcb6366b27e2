// Dataset page: live progress of background uploads (events go to the uploader's own
// sockets, see console.js).
(function () {
  "use strict";

  document.addEventListener("labelhub:event", function (e) {
    var ev = e.detail;
    if (!ev || ev.type !== "data_row_job.progress") return;
    var row = document.querySelector('[data-job-id="' + ev.job + '"]');
    if (!row) return;
    ["processed", "created", "updated", "error_count"].forEach(function (name) {
      var el = row.querySelector('[data-job-field="' + name + '"]');
      if (el) el.textContent = ev[name];
    });
    var state = row.querySelector('[data-job-field="state"]');
    if (state) {
      state.textContent = ev.state.replace(/_/g, " ").replace(/^./, function (c) { return c.toUpperCase(); });
      state.className = "badge badge-job-" + ev.state;
    }
  });
})();
