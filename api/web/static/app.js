// breachflow dashboard: live countdowns, and a quiet refresh of the
// page's main content every 30 s while no form is being filled in.
(function () {
  "use strict";
  function fmt(ms) {
    var m = Math.round(Math.abs(ms) / 60000);
    var d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60), mm = m % 60;
    if (d > 0) return d + "d " + h + "h";
    if (h > 0) return h + "h " + (mm < 10 ? "0" : "") + mm + "m";
    return mm + "m";
  }
  function urgency(ms) {
    if (ms <= 0) return "overdue";
    if (ms < 6 * 3600e3) return "urgent";
    if (ms < 24 * 3600e3) return "soon";
    return "later";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var left = Date.parse(el.getAttribute("data-due")) - now;
      if (isNaN(left)) return;
      el.textContent = left < 0 ? "overdue by " + fmt(left) : fmt(left) + " left";
      var row = el.closest("tr[class*='u-']");
      if (row && !row.classList.contains("u-open")) {
        row.className = row.className.replace(/\bu-(overdue|urgent|soon|later)\b/, "u-" + urgency(left));
        var label = row.querySelector(".urgency");
        if (label) label.textContent = urgency(left);
      }
    });
  }
  function busy() {
    var a = document.activeElement;
    if (a && a.closest && a.closest("main form")) return true;
    return document.querySelector("main details[open]") !== null;
  }
  function refresh() {
    if (document.hidden || busy()) return;
    fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok && !r.redirected ? r.text() : null; })
      .then(function (html) {
        if (!html || busy()) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("main"), cur = document.getElementById("main");
        if (fresh && cur) { cur.innerHTML = fresh.innerHTML; zones(); tick(); }
      })
      .catch(function () {});
  }
  // The viewer's zone defaults to the browser's: remembered once, in the
  // cookie the zone form sets; the next page is shown in it (no reload,
  // so nothing the viewer started is interrupted).
  function defaultZone() {
    if (!document.querySelector("#zone-form") || /(^|;\s*)bf_tz=/.test(document.cookie)) return;
    var tz = "";
    try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
    if (!/^[A-Za-z_]+(\/[A-Za-z0-9_+\-]+)*$/.test(tz)) return;
    document.cookie = "bf_tz=" + tz + "; path=/; max-age=31536000; samesite=lax";
  }
  // Forms marked data-tz take times in the browser's zone: the hidden tz
  // field says which, and known times (data-utc) are shown in it.
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function zones() {
    // A remembered zone (bf_tz) is the one the server rendered the form in.
    if (/(^|;\s*)bf_tz=/.test(document.cookie)) return;
    var tz;
    try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    if (!tz) return;
    document.querySelectorAll("form[data-tz]").forEach(function (form) {
      var field = form.querySelector("input[name='tz']");
      if (!field || field.value === tz) return;
      form.querySelectorAll("input[type='datetime-local'][data-utc]").forEach(function (el) {
        var d = new Date(el.getAttribute("data-utc"));
        if (isNaN(d.getTime())) return;
        el.value = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
      });
      field.value = tz;
      form.querySelectorAll("[data-tz-label]").forEach(function (el) { el.textContent = tz; });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    defaultZone();
    zones();
    tick();
    setInterval(tick, 1000);
    if (location.pathname === "/board" || location.pathname.indexOf("/incidents/") === 0) {
      setInterval(refresh, 30000);
    }
  });
})();
