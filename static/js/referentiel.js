/* Référentiel list: progressive enhancement over the GET form (the page works without this file). */
(function () {
  "use strict";

  var form = document.getElementById("form-recherche");
  if (!form) {
    return;
  }
  var retourFocus = false;

  // Keep the shared URL short: empty fields are not part of the query.
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt !== form) {
      return;
    }
    var donnees = event.detail.formData;
    Array.from(new Set(donnees.keys())).forEach(function (nom) {
      var valeurs = donnees.getAll(nom).filter(function (v) {
        return v !== "";
      });
      donnees.delete(nom);
      valeurs.forEach(function (v) {
        donnees.append(nom, v);
      });
    });
  });

  // A removable tag clears its form control, then the form is submitted again (htmx swaps the results).
  form.addEventListener("click", function (event) {
    var tag = event.target.closest("a.fr-tag--dismiss[data-champ]");
    if (!tag || !window.htmx) {
      return;
    }
    var champ = tag.getAttribute("data-champ");
    var valeur = tag.getAttribute("data-valeur");
    var controles = Array.from(form.elements).filter(function (el) {
      return el.name === champ;
    });
    if (controles.length === 0) {
      return;
    }
    event.preventDefault();
    controles.forEach(function (el) {
      if (el.type === "checkbox" || el.type === "radio") {
        if (!valeur || el.value === valeur) {
          el.checked = false;
        }
      } else {
        el.value = "";
      }
    });
    retourFocus = true;
    form.requestSubmit();
  });

  // After a swap started from a tag or a page link, focus moves to the results heading (the link is gone).
  form.addEventListener("click", function (event) {
    if (event.target.closest(".fr-pagination__link[href]")) {
      retourFocus = true;
    }
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id !== "resultats" || !retourFocus) {
      return;
    }
    retourFocus = false;
    var titre = document.getElementById("titre-resultats");
    if (titre) {
      titre.setAttribute("tabindex", "-1");
      titre.focus();
    }
  });
})();
