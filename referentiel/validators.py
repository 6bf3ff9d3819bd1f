"""Checks of the product identifiers (DOMAIN.md, identifiers table)."""

import re

from django.core.exceptions import ValidationError

_CIS = re.compile(r"^\d{8}$")
_ATC = re.compile(r"^[A-Z]\d{2}[A-Z]{2}\d{2}$")
_CIP13 = re.compile(r"^34009\d{8}$")


def valider_cis(value: str) -> None:
    if not _CIS.match(value or ""):
        raise ValidationError(
            "Le code CIS doit comporter exactement 8 chiffres (reçu « %(value)s »).",
            code="cis_format",
            params={"value": value},
        )


def valider_atc(value: str) -> None:
    if not _ATC.match(value or ""):
        raise ValidationError(
            "Le code ATC doit être de niveau 5 : une lettre, 2 chiffres, 2 lettres, 2 chiffres (ex. L01EL01) ; "
            "reçu « %(value)s ».",
            code="atc_format",
            params={"value": value},
        )


def cle_ean13(digits12: str) -> int:
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(digits12))
    return (10 - total % 10) % 10


def valider_cip13(value: str) -> None:
    if not _CIP13.match(value or ""):
        raise ValidationError(
            "Le code CIP13 doit comporter 13 chiffres et commencer par 34009 (reçu « %(value)s »).",
            code="cip13_format",
            params={"value": value},
        )
    if cle_ean13(value[:12]) != int(value[12]):
        raise ValidationError(
            "Le code CIP13 « %(value)s » est invalide : sa clé EAN-13 ne correspond pas.",
            code="cip13_cle",
            params={"value": value},
        )
