{% load static %}/* Muster's service worker (served at /sw.js by muster.mobilize.views.checkin.service_worker).
 *
 * What it keeps, so the check-in page a shift's QR code points to and the volunteer's upcoming shifts
 * open without network after one online visit:
 * - the static shell (styles, scripts, icons): cache first, refreshed when this file changes (VERSION);
 * - pages that say they may be kept (the response header X-Muster-Offline: 1 — the check-in pages and
 *   "my service"): network first, the saved copy when the network fails;
 * - the check-in pages of the volunteer's upcoming shifts, fetched in the background when a page asks
 *   (message "sync"; the list comes from /mobilize/me/offline.json).
 * Pages belong to one login: the page cache is emptied on logout, on the login page, and whenever the
 * list says another login is now using the phone. Nothing else is intercepted.
 */
"use strict";

var VERSION = "{{ version }}";
var STATIC_CACHE = "muster-static-" + VERSION;
var PAGE_CACHE = "muster-pages";
var OWNER_KEY = "/__muster_owner__";
var OFFLINE_LIST = "{% url 'mobilize:offline_data' %}";
var SHELL = [{% for path in shell %}"{% static path %}"{% if not forloop.last %}, {% endif %}{% endfor %}];
var STATIC_PREFIX = "{% get_static_prefix %}";
var LOGOUT = "{% url 'logout' %}";
var LOGIN = "{% url 'login' %}";
var OFFLINE_HTML = "{{ offline_html|escapejs }}";

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(STATIC_CACHE).then(function (cache) { return cache.addAll(SHELL); }).then(function () {
      return self.skipWaiting();
    })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) {
        return n.indexOf("muster-static-") === 0 && n !== STATIC_CACHE;
      }).map(function (n) { return caches.delete(n); }));
    }).then(function () { return self.clients.claim(); })
  );
});

// Bumped on every forget: a page that was still being saved when the login ended is not saved after it.
var generation = 0;

function forgetPages() {
  generation += 1;
  return caches.delete(PAGE_CACHE);
}

function sameOrigin(url) {
  return url.origin === self.location.origin;
}

function keepable(response) {
  return response && response.ok && response.type === "basic" && !response.redirected &&
    response.headers.get("X-Muster-Offline") === "1";
}

function savePage(request, response, asOf) {
  if (asOf !== generation) { return Promise.resolve(); }
  return response.blob().then(function (body) {
    if (asOf !== generation) { return undefined; }
    var copy = new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    return caches.open(PAGE_CACHE).then(function (cache) {
      return asOf === generation ? cache.put(request, copy) : undefined;
    });
  });
}

function offlinePage() {
  return new Response(OFFLINE_HTML, {
    status: 503,
    headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" }
  });
}

// A saved copy says so (<html data-offline-copy="1">): the page shows when it was saved, even on a
// phone that believes it is online (a network that connects but carries nothing).
function markSaved(saved) {
  var headers = new Headers(saved.headers);
  return saved.text().then(function (html) {
    return new Response(html.replace("<html ", "<html data-offline-copy=\"1\" "), {
      status: saved.status,
      statusText: saved.statusText,
      headers: headers
    });
  });
}

function fromNetworkThenCache(event) {
  var request = event.request;
  var asOf = generation;
  return fetch(request).then(function (response) {
    if (keepable(response)) {
      var copy = response.clone();
      event.waitUntil(savePage(new Request(request.url), copy, asOf));
    }
    return response;
  }, function () {
    return caches.open(PAGE_CACHE).then(function (cache) {
      return cache.match(request.url, { ignoreSearch: false });
    }).then(function (saved) { return saved ? markSaved(saved) : offlinePage(); });
  });
}

function fromCacheThenNetwork(request) {
  return caches.open(STATIC_CACHE).then(function (cache) {
    return cache.match(request, { ignoreSearch: true }).then(function (hit) {
      if (hit) { return hit; }
      return fetch(request).then(function (response) {
        if (response.ok && response.type === "basic") { cache.put(request, response.clone()); }
        return response;
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (!sameOrigin(url)) { return; }
  if (url.pathname === LOGOUT || url.pathname === LOGIN) {
    // Another login may follow: no page of this one stays on the phone. The request itself goes on.
    event.waitUntil(forgetPages());
    return;
  }
  if (request.method !== "GET") { return; }
  if (url.pathname.indexOf(STATIC_PREFIX) === 0) {
    event.respondWith(fromCacheThenNetwork(request));
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(fromNetworkThenCache(event));
  }
});

// The owner of the saved pages (an opaque id of the login), kept as an entry of the page cache.
function owner() {
  // caches.match does not create the cache (caches.open would, even after a logout emptied it).
  return caches.match(OWNER_KEY, { cacheName: PAGE_CACHE }).then(function (r) { return r ? r.text() : ""; });
}

// Fetch the list of pages to keep for the logged-in volunteer and keep them (in order, one at a time).
function sync() {
  var asOf = generation;
  return fetch(OFFLINE_LIST, {
    credentials: "same-origin",
    redirect: "manual",
    headers: { "Accept": "application/json" }
  }).then(function (response) {
    if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
      return forgetPages().then(function () { return { ok: false }; });  // logged out
    }
    if (!response.ok) { return { ok: false }; }
    return response.json().then(function (data) {
      return owner().then(function (was) {
        var start = was && was !== data.owner ? forgetPages().then(function () { asOf = generation; })
          : Promise.resolve();
        return start.then(function () {
          if (asOf !== generation) { throw new Error("logged out meanwhile"); }
          return caches.open(PAGE_CACHE);
        }).then(function (cache) {
          return cache.put(OWNER_KEY, new Response(data.owner)).then(function () {
            var wanted = {};
            var chain = Promise.resolve();
            data.pages.forEach(function (path) {
              var absolute = new URL(path, self.location.origin).href;
              wanted[absolute] = true;
              chain = chain.then(function () {
                return fetch(absolute, {
                  credentials: "same-origin",
                  redirect: "manual",
                  headers: { "X-Muster-Prefetch": "1" }
                }).then(function (page) {
                  if (keepable(page) && asOf === generation) { return cache.put(absolute, page); }
                  return undefined;
                }, function () { return undefined; });
              });
            });
            return chain.then(function () { return cache.keys(); }).then(function (requests) {
              // Pages of shifts that are over (or no longer the volunteer's) go.
              return Promise.all(requests.filter(function (r) {
                var u = new URL(r.url);
                return u.pathname !== OWNER_KEY && !wanted[r.url] && data.forget_prefix &&
                  u.pathname.indexOf(data.forget_prefix) === 0;
              }).map(function (r) { return cache.delete(r); }));
            }).then(function () { return { ok: true, pages: data.pages.length }; });
          });
        });
      });
    });
  }).catch(function () { return { ok: false }; });
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  var reply = function (answer) {
    if (event.ports && event.ports[0]) { event.ports[0].postMessage(answer); }
  };
  if (data.type === "sync") {
    event.waitUntil(sync().then(reply));
  } else if (data.type === "forget") {
    event.waitUntil(forgetPages().then(function () { reply({ ok: true }); }));
  }
});
