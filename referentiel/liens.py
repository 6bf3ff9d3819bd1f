"""Links to the référentiel's pages that lists print once per row."""

from collections.abc import Callable

from django.urls import reverse

_JETON = "jeton-de-slug"


def url_fiche_par_slug(absolue: Callable[[str], str] | None = None) -> Callable[[str], str]:
    """The fiche's URL of a slug, the route reversed once (a list prints one per row: the list page, the API list).
    `absolue` (e.g. request.build_absolute_uri) makes it absolute."""
    modele = reverse("referentiel:fiche", args=[_JETON])
    if absolue is not None:
        modele = absolue(modele)
    debut, fin = modele.split(_JETON, 1)
    return lambda slug: f"{debut}{slug}{fin}"
