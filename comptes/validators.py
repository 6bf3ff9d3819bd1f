"""Checks of the professional and establishment identifiers (DOMAIN.md, identifiers table)."""

import re

from django.core.exceptions import ValidationError

_RPPS = re.compile(r"^\d{11}$")
_FINESS = re.compile(r"^(\d{2}|2A|2B)\d{7}$")


def luhn_valide(digits: str) -> bool:
    """True when the last digit of `digits` is the Luhn key of the others."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def valider_rpps(value: str) -> None:
    """RPPS: 11 digits, the last one a Luhn key over all 11."""
    if not _RPPS.match(value or ""):
        raise ValidationError(
            "Le numéro RPPS doit comporter exactement 11 chiffres (reçu « %(value)s »).",
            code="rpps_format",
            params={"value": value},
        )
    if not luhn_valide(value):
        raise ValidationError(
            "Le numéro RPPS « %(value)s » est invalide : sa clé de contrôle (dernier chiffre) ne correspond pas.",
            code="rpps_cle",
            params={"value": value},
        )


def valider_finess(value: str) -> None:
    """FINESS: département (2 digits, or 2A/2B) + 6 digits + key; Luhn over the 9 digits, format only for Corsica."""
    value = (value or "").upper()
    if not _FINESS.match(value):
        raise ValidationError(
            "Le numéro FINESS doit comporter 9 caractères : le département (2 chiffres, ou 2A/2B pour la Corse) "
            "suivi de 7 chiffres (reçu « %(value)s »).",
            code="finess_format",
            params={"value": value},
        )
    if value[:2] in {"2A", "2B"}:
        return
    if not luhn_valide(value):
        raise ValidationError(
            "Le numéro FINESS « %(value)s » est invalide : sa clé de contrôle (dernier chiffre) ne correspond pas.",
            code="finess_cle",
            params={"value": value},
        )
