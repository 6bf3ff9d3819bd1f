"""A refused action or form step shows every broken rule in one alert announced to screen readers
(templates/demandes/_erreur_action.html, shared by the request page, the review page and the form steps)."""

import re
from types import SimpleNamespace

from django.template.loader import render_to_string

ERREUR = SimpleNamespace(
    erreurs=[SimpleNamespace(texte="R13 : engagement manquant."), SimpleNamespace(texte="<b>x</b>")]
)


def compact(html: str) -> str:
    return re.sub(r"\s+", " ", html).strip()


def test_l_alerte_d_une_action_refusee_porte_chaque_regle_et_son_titre_par_defaut():
    html = compact(render_to_string("demandes/_erreur_action.html", {"erreur": ERREUR}))
    assert 'role="alert"' in html and 'id="erreur-demande"' in html
    assert "<h2 class=\"fr-alert__title\">L'action n'a pas abouti</h2>" in html
    assert "<p>R13 : engagement manquant.</p><p>&lt;b&gt;x&lt;/b&gt;</p>" in html


def test_une_etape_du_formulaire_donne_son_titre_et_son_niveau():
    html = compact(
        render_to_string(
            "demandes/_erreur_action.html",
            {"erreur": ERREUR, "titre": "L'enregistrement n'a pas abouti", "niveau": "h3"},
        )
    )
    assert '<h3 class="fr-alert__title">L&#x27;enregistrement n&#x27;a pas abouti</h3>' in html


def test_sans_erreur_rien_n_est_affiche():
    assert compact(render_to_string("demandes/_erreur_action.html", {})) == ""
