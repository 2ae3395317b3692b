// The shell's only script. The navigation is a <details> disclosure: a menu button on phones,
// always open as a bar on desktops (the breakpoint matches app.css).
(function () {
  "use strict";
  var menu = document.querySelector("details.menu");
  if (!menu) return;
  var desktop = window.matchMedia("(min-width: 64rem)");
  function sync() {
    if (desktop.matches) menu.setAttribute("open", "");
    else menu.removeAttribute("open");
  }
  sync();
  desktop.addEventListener("change", sync);
  menu.addEventListener("click", function (event) {
    if (!desktop.matches && event.target.closest("a")) menu.removeAttribute("open");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !desktop.matches) menu.removeAttribute("open");
  });
})();
