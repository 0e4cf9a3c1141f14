/* The mobile check-in page (no inline scripts: the Content-Security-Policy forbids them).
 *
 * Without JavaScript the form posts a key the server generated, and works as a plain form. With it:
 * - each check-in/out gets a fresh idempotency key from crypto.randomUUID() and the phone's time;
 * - it is stored in localStorage first, then sent; a retry sends the same key, so the server never
 *   records it twice;
 * - when the phone is offline the check stays stored and is sent when the network is back (the
 *   "online" event) or the next time a check-in page opens.
 */
(function () {
  "use strict";

  var STORE = "muster.mobilize.pendingChecks";
  var form = document.getElementById("checkin-form");
  var statusBox = document.getElementById("checkin-status");

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

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) { return input.value; }
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function show(text, kind) {
    if (!statusBox) { return; }
    statusBox.textContent = text;
    statusBox.className = "alert mt-3 alert-" + (kind || "info");
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

  // Send everything stored (oldest first, one after the other: an "out" must follow its "in").
  function flush() {
    var items = load();
    var here = window.location.pathname;
    var changedHere = false;
    var chain = Promise.resolve(true);
    items.forEach(function (item) {
      chain = chain.then(function (goOn) {
        if (!goOn) { return false; }
        return send(item).then(function (r) {
          if (r.outcome === "kept") { return false; }
          if (item.url === here) {
            changedHere = true;
            if (r.outcome === "refused" && r.errors.length) { show(r.errors.join(" "), "danger"); }
          }
          return true;
        });
      });
    });
    return chain.then(function () { return changedHere; });
  }

  if (form) {
    var keyInput = form.querySelector("input[name=key]");
    var atInput = form.querySelector("input[name=at]");
    var kindInput = form.querySelector("input[name=kind]");
    var button = form.querySelector("button[type=submit]");
    keyInput.value = newKey();

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (button) { button.disabled = true; }
      var item = {
        url: window.location.pathname,
        key: keyInput.value,
        kind: kindInput.value,
        at: new Date().toISOString()
      };
      atInput.value = item.at;
      if (statusBox) { statusBox.className = "alert mt-3 d-none"; }
      var items = load();
      if (!items.some(function (i) { return i.key === item.key; })) {
        items.push(item);
        save(items);
      }
      flush().then(function () {
        var stillPending = load().some(function (i) { return i.key === item.key; });
        if (stillPending) {
          show(form.getAttribute("data-pending-label"), "warning");
          if (button) { button.disabled = false; }
          return;
        }
        if (statusBox && statusBox.classList.contains("alert-danger")) {
          if (button) { button.disabled = false; }
          keyInput.value = newKey();
          return;
        }
        show(form.getAttribute("data-sent-label"), "success");
        window.location.reload();
      });
    });
  }

  window.addEventListener("online", function () {
    flush().then(function (changedHere) {
      if (changedHere) { window.location.reload(); }
    });
  });

  if (load().length && navigator.onLine !== false) {
    flush().then(function (changedHere) {
      if (changedHere && !(statusBox && statusBox.classList.contains("alert-danger"))) {
        window.location.reload();
      }
    });
  } else if (load().length && form) {
    show(form.getAttribute("data-pending-label"), "warning");
  }
})();
