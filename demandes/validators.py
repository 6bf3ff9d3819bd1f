"""Field checks shared by the services, the page forms and the API serializers."""

import re
import unicodedata

from django.core.exceptions import ValidationError

from .models import REGEX_INITIALES

MESSAGE_INITIALES = (
    "Saisissez uniquement les initiales du patient (nom et prénom), par exemple « J.-D. » ou « JD » : "
    "ni nom complet, ni date de naissance, ni numéro de sécurité sociale (R43)."
)


def initiales_normaliser(valeur: str) -> str:
    """Upper-case initials without accents or spaces ("j.-d. m" -> "J.-D.M"): one spelling in the database."""
    sans_accents = unicodedata.normalize("NFKD", valeur or "").encode("ascii", "ignore").decode()
    return re.sub(r"\s+", "", sans_accents).upper()


def valider_initiales(valeur: str) -> None:
    if not re.fullmatch(REGEX_INITIALES, initiales_normaliser(valeur)):
        raise ValidationError(MESSAGE_INITIALES, code="initiales")
