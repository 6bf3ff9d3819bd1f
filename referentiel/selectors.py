"""Reads of the référentiel."""

from django.core.cache import cache

from .models import Specialite

_CLE_DEMONSTRATION = "referentiel:demonstration"


def demonstration_chargee() -> bool:
    """Whether demonstration data is loaded (every page then says so). Cached a minute: read on every page."""
    valeur = cache.get(_CLE_DEMONSTRATION)
    if valeur is None:
        valeur = Specialite.objects.filter(demonstration=True).exists()
        cache.set(_CLE_DEMONSTRATION, valeur, 60)
    return valeur


def demonstration_oublier() -> None:
    cache.delete(_CLE_DEMONSTRATION)
