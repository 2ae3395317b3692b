/* The assessment filters: choosing another township clears the village chosen under the previous one,
   so the query opens the township (the village would otherwise win). Without this script the village
   select has to be cleared by hand. */
(function () {
  "use strict";
  document.querySelectorAll("select[data-clears]").forEach(function (select) {
    select.addEventListener("change", function () {
      var other = document.getElementById(select.getAttribute("data-clears"));
      if (other) other.value = "";
    });
  });
})();
