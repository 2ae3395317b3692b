/* Party pages' tabs: keep the current tab in view on a phone; show the list filters open on a desktop.
   (Was an inline script in governance/party/_tabs.html; the Content-Security-Policy runs none.) */
(function () {
  "use strict";
  function arrange() {
    var tabs = document.querySelector("[data-testid=party-tabs]");
    if (!tabs) return;
    var current = tabs.querySelector(".is-current");
    if (current && tabs.scrollWidth > tabs.clientWidth) {
      var offset = current.getBoundingClientRect().left - tabs.getBoundingClientRect().left;
      tabs.scrollLeft += offset - (tabs.clientWidth - current.offsetWidth) / 2;
    }
    if (window.matchMedia("(min-width: 64rem)").matches) {
      var filters = document.querySelector("details.party-filters");
      if (filters) filters.setAttribute("open", "");
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", arrange);
  else arrange();
})();
