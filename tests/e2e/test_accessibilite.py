"""Accessibility measured by axe-core (issue 7) in chromium on the pages people work in: the home page, the
référentiel's list and a fiche, every step of the request form, the PUI inbox, the request page and the évaluateur's
review page. No violation of impact serious or critical.

axe-core comes from npm (package.json, `npm ci`, run by `make install`). It is injected as an init script, which
Playwright adds through the DevTools protocol: the page's Content-Security-Policy (no inline script) stays on, so
the pages are checked as users get them.
"""

import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import EN_CI, connecter
from tests.factories import (
    AccesFactory,
    CritereFactory,
    DemandeFactory,
    DocumentFactory,
    IndicationFactory,
    PUIFactory,
    PUTFactory,
    RapportFactory,
    SpecialiteFactory,
    UtilisateurFactory,
)
from tests.factories.referentiel import indexer_specialites

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
IMPACTS_BLOQUANTS = ("serious", "critical")
ETAPES = ["medicament", "indication", "criteres", "patient", "traitement", "engagements", "recapitulatif"]


@pytest.fixture(scope="session")
def axe_core():
    if AXE.exists():
        return AXE
    if shutil.which("npm") is None and not EN_CI:
        pytest.skip("node/npm absent : axe-core non installé, tests d'accessibilité ignorés")
    pytest.fail(f"{AXE} absent : installez-le avec « npm ci --no-audit --no-fund » (make install le fait).")


