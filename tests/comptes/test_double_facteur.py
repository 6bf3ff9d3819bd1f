"""Issue 7: ANSM staff (évaluateurs, administrateurs) pass a TOTP second factor after the password."""

import datetime
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from comptes.enums import TypeEvenementCompte
from comptes.middleware import MESSAGE_API
from comptes.models import EvenementCompte
from tests.conftest import code_totp, connecter
from tests.factories import UtilisateurFactory

pytestmark = pytest.mark.django_db

ACTIVATION = reverse("comptes:double_facteur_activation")
VERIFICATION = reverse("comptes:double_facteur_verification")


@pytest.fixture
def instant():
    """A fixed clock, moved forward by tests (TOTP codes and throttling depend on time)."""
    with time_machine.travel(timezone.make_aware(datetime.datetime(2026, 3, 2, 9, 0, 0)), tick=False) as voyage:
        yield voyage


@pytest.fixture
def evaluateur():
    return UtilisateurFactory(evaluateur=True, prenom="Sophie", nom="Leroy")


@pytest.fixture
def appareil(evaluateur):
    return TOTPDevice.objects.create(user=evaluateur, name="Téléphone", confirmed=True)


def _types(utilisateur) -> list[str]:
    return list(EvenementCompte.objects.filter(utilisateur=utilisateur).order_by("pk").values_list("type", flat=True))


@pytest.mark.parametrize("trait", ["evaluateur", "administrateur"])
def test_un_agent_ansm_sans_appareil_est_envoye_vers_l_activation(client, trait):
    client.force_login(UtilisateurFactory(**{trait: True}))
    reponse = client.get("/referentiel/?q=ibrutinib")
    assert reponse.status_code == 302
    assert reponse.url == f"{ACTIVATION}?next=%2Freferentiel%2F%3Fq%3Dibrutinib"


def test_un_agent_ansm_avec_appareil_est_envoye_vers_la_verification(client, evaluateur, appareil):
    client.force_login(evaluateur)
    reponse = client.get(reverse("comptes:mon_compte"))
    assert reponse.status_code == 302
    assert reponse.url == f"{VERIFICATION}?next=%2Fcomptes%2Fmon-compte%2F"
    # The enrolment page is closed once a device exists: a stolen password cannot enrol another phone.
    reponse = client.get(ACTIVATION)
    assert reponse.status_code == 302 and reponse.url.startswith(VERIFICATION)
    assert TOTPDevice.objects.filter(user=evaluateur).count() == 1


def test_l_api_repond_403_en_francais_a_un_agent_non_verifie(client, evaluateur, appareil):
    client.force_login(evaluateur)
    reponse = client.get("/api/schema/")
    assert reponse.status_code == 403
    assert reponse.json() == {"detail": MESSAGE_API}


def test_deconnexion_et_sonde_de_sante_restent_accessibles_avant_le_second_facteur(client, evaluateur, appareil):
    client.force_login(evaluateur)
    assert client.get(reverse("sante")).status_code == 200
    client.post(reverse("comptes:deconnexion"))
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("trait", ["prescripteur", "pharmacien", "laboratoire_role"])
def test_les_autres_roles_ne_sont_jamais_interroges(client, trait):
    utilisateur = UtilisateurFactory(**{trait: True})
    client.force_login(utilisateur)
    reponse = client.get(reverse("comptes:mon_compte"))
    assert reponse.status_code == 200
    assert utilisateur.email in reponse.content.decode()
    assert client.get(VERIFICATION).status_code == 403
    assert not TOTPDevice.objects.filter(user=utilisateur).exists()


def test_activation_affiche_le_qr_code_et_la_cle_puis_confirme_l_appareil(client, evaluateur, instant):
    client.force_login(evaluateur)
    page = client.get(f"{ACTIVATION}?next=/comptes/mon-compte/")
    html = page.content.decode()
    appareil = TOTPDevice.objects.get(user=evaluateur)
    assert appareil.confirmed is False
    assert re.search(r'<img class="qr-code"\s+src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]+"', html)
    secret = re.search(r'<code id="secret-totp">([A-Z2-7 ]+)</code>', html).group(1).replace(" ", "")
    assert secret == __import__("base64").b32encode(appareil.bin_key).decode()
    # Reloading the page keeps the same pending secret (the phone may already have scanned it).
    client.get(ACTIVATION)
    assert TOTPDevice.objects.filter(user=evaluateur).count() == 1

    reponse = client.post(ACTIVATION, {"code": code_totp(appareil), "next": "/comptes/mon-compte/"})

    assert reponse.status_code == 302 and reponse.url == "/comptes/mon-compte/"
    appareil.refresh_from_db()
    assert appareil.confirmed is True
    assert client.session[DEVICE_ID_SESSION_KEY] == appareil.persistent_id
    assert _types(evaluateur) == [TypeEvenementCompte.DOUBLE_FACTEUR_ACTIVE]
    page = client.get("/comptes/mon-compte/")
    assert page.status_code == 200
    assert "Second facteur : application d'authentification enregistrée le 2 mars 2026." in page.content.decode()


