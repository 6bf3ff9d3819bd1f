"""Browser journey in the public référentiel: search, filter, open a fiche, download a document (R1-R3)."""

import re

import pytest

from tests.factories.referentiel import (
    AccesFactory,
    CompositionFactory,
    CritereFactory,
    DocumentFactory,
    IndicationFactory,
    LaboratoireFactory,
    SpecialiteFactory,
    indexer_specialites,
    pdf_minimal,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def referentiel(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    imbruvica = SpecialiteFactory(
        nom="IMBRUVICA 140 mg, gélule", slug="imbruvica", titulaire=LaboratoireFactory(nom="Janssen-Cilag")
    )
    CompositionFactory(specialite=imbruvica, substance__dci="ibrutinib", dosage="140 mg")
    aac = AccesFactory(specialite=imbruvica)
    indication = IndicationFactory(acces=aac, libelle="Lymphome à cellules du manteau en rechute")
    CritereFactory(indication=indication, libelle="Le patient a reçu au moins une ligne antérieure")
    DocumentFactory(
        specialite=imbruvica,
        titre="RCP IMBRUVICA",
        fichier__filename="rcp-imbruvica.pdf",
        fichier__data=pdf_minimal("RCP IMBRUVICA"),
    )
    # Same indication, under an AAP: the type filter must tell them apart.
    aap = AccesFactory(specialite=SpecialiteFactory(nom="CALQUENCE 100 mg", slug="calquence"), aap=True)
    IndicationFactory(acces=aap, libelle="Lymphomes à cellules du manteau non traités")
    AccesFactory(specialite=SpecialiteFactory(nom="ZOLGENSMA", slug="zolgensma"))
    indexer_specialites()


def noms(page) -> list[str]:
    return page.locator("#resultats tbody a.fr-link").all_inner_texts()


def test_rechercher_filtrer_ouvrir_une_fiche_et_telecharger_un_document(page, referentiel):
    page.goto("/referentiel/")
    assert noms(page) == ["CALQUENCE 100 mg", "IMBRUVICA 140 mg, gélule", "ZOLGENSMA"]

    # Typing searches after a short pause; htmx swaps the results and the URL follows (shareable).
    page.get_by_label("Rechercher un médicament").fill("lymphomes")
    page.wait_for_url(re.compile(r"/referentiel/\?q=lymphomes$"))
    page.wait_for_function("() => document.querySelectorAll('#resultats tbody tr').length === 2")
    assert noms(page) == ["CALQUENCE 100 mg", "IMBRUVICA 140 mg, gélule"]
    assert page.locator("#nombre-resultats").inner_text() == "2 spécialités trouvées."

    # A filter applies on change; the active filter is a removable tag.
    page.locator("label[for=type_acces-AAC]").click()  # the DSFR label covers the box
    page.wait_for_url(re.compile(r"type_acces=AAC"))
    page.wait_for_function("() => document.querySelectorAll('#resultats tbody tr').length === 1")
    assert noms(page) == ["IMBRUVICA 140 mg, gélule"]
    tag = page.get_by_role("link", name="Retirer le filtre Type : AAC — accès compassionnel")
    assert tag.is_visible()
    assert "?q=lymphomes&type_acces=AAC" in page.url

    # Removing the tag unticks the box and brings the AAP back, still without a full reload.
    page.evaluate("() => { window.pasRechargee = true; }")
    tag.click()
    page.wait_for_function("() => document.querySelectorAll('#resultats tbody tr').length === 2")
    assert not page.get_by_label("AAC — accès compassionnel").is_checked()
    assert page.evaluate("() => window.pasRechargee") is True
    assert page.url.endswith("/referentiel/?q=lymphomes")

    # The sort select lives in the swapped region and still drives the form.
    page.get_by_label("Trier par").select_option("-mis_a_jour_le")
    page.wait_for_url(re.compile(r"tri=-mis_a_jour_le"))
    page.wait_for_function("() => document.querySelector('#tri').value === '-mis_a_jour_le'")

    # The fiche: criteria in an accordion, then the document downloads as a PDF.
    page.get_by_role("link", name="IMBRUVICA 140 mg, gélule").click()
    page.wait_for_url("**/referentiel/imbruvica/")
    assert page.locator("h1").inner_text() == "IMBRUVICA 140 mg, gélule"
    # The first indication opens by itself (DSFR accordion, animated); the criteria are then readable.
    bouton = page.get_by_role("button", name="Lymphome à cellules du manteau en rechute")
    assert bouton.get_attribute("aria-expanded") == "true"
    page.get_by_text("Le patient a reçu au moins une ligne antérieure").wait_for(state="visible")
    bouton.click()
    page.get_by_text("Le patient a reçu au moins une ligne antérieure").wait_for(state="hidden")
    with page.expect_download() as attente:
        page.get_by_role("link", name=re.compile("RCP IMBRUVICA")).click()
    telechargement = attente.value
    assert telechargement.suggested_filename == "rcp-imbruvica.pdf"
    with open(telechargement.path(), "rb") as fichier:
        assert fichier.read().startswith(b"%PDF-")

    assert page.erreurs_console == [], "\n".join(page.erreurs_console)


def test_sans_javascript_le_formulaire_et_les_tags_fonctionnent(_navigateur, live_server, referentiel):
    contexte = _navigateur.new_context(base_url=live_server.url, java_script_enabled=False)
    page = contexte.new_page()
    page.goto("/referentiel/")
    page.get_by_label("Rechercher un médicament").fill("lymphomes")
    page.locator("label[for=type_acces-AAP]").click()
    page.get_by_role("button", name="Appliquer les filtres").click()
    page.wait_for_url(re.compile(r"q=lymphomes.*type_acces=AAP"))
    assert noms(page) == ["CALQUENCE 100 mg"]
    page.get_by_role("link", name="Retirer le filtre Type : AAP — accès précoce").click()
    page.wait_for_load_state()
    assert noms(page) == ["CALQUENCE 100 mg", "IMBRUVICA 140 mg, gélule"]
    # Collapsed DSFR sections stay readable without JavaScript.
    page.goto("/referentiel/imbruvica/")
    assert page.get_by_text("Le patient a reçu au moins une ligne antérieure").is_visible()
    contexte.close()


def test_la_documentation_swagger_s_affiche_sans_violation_de_csp(page):
    violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))
    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "API Référentiel AD" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".opblock-summary-path", has_text="/api/v1/specialites/").count() >= 1
    assert violations == [] and page.erreurs_console == []