@pytest.fixture
def axe(page, axe_core, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    page.context.add_init_script(path=str(axe_core))
    return page


def connecter_navigateur(page, utilisateur, live_server) -> None:
    """The user's session (second factor verified for ANSM staff) as the browser's cookie: the login form itself is
    checked on its own page."""
    client = Client()
    connecter(client, utilisateur)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def violations_graves(page) -> list[dict]:
    """axe-core's violations of impact serious or critical on the page as it is now, with where they are."""
    page.wait_for_load_state("networkidle")
    return page.evaluate(
        """async (impacts) => {
            const resultats = await axe.run(document, {resultTypes: ["violations"]});
            return resultats.violations
                .filter((v) => impacts.includes(v.impact))
                .map((v) => ({
                    regle: v.id,
                    impact: v.impact,
                    aide: v.help,
                    elements: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " : " + n.failureSummary),
                }));
        }""",
        list(IMPACTS_BLOQUANTS),
    )


def verifier_page(page, chemin: str) -> None:
    reponse = page.goto(chemin)
    assert reponse.status == 200, f"{chemin} : {reponse.status}"
    violations = violations_graves(page)
    assert violations == [], f"{chemin} : " + "\n".join(
        f"{v['regle']} ({v['impact']}) {v['aide']} : {v['elements']}" for v in violations
    )
    assert page.erreurs_console == [], page.erreurs_console


def fiche_complete():
    """A published fiche with what R2 shows: an AAC with its indication and criteria, a PUT, a published résumé,
    a document, and a second status."""
    specialite = SpecialiteFactory(nom="IMBRUVICA 140 mg, gélule", slug="imbruvica", hospitaliere=True)
    acces = AccesFactory(specialite=specialite, riph=True)
    indication = IndicationFactory(acces=acces, libelle="Lymphome à cellules du manteau en rechute")
    CritereFactory(indication=indication, libelle="Le patient a reçu au moins une ligne antérieure")
    CritereFactory(indication=indication, libelle="Absence d'alternative thérapeutique appropriée")
    PUTFactory(acces=acces, recueil=True)
    RapportFactory(acces=acces, publie=True)
    DocumentFactory(specialite=specialite, titre="RCP IMBRUVICA")
    AccesFactory(specialite=specialite, atu_historique=True)
    indexer_specialites()
    return specialite, indication


# --- Public pages ------------------------------------------------------------------------------------------------


def test_l_accueil_n_a_aucune_violation_grave(axe):
    verifier_page(axe, "/")


def test_la_liste_du_referentiel_et_sa_recherche_n_ont_aucune_violation_grave(axe):
    fiche_complete()
    AccesFactory(specialite=SpecialiteFactory(nom="CALQUENCE 100 mg, gélule"), aap=True)
    indexer_specialites()
    verifier_page(axe, "/referentiel/")
    verifier_page(axe, "/referentiel/?q=ibrutinib&type_acces=AAC")


def test_une_fiche_du_referentiel_n_a_aucune_violation_grave(axe):
    specialite, _ = fiche_complete()
    verifier_page(axe, f"/referentiel/{specialite.slug}/")


def test_la_page_de_connexion_n_a_aucune_violation_grave(axe):
    verifier_page(axe, "/comptes/connexion/")


# --- The request form, step by step (prescriber) ---------------------------------------------------------------------


def test_chaque_etape_du_formulaire_de_demande_n_a_aucune_violation_grave(axe, live_server):
    specialite, indication = fiche_complete()
    demande = DemandeFactory(indication=indication)
    PUIFactory(etablissement=demande.prescripteur.etablissement, nom="PUI du centre")
    connecter_navigateur(axe, demande.prescripteur, live_server)

    verifier_page(axe, "/demandes/nouvelle/")
    verifier_page(axe, "/demandes/nouvelle/?q=imbruvica")
    for etape in ETAPES:
        verifier_page(axe, f"/demandes/{demande.reference}/etape/{etape}/")
    verifier_page(axe, "/demandes/")
    verifier_page(axe, f"/demandes/{demande.reference}/")


def test_les_erreurs_d_une_etape_n_ajoutent_aucune_violation_grave(axe, live_server):
    _, indication = fiche_complete()
    demande = DemandeFactory(indication=indication)
    connecter_navigateur(axe, demande.prescripteur, live_server)
    axe.goto(f"/demandes/{demande.reference}/etape/patient/")
    axe.locator("#id_patient_initiales").fill("")
    axe.locator("#id_patient_age").fill("")
    axe.get_by_role("button", name="Enregistrer et continuer").click()
    axe.wait_for_load_state("networkidle")
    assert axe.locator(".fr-error-text").count() >= 1
    assert violations_graves(axe) == []


# --- The PUI inbox, the request page and the évaluateur's review page ------------------------------------------------


def test_la_boite_de_la_pui_n_a_aucune_violation_grave(axe, live_server):
    _, indication = fiche_complete()
    demande = DemandeFactory(indication=indication, transmise=True)
    DemandeFactory(indication=indication, transmise=True, pui=demande.pui, urgence="vitale")
    pharmacien = UtilisateurFactory(pharmacien=True, pui=demande.pui, etablissement=demande.pui.etablissement)
    connecter_navigateur(axe, pharmacien, live_server)

    verifier_page(axe, "/demandes/pui/")
    verifier_page(axe, "/demandes/pui/?onglet=toutes")
    verifier_page(axe, f"/demandes/{demande.reference}/")


def test_la_page_d_instruction_de_l_evaluateur_n_a_aucune_violation_grave(axe, live_server):
    _, indication = fiche_complete()
    demande = DemandeFactory(indication=indication, complement_fourni=True)
    connecter_navigateur(axe, UtilisateurFactory(evaluateur=True), live_server)

    verifier_page(axe, "/ansm/demandes/")
    verifier_page(axe, f"/ansm/demandes/{demande.reference}/")


def test_sur_un_ecran_de_telephone_les_tableaux_qui_defilent_restent_accessibles_au_clavier(axe, live_server):
    """At 375 px the wide tables scroll sideways: a table that holds no link must itself take the focus (axe
    scrollable-region-focusable), or a keyboard user cannot read its last columns."""
    specialite, indication = fiche_complete()
    DemandeFactory(indication=indication, octroyee=True)
    demande = DemandeFactory(indication=indication, en_evaluation=True)
    axe.set_viewport_size({"width": 375, "height": 800})
    verifier_page(axe, f"/referentiel/{specialite.slug}/")
    connecter_navigateur(axe, UtilisateurFactory(evaluateur=True), live_server)

    verifier_page(axe, "/ansm/statistiques/")
    assert axe.locator("#tableau-par-mois table").get_attribute("tabindex") == "0"
    verifier_page(axe, "/ansm/demandes/")
    verifier_page(axe, f"/ansm/demandes/{demande.reference}/")


def test_axe_signale_bien_une_violation_grave_quand_il_y_en_a_une(axe):
    """The check itself: an image without a text alternative added to the home page is reported as critical."""
    axe.goto("/")
    axe.evaluate(
        """() => {
            const image = document.createElement("img");
            image.src = "/static/dsfr/dist/favicon/favicon.svg";
            document.querySelector("main").appendChild(image);
        }"""
    )
    assert [(v["regle"], v["impact"]) for v in violations_graves(axe)] == [("image-alt", "critical")]
