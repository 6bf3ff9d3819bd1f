"""Demonstration accounts, one per role, for `make run`."""

import secrets

from django.db import transaction

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


@transaction.atomic
def creer_comptes_demo() -> list[tuple[str, str, str]]:
    """Create the missing demo accounts; return (email, role label, password) for those created now."""
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
        if Utilisateur.objects.filter(email=email).exists():
            continue
        mot_de_passe = secrets.token_urlsafe(12)
        extra = {}
        if role in (Role.PRESCRIPTEUR, Role.PHARMACIEN):
            extra["rpps"] = avec_cle_luhn(f"1000000{numero:03d}")
            extra["etablissement"] = etablissement
        if role == Role.PHARMACIEN:
            extra["pui"] = pui
        if role == Role.LABORATOIRE:
            extra["laboratoire"] = laboratoire
        Utilisateur.objects.create_user(
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
        crees.append((email, Role(role).label, mot_de_passe))
    return crees
