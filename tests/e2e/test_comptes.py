"""Browser journeys of the accounts: a prescriber logs in; an évaluateur logs in then passes the TOTP check."""

import base64

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import code_totp
from tests.factories import UtilisateurFactory
from tests.factories.comptes import MOT_DE_PASSE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _se_connecter(page, email: str) -> None:
    page.goto("/comptes/connexion/")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(MOT_DE_PASSE)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state("networkidle")


def test_un_prescripteur_se_connecte_et_voit_son_nom_dans_l_en_tete(page):
    UtilisateurFactory(prescripteur=True, email="claire.martin@chu.example", prenom="Claire", nom="Martin")
    _se_connecter(page, "claire.martin@chu.example")
    assert page.url.endswith("/")
    assert page.locator("#utilisateur-connecte").inner_text() == "Claire Martin — Prescripteur"
    page.locator("#utilisateur-connecte").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", level=1).inner_text() == "Mon compte"
    assert page.erreurs_console == []


def test_un_evaluateur_passe_le_second_facteur_avant_l_accueil(page):
    evaluateur = UtilisateurFactory(evaluateur=True, email="sophie.leroy@ansm.example", prenom="Sophie", nom="Leroy")
    appareil = TOTPDevice.objects.create(user=evaluateur, name="Téléphone", confirmed=True)
    _se_connecter(page, "sophie.leroy@ansm.example")
    assert "/comptes/double-facteur/verification/" in page.url
    assert page.get_by_role("heading", level=1).inner_text() == "Vérification en deux étapes"
    page.get_by_label("Code à usage unique").fill(code_totp(appareil))
    page.get_by_role("button", name="Vérifier").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/")
    assert page.get_by_role("heading", level=1).inner_text() == "Accès dérogatoires aux médicaments"
    assert page.locator("#utilisateur-connecte").inner_text() == "Sophie Leroy — Évaluateur ANSM"
    assert page.erreurs_console == []


def test_un_administrateur_enregistre_son_application_avec_le_qr_code(page):
    UtilisateurFactory(administrateur=True, email="anne.moreau@ansm.example", prenom="Anne", nom="Moreau")
    _se_connecter(page, "anne.moreau@ansm.example")
    assert "/comptes/double-facteur/activation/" in page.url
    # The QR code is a data: image: it must be displayed under the CSP (img-src 'self' data:).
    qr = page.locator("img.qr-code")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    secret = page.locator("#secret-totp").inner_text().replace(" ", "")
    page.get_by_label("Code à usage unique").fill(f"{totp(base64.b32decode(secret)):06d}")
    page.get_by_role("button", name="Activer").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#utilisateur-connecte").inner_text() == "Anne Moreau — Administrateur"
    assert "Votre application d'authentification est enregistrée." in page.content()
    assert page.erreurs_console == []
