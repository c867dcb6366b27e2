// The task page's shell: the server's timer over the live socket, skip / release, the
// review decision, and the helpers the editor (static/js/editor/) sends with
// (`window.LabelHubTask`). Every rule is the server's: this script sends and shows what
// it answers.
(function () {
  "use strict";

  var dataNode = document.getElementById("task-data");
  if (!dataNode) return;
  var data = JSON.parse(dataNode.textContent);
  var BEAT_MS = 5000;
  // Between two ticks the display runs on by itself, at most this far past the last one
  // (the server counts at most 15 s for a gap; its next tick corrects the display).
  var RUN_ON_SECONDS = 10;

  function $(selector) { return document.querySelector(selector); }
  function csrfToken() {
    var input = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  function api(method, path, body, options) {
    return fetch(data.api + path, {
      method: method,
      credentials: "same-origin",
      keepalive: !!(options && options.keepalive),
      headers: {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "X-CSRFToken": csrfToken(),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (response) {
      return response.text().then(function (text) {
        var json = null;
        try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
        return { ok: response.ok, status: response.status, body: json };
      });
    });
  }

  function errorOf(result) {
    var err = result.body && result.body.error;
    return err || { message: "The server answered " + result.status + ".", details: {} };
  }

  var errorBox = $("[data-task-error]");
  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }

  function goNext() { window.location.assign(data.next_url); }

  // --- timer ------------------------------------------------------------------------------

  var timerBox = $("[data-timer]");
  var timerValue = $("[data-timer-value]");
  var warningBox = $("[data-timer-warning]");
  var lostBox = $("[data-connection-lost]");
  var restoredBox = $("[data-connection-restored]");
  var clock = { seconds: data.seconds || 0, at: Date.now(), counting: false, state: "ok" };
  var connected = false;
  var everConnected = false;
  var beatTimer = null;
  var restoredTimer = null;
  var finished = false;

  function shownSeconds() {
    if (!clock.counting || !connected) return clock.seconds;
    var run = Math.min((Date.now() - clock.at) / 1000, RUN_ON_SECONDS);
    return clock.seconds + Math.max(run, 0);
  }

  function format(seconds) {
    var s = Math.floor(seconds);
    var m = Math.floor(s / 60);
    var h = Math.floor(m / 60);
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    return h ? h + ":" + two(m % 60) + ":" + two(s % 60) : m + ":" + two(s % 60);
  }

  var WARNINGS = {
    approaching: "Time is running out: this task is close to its target time",
    exceeded: "This task is over its target time",
    cutoff: "Cutoff reached: submit or skip this task now",
  };

  function render() {
    var seconds = shownSeconds();
    timerValue.textContent = format(seconds);
    timerValue.setAttribute("data-seconds", String(Math.floor(seconds)));
    timerBox.className = "task-timer timer-" + clock.state + (connected && clock.counting ? "" : " timer-paused");
    if (clock.state !== "ok" && WARNINGS[clock.state]) {
      var limit = clock.state === "cutoff" ? clock.cutoff : clock.target;
      warningBox.textContent = WARNINGS[clock.state] + (limit ? " (" + format(limit) + ")." : ".");
      warningBox.className = "message task-notice warning-" + clock.state;
      warningBox.setAttribute("data-state", clock.state);
      warningBox.hidden = false;
    } else {
      warningBox.hidden = true;
    }
  }

  function send(message) {
    var socket = window.labelhubSocket;
    if (!socket || socket.readyState !== 1) return false;
    socket.send(JSON.stringify(message));
    return true;
  }

  function beat() {
    if (finished) return;
    send({
      type: "timer.beat",
      project: data.project,
      data_row: data.data_row,
      mode: data.mode,
      visible: document.visibilityState !== "hidden",
    });
  }

  function startBeating() {
    stopBeating();
    beat();
    beatTimer = setInterval(beat, BEAT_MS);
  }
  function stopBeating() {
    if (beatTimer) clearInterval(beatTimer);
    beatTimer = null;
  }

  function onOpen() {
    var wasLost = everConnected && !connected;
    connected = true;
    everConnected = true;
    send({ type: "subscribe", group: "project." + data.project });
    startBeating();
    lostBox.hidden = true;
    if (wasLost) {
      restoredBox.hidden = false;
      if (restoredTimer) clearTimeout(restoredTimer);
      restoredTimer = setTimeout(function () { restoredBox.hidden = true; }, 6000);
      recheck();
    }
    render();
  }

  function onClose() {
    if (!connected) return;
    // Freeze what is shown: the server stopped counting when the socket closed.
    clock.seconds = shownSeconds();
    clock.counting = false;
    connected = false;
    stopBeating();
    if (!finished) {
      restoredBox.hidden = true;
      lostBox.hidden = false;
    }
    render();
  }

  function onMessage(message) {
    if (!message) return;
    if (message.type === "timer.tick" && message.data_row === data.data_row && message.mode === data.mode) {
      clock.seconds = message.seconds;
      clock.counting = !!message.counting;
      clock.state = message.state || "ok";
      clock.target = message.target;
      clock.cutoff = message.cutoff;
      clock.at = Date.now();
      render();
    } else if (message.type === "error" && message.of === "timer.beat" && message.code === "not_found") {
      // the beat was refused: the reservation is gone (expired, moved on by a manager)
      lostReservation();
    }
  }

  function lostReservation() {
    if (finished) return;
    finished = true;
    stopBeating();
    showError("This task is no longer reserved for you. Get your next task to go on.");
    document.querySelectorAll("[data-action]").forEach(function (b) {
      if (b.getAttribute("data-action") !== "release") b.disabled = true;
    });
  }

  // At-most-once events: after a reconnect, ask the server whether the task is still ours.
  function recheck() {
    api("GET", "").then(function (result) {
      if (result.ok && (!result.body.reservation || result.body.reservation.mode !== data.mode)) {
        lostReservation();
      }
    });
  }

  document.addEventListener("labelhub:live", function (e) {
    var d = e.detail || {};
    if (d.kind === "open") onOpen();
    else if (d.kind === "close") onClose();
    else if (d.kind === "message") onMessage(d.data);
  });
  document.addEventListener("labelhub:event", function (e) {
    var ev = e.detail || {};
    if (ev.type === "task.changed" && ev.data_row === data.data_row && ev.reason) {
      showError("This task was moved (" + ev.reason + "); your reservation may have ended.");
    }
  });
  document.addEventListener("visibilitychange", beat);
  window.addEventListener("pagehide", function () {
    if (finished) return;  // submitted, skipped or reviewed: the session is closed already
    send({ type: "timer.stop", project: data.project, data_row: data.data_row, mode: data.mode });
  });
  setInterval(render, 500);
  render();

  // --- actions ----------------------------------------------------------------------------

  var busy = false;

  function setBusy(on) {
    busy = on;
    document.querySelectorAll("[data-action]").forEach(function (b) { b.disabled = on; });
  }

  function clearErrors() {
    showError("");
    document.querySelectorAll("[data-error-for]").forEach(function (p) { p.hidden = true; p.textContent = ""; });
    document.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
  }

  function fieldError(key, text) {
    var p = document.querySelector('[data-error-for="' + key + '"]');
    if (!p) return false;
    p.textContent = p.textContent ? p.textContent + " " + text : text;
    p.hidden = false;
    var holder = p.closest("fieldset") || p.closest(".field");
    if (holder) holder.classList.add("has-error");
    return true;
  }

  function showDetails(err) {
    var details = err.details || {};
    var unplaced = [];
    Object.keys(details).forEach(function (key) {
      if (!fieldError(key, (details[key] || []).join(" "))) unplaced = unplaced.concat(details[key] || []);
    });
    showError(err.message + (unplaced.length ? " " + unplaced.join(" ") : ""));
  }

  // One request that ends the task (submit, skip, review): a second click while it runs
  // does nothing, success goes to the next task, a failure keeps the page as it was.
  function sendFinal(method, path, body, onError) {
    if (busy || finished) return;
    setBusy(true);
    api(method, path, body).then(function (result) {
      if (result.ok) { finished = true; goNext(); return; }
      setBusy(false);
      (onError || showDetails)(errorOf(result));
    }).catch(function () {
      setBusy(false);
      showError("Sending failed: no connection. Everything is still on the page; try again.");
    });
  }

  function skip() {
    if (busy || finished) return;
    clearErrors();
    var reason = $("#skip-reason");
    sendFinal("POST", "skip/", { reason: reason ? reason.value : "" });
  }

  function openSkip() {
    var box = $("[data-testid=skip]");
    if (!box) return;
    box.open = true;
    var reason = $("#skip-reason");
    if (reason) reason.focus();
  }

  function release() {
    if (busy) return;
    setBusy(true);
    api("POST", "release/").then(function (result) {
      if (result.ok || result.status === 404) {
        finished = true;
        window.location.assign(data.overview_url);
        return;
      }
      setBusy(false);
      showError(errorOf(result).message);
    }).catch(function () { setBusy(false); showError("Releasing failed: no connection."); });
  }

  function decide(decision) {
    if (busy || finished) return;
    clearErrors();
    var reason = $("#review-reason").value;
    var scoreText = $("#review-score").value.trim();
    if (decision === "reject" && !reason.trim()) {
      fieldError("reason", "Say why the label is rejected.");
      return;
    }
    var body = { decision: decision, reason: reason };
    if (scoreText !== "") {
      var score = Number(scoreText);
      if (!/^\d+$/.test(scoreText) || score > 100) {
        fieldError("score", "A score is a whole number from 0 to 100.");
        return;
      }
      body.score = score;
    }
    var edits = Task.reviewEdits && Task.reviewEdits();
    if (edits) Object.assign(body, edits);
    sendFinal("POST", "review/", body);
  }

  document.querySelectorAll("[data-action]").forEach(function (button) {
    button.addEventListener("click", function (e) {
      var action = button.getAttribute("data-action");
      if (action === "submit") return;  // the form's submit event handles it
      if (action === "skip") { e.preventDefault(); skip(); }
      else if (action === "release") { e.preventDefault(); release(); }
      else if (action === "approve" || action === "reject") { e.preventDefault(); decide(action); }
    });
  });
  var skipReason = $("#skip-reason");
  if (skipReason) {
    skipReason.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); skip(); }
    });
  }
  var reviewForm = $("[data-review-form]");
  if (reviewForm) reviewForm.addEventListener("submit", function (e) { e.preventDefault(); });

  var noticeBox = $("[data-editor-notice]");
  var noticeTimer = null;
  function notice(text) {
    if (!noticeBox) return;
    noticeBox.textContent = text;
    noticeBox.hidden = false;
    if (noticeTimer) clearTimeout(noticeTimer);
    noticeTimer = setTimeout(function () { noticeBox.hidden = true; }, 6000);
  }

  var Task = window.LabelHubTask = {
    data: data,
    api: api,
    errorOf: errorOf,
    showError: showError,
    clearErrors: clearErrors,
    fieldError: fieldError,
    notice: notice,
    send: sendFinal,
    openSkip: openSkip,
    busy: function () { return busy; },
    finished: function () { return finished; },
    reviewEdits: null,
  };
})();
