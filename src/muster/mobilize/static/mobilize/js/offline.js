/* Registers Muster's service worker (/sw.js) for logged-in users and asks it to keep the check-in pages
 * of the volunteer's upcoming shifts for use without network (at most every SYNC_EVERY ms, and at once
 * when another login uses the phone). No inline script: the Content-Security-Policy forbids them. */
(function () {
  "use strict";

  var SYNC_EVERY = 10 * 60 * 1000;
  var STAMP = "muster.offline.synced";
  var script = document.currentScript;
  var me = (script && script.getAttribute("data-owner")) || "";
  var swUrl = (script && script.getAttribute("data-sw")) || "/sw.js";
  if (!("serviceWorker" in navigator) || !me) { return; }

  function due() {
    try {
      var last = JSON.parse(window.localStorage.getItem(STAMP) || "null");
      return !last || last.owner !== me || Date.now() - last.at > SYNC_EVERY || Date.now() < last.at;
    } catch (e) {
      return true;
    }
  }

  function ask(worker, message) {
    return new Promise(function (resolve) {
      var channel = new MessageChannel();
      channel.port1.onmessage = function (event) { resolve(event.data || {}); };
      worker.postMessage(message, [channel.port2]);
    });
  }

  function sync(registration) {
    var worker = registration.active;
    if (!worker || navigator.onLine === false || !due()) { return; }
    ask(worker, { type: "sync" }).then(function (answer) {
      if (answer && answer.ok) {
        try {
          window.localStorage.setItem(STAMP, JSON.stringify({ owner: me, at: Date.now() }));
        } catch (e) { /* private mode: sync again next time */ }
        document.documentElement.setAttribute("data-offline-ready", "1");
      }
    });
  }

  window.addEventListener("load", function () {
    navigator.serviceWorker.register(swUrl, { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(sync).catch(function () { /* no service worker: the pages still work online */ });
  });
})();
