// Console progressive enhancement: workspace switcher, confirmations, live events.
(function () {
  "use strict";

  function showMessage(text, kind) {
    var box = document.getElementById("messages");
    if (!box) return;
    var div = document.createElement("div");
    div.className = "message message-" + (kind || "live");
    div.setAttribute("data-live", "1");
    div.textContent = text;
    box.appendChild(div);
  }

  // Notifications: the header badge shows the event's unread count (hidden at 0); a new
  // entry also pops a transient toast. The url is re-checked here: only a path on this
  // site becomes a link (never "javascript:" or "//other.host").
  function applyNotificationEvent(event) {
    var badge = document.getElementById("notification-badge");
    if (badge && typeof event.unread === "number") {
      badge.textContent = String(event.unread);
      badge.hidden = event.unread <= 0;
    }
    if (event.type !== "notification.created") return;
    var box = document.getElementById("toasts");
    if (!box) {
      box = document.createElement("div");
      box.id = "toasts";
      box.className = "toasts";
      box.setAttribute("aria-live", "polite");
      document.body.appendChild(box);
    }
    var toast = document.createElement("div");
    toast.className = "toast";
    toast.setAttribute("data-testid", "notification-toast");
    var url = typeof event.url === "string" ? event.url : "";
    var title = document.createElement(/^\/(?![\/\\])/.test(url) ? "a" : "span");
    if (title.tagName === "A") title.href = url;
    title.textContent = event.title || "New notification";
    toast.appendChild(title);
    box.appendChild(toast);
    setTimeout(function () { toast.remove(); }, 8000);
  }

  // Keep what the page shows in step with events about it.
  function applyEvent(event) {
    if (event.type === "membership.role_changed") {
      document.querySelectorAll('[data-testid="my-role"]').forEach(function (el) {
        if (el.getAttribute("data-workspace") === event.workspace) el.textContent = event.role_label;
      });
    } else if (event.type === "notification.created" || event.type === "notification.read") {
      applyNotificationEvent(event);
    }
  }

  // Fields that matter for one choice only carry data-show-when="name=value[ value…]":
  // their .field shows while the named control of the same form has one of the values and
  // is itself shown (N needs a sample that needs a dataset source). Hidden fields are still
  // sent; the server reads only what the choice needs, so the form works without this.
  function enhanceDependentFields() {
    document.querySelectorAll("form").forEach(function (form) {
      var dependants = form.querySelectorAll("[data-show-when]");
      if (!dependants.length) return;
      function shown(control) {
        var holder = control.closest("[data-show-when]") ? control : null;
        if (!holder) return true;
        var rule = holder.getAttribute("data-show-when").split("=");
        var other = form.elements.namedItem(rule[0]);
        if (!other || !other.tagName) return true;
        return shown(other) && rule[1].split(" ").indexOf(other.value) !== -1;
      }
      function apply() {
        dependants.forEach(function (control) {
          var field = control.closest(".field") || control;
          field.hidden = !shown(control);
        });
      }
      form.addEventListener("change", apply);
      apply();
    });
  }

  function enhanceForms() {
    document.querySelectorAll("[data-check-all]").forEach(function (box) {
      box.addEventListener("change", function () {
        box.closest("table").querySelectorAll('tbody input[type="checkbox"]').forEach(function (b) { b.checked = box.checked; });
      });
    });
    document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  }

  // Tell page scripts about the socket: "labelhub:live" with {kind: "open" (hello),
  // "close", or "message" (replies such as timer.tick)} — they send on window.labelhubSocket.
  function announce(kind, data) {
    document.dispatchEvent(new CustomEvent("labelhub:live", { detail: { kind: kind, data: data } }));
  }

  // Live socket: reconnects with backoff; delivery is at-most-once, so pages that show
  // state refetch after a reconnect (the "open" announcement tells them when).
  function connectLive() {
    var indicator = document.getElementById("live-indicator");
    if (!indicator || !window.WebSocket) return;
    var delay = 1000;
    var me = null;
    function open() {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      var socket = new WebSocket(scheme + window.location.host + indicator.getAttribute("data-ws-url"));
      socket.onopen = function () { delay = 1000; };
      socket.onmessage = function (msg) {
        var data;
        try { data = JSON.parse(msg.data); } catch (e) { return; }
        if (data.type === "hello") {
          me = data.user || null;
          indicator.className = "live live-on";
          indicator.textContent = "Live";
          announce("open", data);
        } else if (data.type === "event" && data.event) {
          // One notice per event: whoever the notification center told (a toast) gets
          // no banner of the same news.
          if (data.event.message && !(me && data.event.notified_user === me)) {
            showMessage(data.event.message, "live");
          }
          applyEvent(data.event);
          document.dispatchEvent(new CustomEvent("labelhub:event", { detail: data.event }));
        } else {
          announce("message", data);
        }
      };
      socket.onclose = function () {
        indicator.className = "live live-off";
        indicator.textContent = "Offline";
        announce("close", null);
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 30000);
      };
      window.labelhubSocket = socket;
    }
    open();
  }

  // Role editor: filter permissions by scope, and lock workspace permissions out of
  // project-scoped roles (the server refuses them too).
  function enhancePermissionPickers() {
    document.querySelectorAll("[data-permission-picker]").forEach(function (picker) {
      var form = picker.closest("form");
      var scopeSelect = form ? form.querySelector('select[name="scope"]') : null;
      var buttons = picker.querySelectorAll("[data-filter]");
      function applyFilter(filter) {
        buttons.forEach(function (b) { b.classList.toggle("on", b.getAttribute("data-filter") === filter); });
        picker.querySelectorAll(".perm").forEach(function (row) {
          row.hidden = filter !== "all" && row.getAttribute("data-scope") !== filter;
        });
      }
      function applyScope() {
        var projectOnly = scopeSelect && scopeSelect.value === "project";
        picker.querySelectorAll('.perm[data-scope="workspace"]').forEach(function (row) {
          var box = row.querySelector('input[type="checkbox"]');
          if (projectOnly) box.checked = false;
          // a permission still to come stays disabled; the value a role already holds
          // (its hidden input) is not sent for a project-scoped role
          if (row.hasAttribute("data-coming")) {
            row.querySelectorAll('input[type="hidden"]').forEach(function (kept) { kept.disabled = projectOnly; });
          } else {
            box.disabled = projectOnly;
          }
          row.classList.toggle("disabled", projectOnly);
        });
      }
      buttons.forEach(function (b) {
        b.addEventListener("click", function () { applyFilter(b.getAttribute("data-filter")); });
      });
      if (scopeSelect) {
        scopeSelect.addEventListener("change", function () {
          applyScope();
          applyFilter(scopeSelect.value === "project" ? "project" : "all");
        });
        applyScope();
      }
    });
  }

  // The Content-Security-Policy allows no style="" attribute, so values only the server
  // knows arrive as data attributes and are set through the CSSOM, which the policy does
  // not restrict: data-colour → --colour (chips, swatches, text entities), data-depth →
  // --depth (indent of ontology tree rows).
  function applyDataStyles(root) {
    root.querySelectorAll("[data-colour]").forEach(function (el) {
      el.style.setProperty("--colour", el.getAttribute("data-colour"));
    });
    root.querySelectorAll("[data-depth]").forEach(function (el) {
      el.style.setProperty("--depth", el.getAttribute("data-depth"));
    });
  }

  // This script is deferred, so the document is already parsed: apply at once.
  applyDataStyles(document);

  document.addEventListener("DOMContentLoaded", function () {
    enhanceForms();
    enhanceDependentFields();
    enhancePermissionPickers();
    connectLive();
  });
})();
