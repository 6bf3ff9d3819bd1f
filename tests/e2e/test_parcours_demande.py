"""The whole AAC journey in a browser: the prescriber files from the référentiel, the pharmacist completes and
submits, the évaluateur asks a complement, the pharmacist answers, the évaluateur grants, the prescriber downloads
the decision PDF."""

import datetime
import io

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from pypdf import PdfReader

from demandes.enums import StatutDemande
from demandes.models import DemandeAAC
from tests.conftest import code_totp
from tests.factories import (
    AccesFactory,
    CritereFactory,
    DemandeFactory,
    IndicationFactory,
    PUIFactory,
    UtilisateurFactory,
)
from tests.factories.comptes import MOT_DE_PASSE
from tests.factories.referentiel import indexer_specialites

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def se_connecter(page, utilisateur, appareil=None):
    page.goto("/comptes/connexion/")
    page.get_by_label("Adresse électronique").fill(utilisateur.email)
    page.get_by_label("Mot de passe").fill(MOT_DE_PASSE)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state("load")
    if appareil is not None:
        # A code is accepted once (replay protection): a real évaluateur logging in again within the same
        # 30-second window would wait for the next code; the test forgets the last one used instead.
        TOTPDevice.objects.filter(pk=appareil.pk).update(last_t=-1)
        page.get_by_label("Code à usage unique").fill(code_totp(appareil))
        page.get_by_role("button", name="Vérifier").click()
        page.wait_for_load_state("networkidle")
    assert page.locator("#utilisateur-connecte").is_visible()


def se_deconnecter(page):
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_load_state("networkidle")


def continuer(page):
    page.get_by_role("button", name="Enregistrer et continuer").click()
    page.wait_for_load_state("networkidle")


def ouvrir_action(page, nom: str, libelle: str):
    """Expand the action's accordion (DSFR) and return its form."""
    bouton = page.locator("button.fr-accordion__btn", has_text=libelle)
    if bouton.get_attribute("aria-expanded") != "true":
        bouton.click()
    formulaire = page.locator(f'form[data-action="{nom}"]')
    formulaire.wait_for(state="visible")
    return formulaire


def valider(page, formulaire):
    # The action's own button: the évaluateur's forms also have a preview button (another submit).
    formulaire.locator('button[name="valider"]').click()
    page.wait_for_load_state("networkidle")


def ouvrir_demande(page, liste: str, reference: str):
    page.goto(liste)
    page.get_by_role("link", name=reference).click()
    page.wait_for_load_state("networkidle")


def statut(page) -> str:
    return page.locator("#statut-demande").text_content().strip()


