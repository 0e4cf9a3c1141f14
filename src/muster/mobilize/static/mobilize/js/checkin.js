/* The mobile check-in page (no inline scripts: the Content-Security-Policy forbids them).
 *
 * Without JavaScript the form posts a key the server generated, and works as a plain form. With it:
 * - each check-in/out gets a fresh idempotency key from crypto.randomUUID() and the phone's time;
 * - it is stored in localStorage first (with the opaque id of the login it belongs to), then sent; a
 *   retry sends the same key, so the server never records it twice;
 * - when the phone is offline the check stays stored and the page shows it as waiting to sync; the next
 *   check (a check-out after a pending check-in) can be made and is stored after it;
 * - stored checks are sent oldest first, one after the other (an "out" follows its "in"), when the
 *   network is back (the "online" event) or the next time a Muster page with this script opens; a
 *   check of another login is never sent from this one;
 * - the page itself opens without network through the service worker (/sw.js), which keeps the check-in
 *   pages of the volunteer's upcoming shifts; such a saved copy says so.
 */
(function () {
  "use strict";

  var STORE = "muster.mobilize.pendingChecks";
  var page = document.getElementById("checkin-page");
  var form = document.getElementById("checkin-form");
  var statusBox = document.getElementById("checkin-status");
  var stateBox = document.getElementById("check-state");
  var pendingBox = document.getElementById("pending-state");
  var offlineCopy = document.getElementById("offline-copy");
  var me = page ? page.getAttribute("data-owner") || "" : "";
  var here = window.location.pathname;

  function newKey() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    // Old browsers: 128 random bits from getRandomValues, formatted like a UUID.
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function load() {
    try {
      var items = JSON.parse(window.localStorage.getItem(STORE) || "[]");
      return Array.isArray(items) ? items : [];
    } catch (e) {
      return [];
    }
  }

  function save(items) {
    try {
      window.localStorage.setItem(STORE, JSON.stringify(items));
    } catch (e) { /* private mode or full: the check is still sent once */ }
  }

  function forget(key) {
    save(load().filter(function (item) { return item.key !== key; }));
  }

  // A check belongs to the login that made it (checks stored before owners were recorded: to anyone).
  function mine(item) {
    return !item.owner || item.owner === me;
  }

  function pendingHere() {
    return load().filter(function (item) { return item.url === here && mine(item); });
  }

  function csrfToken() {
    // The cookie first: a page opened from the phone's saved copy may carry an older form token.
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) { return decodeURIComponent(m[1]); }
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function show(text, kind) {
    if (!statusBox) { return; }
    statusBox.textContent = text;
    statusBox.className = "alert mt-3 alert-" + (kind || "info");
  }

  function hhmm(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return ""; }
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }

  function label(el, name, time) {
    return (el.getAttribute(name) || "").replace("{time}", time);
  }

  var serverState = stateBox ? stateBox.getAttribute("data-state") || "none" : "none";

  // Show the checks waiting on this phone and set the button to the next check.
  function render() {
    var items = pendingHere();
    var last = items.length ? items[items.length - 1] : null;
    // The state the server knows is stale while checks wait: show the waiting ones instead of it.
    if (stateBox) { stateBox.classList.toggle("d-none", items.length > 0); }
    if (pendingBox) {
      pendingBox.textContent = "";
      pendingBox.setAttribute("data-count", String(items.length));
      pendingBox.setAttribute("data-kind", last ? last.kind : "");
      pendingBox.classList.toggle("d-none", !items.length);
      items.forEach(function (item) {
        var row = document.createElement("div");
        row.className = "pending-check d-flex flex-wrap align-items-center gap-1 mb-1";
        row.setAttribute("data-kind", item.kind);
        var what = document.createElement("span");
        what.className = "badge fs-6 " + (item.kind === "in" ? "text-bg-success" : "text-bg-secondary");
        what.textContent = label(pendingBox, item.kind === "in" ? "data-in-label" : "data-out-label", hhmm(item.at));
        var wait = document.createElement("span");
        wait.className = "badge text-bg-warning waiting-badge";
        wait.textContent = pendingBox.getAttribute("data-waiting-label") || "";
        row.appendChild(what);
        row.appendChild(wait);
        pendingBox.appendChild(row);
      });
    }
    if (!form) { return; }
    var effective = last ? last.kind : serverState;
    var next = effective === "in" ? "out" : "in";
    var kindInput = form.querySelector("input[name=kind]");
    var button = form.querySelector("button[type=submit]");
    if (kindInput.value !== next) {
      kindInput.value = next;
      form.querySelector("input[name=key]").value = newKey();
    }
    if (button) {
      button.setAttribute("data-kind", next);
      button.className = "btn btn-lg w-100 py-4 fs-3 " + (next === "in" ? "btn-success" : "btn-warning");
      var icon = button.querySelector("i");
      if (icon) { icon.className = "bi " + (next === "in" ? "bi-box-arrow-in-right" : "bi-box-arrow-right"); }
      var text = button.querySelector(".button-label");
      if (text) { text.textContent = form.getAttribute(next === "in" ? "data-in-label" : "data-out-label"); }
    }
  }

  // Send one stored check. Resolves to "sent", "refused" (the server said no: drop it) or "kept".
  function send(item) {
    var body = new FormData();
    body.append("csrfmiddlewaretoken", csrfToken());
    body.append("key", item.key);
    body.append("kind", item.kind);
    body.append("at", item.at);
    return window.fetch(item.url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      redirect: "manual",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() }
    }).then(function (res) {
      if (res.type === "opaqueredirect" || res.status >= 500) {
        return { outcome: "kept" };  // logged out or a server fault: try again later
      }
      return res.json().then(function (data) {
        if (res.ok && data.ok) {
          forget(item.key);
          return { outcome: "sent", data: data };
        }
        forget(item.key);
        return { outcome: "refused", errors: (data && data.errors) || [] };
      }, function () {
        // Not JSON: a page that no longer exists is dropped; anything else (a stale CSRF token) is kept.
        if (res.status === 404) {
          forget(item.key);
          return { outcome: "refused", errors: [] };
        }
        return { outcome: "kept" };
      });
    }, function () {
      return { outcome: "kept" };
    });
  }

  // Send everything of this login stored (oldest first, one after the other). One flush at a time.
  var running = Promise.resolve();
  function flush() {
    var result = running.then(function () {
      var outcome = { changedHere: false, refusedHere: [] };
      var chain = Promise.resolve(true);
      load().filter(mine).forEach(function (item) {
        chain = chain.then(function (goOn) {
          if (!goOn) { return false; }
          return send(item).then(function (r) {
            if (r.outcome === "kept") { return false; }
            if (item.url === here) {
              outcome.changedHere = true;
              if (r.outcome === "sent" && r.data && r.data.kind) { serverState = r.data.kind; }
              if (r.outcome === "refused") { outcome.refusedHere = outcome.refusedHere.concat(r.errors); }
            }
            return true;
          });
        });
      });
      return chain.then(function () { return outcome; });
    });
    running = result.then(function () { return null; }, function () { return null; });
    return result;
  }

  function afterFlush(outcome, reloadOnChange) {
    render();
    if (outcome.refusedHere.length) {
      show(outcome.refusedHere.join(" "), "danger");
      return;
    }
    if (outcome.changedHere && reloadOnChange) { window.location.reload(); }
  }

  if (form) {
    var keyInput = form.querySelector("input[name=key]");
    var atInput = form.querySelector("input[name=at]");
    var kindInput = form.querySelector("input[name=kind]");
    var button = form.querySelector("button[type=submit]");
    keyInput.value = newKey();

    var windowBox = document.getElementById("checkin-window");

    // The phone knows the shift's check-in window: a check outside it is refused here already, saying why
    // (the server refuses it too, also when it was kept offline).
    var outsideWindow = function (when) {
      if (!windowBox) { return false; }
      var opens = new Date(windowBox.getAttribute("data-opens"));
      var closes = new Date(windowBox.getAttribute("data-closes"));
      if (isNaN(opens.getTime()) || isNaN(closes.getTime())) { return false; }
      var t = when.getTime();
      if (t >= opens.getTime() && t <= closes.getTime()) { return false; }
      var day = function (d) {
        return ("0" + (d.getMonth() + 1)).slice(-2) + "-" + ("0" + d.getDate()).slice(-2) + " " + hhmm(d.toISOString());
      };
      show((windowBox.getAttribute("data-outside-label") || "").replace("{opens}", day(opens)).replace("{closes}", day(closes)), "danger");
      return true;
    };

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (outsideWindow(new Date())) { return; }
      if (button) { button.disabled = true; }
      var item = {
        url: here,
        key: keyInput.value,
        kind: kindInput.value,
        at: new Date().toISOString(),
        owner: me
      };
      atInput.value = item.at;
      if (statusBox) { statusBox.className = "alert mt-3 d-none"; }
      var items = load();
      if (!items.some(function (i) { return i.key === item.key; })) {
        items.push(item);
        save(items);
      }
      render();
      flush().then(function (outcome) {
        if (button) { button.disabled = false; }
        var stillPending = load().some(function (i) { return i.key === item.key; });
        if (stillPending) {
          render();
          show(form.getAttribute("data-pending-label"), "warning");
          retryLater();
          return;
        }
        if (outcome.refusedHere.length) {
          afterFlush(outcome, false);
          return;
        }
        show(form.getAttribute("data-sent-label"), "success");
        window.location.reload();
      });
    });
  }

  var savedCopy = document.documentElement.getAttribute("data-offline-copy") === "1";
  if (offlineCopy && (savedCopy || navigator.onLine === false) && page) {
    offlineCopy.textContent = label(offlineCopy, "data-label", hhmm(page.getAttribute("data-rendered-at")));
    offlineCopy.classList.remove("d-none");
  }

  window.addEventListener("online", function () {
    if (offlineCopy) { offlineCopy.classList.add("d-none"); }
    flush().then(function (outcome) { afterFlush(outcome, true); });
  });

  // While checks wait, try again now and then: a phone does not always tell when the network is back.
  var RETRY_MS = 5000;
  var timer = null;
  function retryLater() {
    if (timer !== null || !load().filter(mine).length) { return; }
    timer = window.setTimeout(function () {
      timer = null;
      flush().then(function (outcome) {
        if (outcome.changedHere && offlineCopy) { offlineCopy.classList.add("d-none"); }
        afterFlush(outcome, true);
        retryLater();
      });
    }, RETRY_MS);
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && load().filter(mine).length) {
      flush().then(function (outcome) { afterFlush(outcome, true); retryLater(); });
    }
  });

  render();
  if (load().filter(mine).length && navigator.onLine !== false && !savedCopy) {
    flush().then(function (outcome) { afterFlush(outcome, true); retryLater(); });
  } else if (pendingHere().length && form) {
    show(form.getAttribute("data-pending-label"), "warning");
    retryLater();
  }
})();
