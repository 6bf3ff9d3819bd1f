"""Demonstration accounts, one per role, for `make run`."""

import base64
import secrets
from dataclasses import dataclass

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from referentiel.models import Laboratoire

from .enums import Role, Territoire
from .models import PUI, Etablissement, Utilisateur
from .validators import luhn_valide


def avec_cle_luhn(prefixe: str) -> str:
    """Append the Luhn key digit that makes prefixe + key valid."""
    for cle in "0123456789":
        if luhn_valide(prefixe + cle):
            return prefixe + cle
    raise AssertionError("unreachable")


COMPTES_DEMO = [
    ("prescripteur@demo.referentiel-ad.fr", Role.PRESCRIPTEUR, "Claire", "Martin", "Hématologue, PH"),
    ("pharmacien@demo.referentiel-ad.fr", Role.PHARMACIEN, "Karim", "Benali", "Pharmacien, PUI"),
    ("evaluateur@demo.referentiel-ad.fr", Role.EVALUATEUR, "Sophie", "Leroy", "Évaluatrice, ANSM"),
    ("laboratoire@demo.referentiel-ad.fr", Role.LABORATOIRE, "Marc", "Dupont", "Affaires réglementaires"),
    ("admin@demo.referentiel-ad.fr", Role.ADMINISTRATEUR, "Anne", "Moreau", "Administratrice, ANSM"),
]


@dataclass(frozen=True)
class CompteDemo:
    """What `make run` prints once: the password of a new account, the authenticator URL of a new staff device."""

    email: str
    role: str
    mot_de_passe: str | None  # None: the account already existed, its password was printed when it was created
    otpauth: str | None  # otpauth:// URL of the TOTP device created now (staff only), to scan or type in an app
    secret: str | None  # the same key in base32, for apps without a QR scanner


def _appareil_demo(utilisateur: Utilisateur) -> TOTPDevice | None:
    """A confirmed TOTP device for a demo staff account that has none: its secret is printed with the password."""
    if not utilisateur.est_ansm or TOTPDevice.objects.filter(user=utilisateur, confirmed=True).exists():
        return None
    return TOTPDevice.objects.create(user=utilisateur, name="Application de démonstration", confirmed=True)


@transaction.atomic
def creer_comptes_demo() -> list[CompteDemo]:
    """Create the missing demo accounts (and the staff accounts' authenticators); return what was created now."""
    etablissement, _ = Etablissement.objects.get_or_create(
        finess=avec_cle_luhn("75000001"),
        defaults={"nom": "CHU de démonstration", "ville": "Paris", "territoire": Territoire.METROPOLE},
    )
    pui, _ = PUI.objects.get_or_create(
        etablissement=etablissement,
        nom="PUI du CHU de démonstration",
        defaults={"email": "pui@demo.referentiel-ad.fr"},
    )
    laboratoire = Laboratoire.objects.order_by("pk").first() or Laboratoire.objects.create(
        nom="Laboratoire de démonstration", est_titulaire=True, est_exploitant=True
    )
    crees = []
    for numero, (email, role, prenom, nom, fonction) in enumerate(COMPTES_DEMO, start=1):
        mot_de_passe = None
        utilisateur = Utilisateur.objects.filter(email=email).first()
        if utilisateur is None:
            mot_de_passe = secrets.token_urlsafe(12)
            extra = {}
            if role in (Role.PRESCRIPTEUR, Role.PHARMACIEN):
                extra["rpps"] = avec_cle_luhn(f"1000000{numero:03d}")
                extra["etablissement"] = etablissement
            if role == Role.PHARMACIEN:
                extra["pui"] = pui
            if role == Role.LABORATOIRE:
                extra["laboratoire"] = laboratoire
            utilisateur = Utilisateur.objects.create_user(
                email=email,
                password=mot_de_passe,
                role=role,
                prenom=prenom,
                nom=nom,
                fonction=fonction,
                is_staff=role == Role.ADMINISTRATEUR,
                is_superuser=role == Role.ADMINISTRATEUR,
                **extra,
            )
        appareil = _appareil_demo(utilisateur)
        if mot_de_passe is None and appareil is None:
            continue
        crees.append(
            CompteDemo(
                email=email,
                role=Role(role).label,
                mot_de_passe=mot_de_passe,
                otpauth=appareil.config_url if appareil else None,
                secret=base64.b32encode(appareil.bin_key).decode() if appareil else None,
            )
        )
    return crees