def test_activation_refuse_un_code_faux_et_garde_l_appareil_en_attente(client, evaluateur, instant):
    client.force_login(evaluateur)
    client.get(ACTIVATION)
    reponse = client.post(ACTIVATION, {"code": "000000"})
    assert reponse.status_code == 400
    assert "Code incorrect. Vérifiez que l&#x27;heure de votre téléphone est à jour" in reponse.content.decode()
    appareil = TOTPDevice.objects.get(user=evaluateur)
    assert appareil.confirmed is False and appareil.throttling_failure_count == 1
    assert client.get("/").status_code == 302


def test_verification_ouvre_la_session_et_renvoie_vers_la_page_demandee(client, evaluateur, appareil, instant):
    client.force_login(evaluateur)
    cle_avant = client.session.session_key
    reponse = client.post(VERIFICATION, {"code": code_totp(appareil), "next": "/comptes/mon-compte/"})
    assert reponse.status_code == 302 and reponse.url == "/comptes/mon-compte/"
    # More privilege, new session key (no fixation of a half-authenticated session).
    assert client.session.session_key != cle_avant
    page = client.get("/")
    assert page.status_code == 200
    assert "Sophie Leroy — Évaluateur ANSM" in page.content.decode()
    assert client.get("/api/schema/").status_code == 200
    assert _types(evaluateur) == [TypeEvenementCompte.DOUBLE_FACTEUR_VERIFIE]


def test_un_code_ne_sert_qu_une_fois(client, evaluateur, appareil, instant):
    code = code_totp(appareil)
    client.force_login(evaluateur)
    assert client.post(VERIFICATION, {"code": code}).status_code == 302
    client.post(reverse("comptes:deconnexion"))
    client.force_login(evaluateur)
    reponse = client.post(VERIFICATION, {"code": code})
    assert reponse.status_code == 400
    assert "Code incorrect ou déjà utilisé" in reponse.content.decode()


def test_codes_faux_journalises_et_freines_de_plus_en_plus(client, evaluateur, appareil, instant):
    client.force_login(evaluateur)
    reponse = client.post(VERIFICATION, {"code": "123456"})
    assert "Code incorrect ou déjà utilisé" in reponse.content.decode()
    # Right after a failure even the right code waits (1 s, then 2 s, 4 s…): guessing is slowed down.
    reponse = client.post(VERIFICATION, {"code": code_totp(appareil)})
    assert reponse.status_code == 400
    assert "Trop de codes erronés à la suite. Réessayez après 09:00:01." in reponse.content.decode()
    instant.shift(2)
    reponse = client.post(VERIFICATION, {"code": code_totp(appareil)})
    assert reponse.status_code == 302
    assert _types(evaluateur) == [TypeEvenementCompte.DOUBLE_FACTEUR_ECHEC, TypeEvenementCompte.DOUBLE_FACTEUR_VERIFIE]


def test_la_verification_ne_renvoie_pas_vers_un_autre_site(client, evaluateur, appareil, instant):
    client.force_login(evaluateur)
    reponse = client.post(VERIFICATION, {"code": code_totp(appareil), "next": "https://pirate.example/"})
    assert reponse.status_code == 302 and reponse.url == "/"


def test_code_mal_forme_message_clair(client, evaluateur, appareil):
    client.force_login(evaluateur)
    reponse = client.post(VERIFICATION, {"code": "12ab56"})
    assert "Le code ne contient que des chiffres." in reponse.content.decode()
    assert appareil.__class__.objects.get(pk=appareil.pk).throttling_failure_count == 0


def test_connecter_des_tests_passe_le_second_facteur_des_agents(client, evaluateur):
    connecter(client, evaluateur)
    reponse = client.get(reverse("comptes:mon_compte"))
    assert reponse.status_code == 200
    assert "Sophie Leroy" in reponse.content.decode()


def test_un_compte_d_administration_technique_est_interroge_quel_que_soit_son_role(client):
    # A prescriber given is_staff by mistake must not reach the back-office on a password alone.
    prescripteur = UtilisateurFactory(prescripteur=True, is_staff=True)
    client.force_login(prescripteur)
    reponse = client.get("/admin-technique/")
    assert reponse.status_code == 302
    assert reponse.url == f"{ACTIVATION}?next=%2Fadmin-technique%2F"
