"""Demo accounts for `make run`: one per role; the two ANSM accounts come with an authenticator key."""

import base64
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from comptes.demo import COMPTES_DEMO, creer_comptes_demo
from comptes.enums import Role
from comptes.models import Utilisateur

pytestmark = pytest.mark.django_db


def test_un_compte_par_role_et_un_second_facteur_pour_les_comptes_ansm():
    crees = creer_comptes_demo()
    assert sorted(Utilisateur.objects.values_list("role", flat=True)) == sorted(Role.values)
    avec_cle = {compte.email: compte for compte in crees if compte.otpauth}
    assert set(avec_cle) == {"evaluateur@demo.referentiel-ad.fr", "admin@demo.referentiel-ad.fr"}
    for email, compte in avec_cle.items():
        appareil = TOTPDevice.objects.get(user__email=email)
        assert appareil.confirmed is True
        assert compte.secret == base64.b32encode(appareil.bin_key).decode()
        assert compte.otpauth.startswith("otpauth://totp/R%C3%A9f%C3%A9rentiel%20AD%3A")
        assert f"secret={compte.secret}" in compte.otpauth and "issuer=R%C3%A9f%C3%A9rentiel%20AD" in compte.otpauth
    assert all(compte.mot_de_passe for compte in crees) and len(crees) == len(COMPTES_DEMO)
    # Idempotent: nothing new the second time, no second device.
    assert creer_comptes_demo() == []
    assert TOTPDevice.objects.count() == 2


def test_un_compte_ansm_cree_avant_le_second_facteur_recoit_sa_cle_sans_changer_de_mot_de_passe():
    creer_comptes_demo()
    TOTPDevice.objects.filter(user__email="evaluateur@demo.referentiel-ad.fr").delete()
    (compte,) = creer_comptes_demo()
    assert compte.email == "evaluateur@demo.referentiel-ad.fr"
    assert compte.mot_de_passe is None and compte.otpauth


def test_la_commande_affiche_et_conserve_mot_de_passe_et_cle(settings, tmp_path, client):
    settings.DATA_DIR = tmp_path
    sortie = StringIO()
    call_command("creer_comptes_demo", stdout=sortie)
    texte = sortie.getvalue()
    fichier = (tmp_path / "comptes_demo.txt").read_text(encoding="utf-8")
    ligne = re.search(r"(\S+@demo\.referentiel-ad\.fr)\s+mot de passe : (\S+)", texte.split("Évaluateur ANSM")[1])
    email, mot_de_passe = ligne.groups()
    secret = re.search(rf"{re.escape(email)}\s+second facteur \(TOTP\) : ([A-Z2-7]+)", texte).group(1)
    assert mot_de_passe in fichier and secret in fichier and "otpauth://totp/" in fichier
    assert oct((tmp_path / "comptes_demo.txt").stat().st_mode & 0o777) == "0o600"

    # What a `make run` user does: log in with the printed password, then type the code of their app.
    client.post(reverse("comptes:connexion"), {"username": email, "password": mot_de_passe})
    code = f"{totp(base64.b32decode(secret)):06d}"
    reponse = client.post(reverse("comptes:double_facteur_verification"), {"code": code, "next": "/"})
    assert reponse.status_code == 302 and reponse.url == "/"
    assert client.get("/").status_code == 200

    sortie = StringIO()
    call_command("creer_comptes_demo", stdout=sortie)
    assert "Comptes de démonstration déjà présents" in sortie.getvalue()