def test_parcours_complet_d_une_demande_d_aac(page):
    # The référentiel: a spécialité in AAC with a referenced indication and two critères d'octroi.
    acces = AccesFactory(specialite__nom="LUMINOMAB 20 mg/mL, solution à diluer pour perfusion")
    indication = IndicationFactory(acces=acces, libelle="Neuroblastome réfractaire de l'enfant")
    critere_age, critere_ligne = (
        CritereFactory(indication=indication, libelle="Patient âgé de 1 à 18 ans"),
        CritereFactory(indication=indication, libelle="Échec d'au moins deux lignes de traitement"),
    )
    indexer_specialites(acces.specialite)
    prescripteur = UtilisateurFactory(prescripteur=True, prenom="Claire", nom="Martin")
    pui = PUIFactory(etablissement=prescripteur.etablissement, nom="PUI du CHU")
    pharmacien = UtilisateurFactory(pharmacien=True, pui=pui, etablissement=pui.etablissement, prenom="Karim")
    evaluateur = UtilisateurFactory(evaluateur=True, prenom="Sophie")
    appareil = TOTPDevice.objects.create(user=evaluateur, name="Téléphone", confirmed=True)

    # 1. The prescriber files, starting from the référentiel.
    se_connecter(page, prescripteur)
    page.goto("/demandes/")
    page.get_by_role("link", name="Nouvelle demande").click()
    page.locator("#recherche-specialite").fill("luminomab")
    page.locator("#recherche-specialite").press("Enter")
    page.wait_for_load_state("networkidle")
    page.locator('input[name="specialite"]').first.check(force=True)
    page.get_by_role("button", name="Choisir cette spécialité et continuer").click()
    page.wait_for_load_state("networkidle")
    assert page.locator(".fr-stepper__state").inner_text().startswith("Étape 2 sur 7")
    reference = DemandeAAC.objects.get(prescripteur=prescripteur).reference

    page.locator(f'input[name="choix"][value="{indication.pk}"]').check(force=True)
    continuer(page)
    page.locator(f"#id_critere_{critere_age.pk}_0").check(force=True)
    page.locator(f"#id_critere_{critere_ligne.pk}_1").check(force=True)  # "non": a justification is required
    page.locator("#id_justification").fill(
        "Une seule ligne antérieure, progression rapide ; aucun essai ouvert, pas d'alternative appropriée."
    )
    continuer(page)
    page.locator("#id_patient_initiales").fill("l.-a.")
    page.locator("#id_patient_age").fill("9")
    page.locator("#id_patient_sexe_1").check(force=True)
    page.locator("#id_patient_poids_kg").fill("27")
    continuer(page)
    page.locator("#id_posologie").fill("10 mg/m² J1 à J5, cycles de 21 jours")
    page.locator("#id_duree_traitement_jours").fill("120")
    page.locator("#id_traitement_differable_1").check(force=True)
    continuer(page)
    for champ in ("information_patient", "surveillance", "put_pharmacovigilance", "reponse_ansm"):
        page.locator(f"#id_engagement_{champ}").check(force=True)
    page.locator("#id_pui").select_option(str(pui.pk))
    continuer(page)
    assert "Elle sera évaluée par l'ANSM" in page.locator("#evaluation-prevue").inner_text()
    page.get_by_role("button", name="Transmettre au pharmacien").click()
    page.wait_for_load_state("networkidle")
    assert statut(page) == "Transmise au pharmacien"
    se_deconnecter(page)

    # 2. The pharmacist completes (the weight) and submits to the ANSM.
    se_connecter(page, pharmacien)
    ouvrir_demande(page, "/demandes/pui/", reference)
    page.locator("#lien-modifier").click()
    page.wait_for_load_state("networkidle")
    page.locator("#id_patient_poids_kg").fill("27.4")
    continuer(page)  # patient -> traitement
    continuer(page)  # traitement -> the request page
    assert "Compléter la demande" in page.locator("#journal").inner_text()
    valider(page, ouvrir_action(page, "soumettre", "Soumettre à l'ANSM"))
    assert statut(page) == "En évaluation à l'ANSM"
    se_deconnecter(page)

    # 3. The évaluateur asks a complement.
    se_connecter(page, evaluateur, appareil)
    ouvrir_demande(page, "/demandes/instruction/", reference)
    formulaire = ouvrir_action(page, "demander_complement", "Demander un complément")
    formulaire.locator("#id_demander_complement-question").fill("Merci de joindre le dernier bilan d'imagerie.")
    formulaire.locator("#id_demander_complement-date_limite").fill(
        (timezone.localdate() + datetime.timedelta(days=10)).isoformat()
    )
    valider(page, formulaire)
    assert statut(page) == "Complément demandé"
    se_deconnecter(page)

    # 4. The pharmacist answers.
    se_connecter(page, pharmacien)
    ouvrir_demande(page, "/demandes/pui/", reference)
    assert "Merci de joindre le dernier bilan d'imagerie." in page.locator("#complement-en-attente").inner_text()
    formulaire = ouvrir_action(page, "repondre_complement", "Répondre au complément")
    formulaire.locator("#id_repondre_complement-reponse").fill("IRM du 2 mars : progression de 20 %.")
    valider(page, formulaire)
    assert statut(page) == "Complément fourni"
    se_deconnecter(page)

    # 5. The évaluateur grants.
    se_connecter(page, evaluateur, appareil)
    ouvrir_demande(page, "/demandes/instruction/", reference)
    formulaire = ouvrir_action(page, "octroyer", "Octroyer l'AAC")
    assert formulaire.locator("#id_octroyer-duree_jours").input_value() == "120"
    formulaire.locator("#id_octroyer-duree_jours").fill("90")
    valider(page, formulaire)
    assert statut(page) == "Octroyée"
    se_deconnecter(page)

    # 6. The prescriber downloads the decision.
    se_connecter(page, prescripteur)
    ouvrir_demande(page, "/demandes/", reference)
    with page.expect_download() as telechargement:
        page.locator("#telecharger-decision").click()
    contenu = open(telechargement.value.path(), "rb").read()  # noqa: SIM115 - a temporary file Playwright owns
    texte = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(contenu)).pages)
    demande = DemandeAAC.objects.get(reference=reference)
    assert demande.statut == StatutDemande.OCTROYEE and str(demande.patient_poids_kg) == "27.4"
    assert f"Numéro d'AAC {demande.decision.numero_aac}" in texte
    assert "Initiales L.-A." in texte and "Durée de traitement 90 jour(s)" in texte
    assert "LUMINOMAB 20 mg/mL" in texte and "PUI du CHU" in texte
    assert [e.transition for e in demande.journal.all()] == [
        "creer",
        "transmettre",
        "completer",
        "soumettre",
        "demander_complement",
        "repondre_complement",
        "octroyer",
    ]
    assert page.erreurs_console == []


def test_sans_javascript_le_pharmacien_soumet_depuis_la_page_de_la_demande(_navigateur, live_server):
    """Every page works without JavaScript: the action panels stay open and the forms post normally."""
    demande = DemandeFactory(transmise=True, criteres=[True, False], justification="Justifiée.")
    pharmacien = UtilisateurFactory(pharmacien=True, pui=demande.pui, etablissement=demande.pui.etablissement)
    contexte = _navigateur.new_context(base_url=live_server.url, locale="fr-FR", java_script_enabled=False)
    page = contexte.new_page()
    try:
        se_connecter(page, pharmacien)
        page.goto(f"/demandes/{demande.reference}/")
        formulaire = page.locator('form[data-action="soumettre"]')
        assert formulaire.is_visible()
        formulaire.locator('button[type="submit"]').click()
        page.wait_for_load_state("load")
        assert statut(page) == "En évaluation à l'ANSM"
    finally:
        contexte.close()
    demande.refresh_from_db()
    assert demande.statut == StatutDemande.EN_EVALUATION
