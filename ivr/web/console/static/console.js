// The console's only script: live regions refresh themselves, and dangerous buttons ask first.
// A region <div id="…" data-refresh="SECONDS"> is fetched again from the page's own address
// and replaced, unless the person is typing in it or listening to a message in it.
(function () {
  "use strict";

  function busy(region) {
    if (region.contains(document.activeElement) && document.activeElement !== document.body) {
      var tag = document.activeElement.tagName;
      if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") { return true; }
    }
    var players = region.querySelectorAll("audio");
    for (var i = 0; i < players.length; i++) {
      if (!players[i].paused) { return true; }
    }
    var fields = region.querySelectorAll("textarea, input[type=text], input[type=datetime-local]");
    for (var j = 0; j < fields.length; j++) {
      if (fields[j].value !== fields[j].defaultValue) { return true; }
    }
    return false;
  }

  function refresh(region) {
    if (busy(region)) { return; }
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Console-Refresh": "1" } })
      .then(function (response) {
        if (response.redirected || !response.ok) { return null; }
        return response.text();
      })
      .then(function (html) {
        if (!html || busy(region)) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(region.id);
        if (fresh) {
          region.innerHTML = fresh.innerHTML;
          region.setAttribute("data-refreshed", String(Date.now()));
        }
      })
      .catch(function () { /* the next round tries again */ });
  }

  function start() {
    var regions = document.querySelectorAll("[data-refresh]");
    regions.forEach(function (region) {
      var seconds = parseInt(region.getAttribute("data-refresh"), 10);
      if (seconds > 0 && region.id) {
        window.setInterval(function () { refresh(region); }, seconds * 1000);
      }
    });
    document.addEventListener("submit", function (event) {
      var question = event.target.getAttribute("data-confirm");
      if (question && !window.confirm(question)) { event.preventDefault(); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
