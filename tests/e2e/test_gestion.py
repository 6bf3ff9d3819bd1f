"""Browser journey of the back-office (issue 5): an évaluateur records the AMM of a medicine in AAC with the date
AAC cease (R24); a prescriber who then starts a request for that medicine is refused at filing with the R24
message."""

import datetime

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from demandes.models import DemandeAAC
from referentiel.models import HistoriqueFiche
from tests.conftest import code_totp
from tests.factories import AccesFactory, CritereFactory, IndicationFactory, UtilisateurFactory
from tests.factories.comptes import MOT_DE_PASSE
from tests.factories.referentiel import indexer_specialites

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def se_connecter(page, utilisateur, appareil=None):
    page.goto("/comptes/connexion/")
    page.get_by_label("Adresse électronique").fill(utilisateur.email)
    page.get_by_label("Mot de passe").fill(MOT_DE_PASSE)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state("networkidle")
    if appareil is not None:
        page.get_by_label("Code à usage unique").fill(code_totp(appareil))
        page.get_by_role("button", name="Vérifier").click()
        page.wait_for_load_state("networkidle")
    assert page.locator("#utilisateur-connecte").is_visible()


def test_amm_recorded_in_the_back_office_then_a_new_request_is_refused_at_filing_r24(page):
    aujourd_hui = timezone.localdate()
    date_amm = aujourd_hui - datetime.timedelta(days=60)
    acces = AccesFactory(specialite__nom="LUMINOMAB 20 mg/mL, solution à diluer pour perfusion")
    indication = IndicationFactory(acces=acces, libelle="Neuroblastome réfractaire de l'enfant")
    CritereFactory(indication=indication, libelle="Patient âgé de 1 à 18 ans")
    indexer_specialites(acces.specialite)
    evaluateur = UtilisateurFactory(evaluateur=True, prenom="Sophie", nom="Leroy")
    appareil = TOTPDevice.objects.create(user=evaluateur, name="Téléphone", confirmed=True)
    prescripteur = UtilisateurFactory(prescripteur=True, prenom="Claire", nom="Martin")

    # 1. The évaluateur finds the fiche from the ANSM space and records the AMM and the cessation date.
    se_connecter(page, evaluateur, appareil)
    page.get_by_role("link", name="Espace ANSM").first.click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", level=1).inner_text() == "Espace ANSM"
    page.get_by_role("link", name="Rechercher une spécialité").click()
    page.get_by_label("Rechercher une spécialité").fill("luminomab")
    page.get_by_role("button", name="Rechercher").click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("link", name="LUMINOMAB 20 mg/mL, solution à diluer pour perfusion").click()
    page.wait_for_load_state("networkidle")
    page.locator(f"#lien-amm-{acces.pk}").click()
    page.wait_for_load_state("networkidle")
    page.get_by_label("Date de l'AMM").fill(date_amm.isoformat())
    page.get_by_label("Date de cessation des AAC").fill(aujourd_hui.isoformat())
    page.get_by_role("button", name="Enregistrer l'AMM").click()
    page.wait_for_load_state("networkidle")
    assert "AMM enregistrée : les AAC cessent à la date fixée." in page.content()
    assert page.locator(f"#cessation-{acces.pk}").inner_text() == f"{aujourd_hui:%d/%m/%Y} (R24)"
    assert page.locator("#statut-amm").inner_text() == f"AMM en France (le {date_amm:%d/%m/%Y})"
    assert HistoriqueFiche.objects.filter(action="Enregistrement de l'AMM", auteur=evaluateur).exists()
    assert page.erreurs_console == []
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_load_state("networkidle")

    # 2. A prescriber starts a new request for that medicine: refused at filing, with the rule.
    se_connecter(page, prescripteur)
    page.goto("/demandes/")
    page.get_by_role("link", name="Nouvelle demande").click()
    page.locator("#recherche-specialite").fill("luminomab")
    page.locator("#recherche-specialite").press("Enter")
    page.wait_for_load_state("networkidle")
    page.locator('input[name="specialite"]').first.check(force=True)
    page.get_by_role("button", name="Choisir cette spécialité et continuer").click()
    page.wait_for_load_state("networkidle")
    message = page.locator("#form-specialite").inner_text()
    assert (
        f"Les AAC de « LUMINOMAB 20 mg/mL, solution à diluer pour perfusion » ont cessé le {aujourd_hui:%d/%m/%Y} "
        "après son autorisation de mise sur le marché : aucune AAC ne peut plus être déposée ni octroyée pour ce "
        "médicament, quelle que soit l'indication (R24)"
    ) in " ".join(message.split())
    assert not DemandeAAC.objects.filter(prescripteur=prescripteur).exists()
    # The refused filing answers 400 (demandes' page), which Chromium logs as a failed resource: nothing else.
    assert [e for e in page.erreurs_console if "status of 400" not in e] == []
