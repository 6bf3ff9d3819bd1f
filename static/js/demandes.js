// Progressive enhancement of the request form: the page works without this file.
// - On the criteria step, the justification is highlighted as required as soon as one criterion is "non" (R11).
// - On the treatment step, the on-call question only shows for a life-threatening emergency (R44).
(function () {
  "use strict";

  function criteres() {
    var form = document.querySelector('form[data-etape="criteres"]');
    if (!form) return;
    var justification = form.querySelector('[name="justification"]');
    if (!justification) return;
    function maj() {
      var unNon = form.querySelector('input[data-critere][value="non"]:checked') !== null;
      justification.toggleAttribute("required", unNon);
      justification.setAttribute("aria-required", unNon ? "true" : "false");
    }
    form.addEventListener("change", maj);
    maj();
  }

  function urgence() {
    var form = document.querySelector('form[data-etape="traitement"]');
    if (!form) return;
    var astreinte = form.querySelector('[name="astreinte_contactee"]');
    if (!astreinte) return;
    var groupe = astreinte.closest(".fr-checkbox-group") || astreinte.parentElement;
    function maj() {
      var vitale = form.querySelector('[name="urgence"][value="vitale"]:checked') !== null;
      groupe.classList.toggle("demandes-masque", !vitale);
    }
    form.addEventListener("change", maj);
    maj();
  }

  document.addEventListener("DOMContentLoaded", function () {
    criteres();
    urgence();
  });
})();
