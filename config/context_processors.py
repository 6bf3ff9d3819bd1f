"""Site-wide template context, without a database query (the DSFR header and footer read SITE_CONFIG)."""

from types import SimpleNamespace

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from referentiel.selectors import demonstration_chargee

_SITE = SimpleNamespace(
    site_title=settings.SERVICE_NAME,
    site_tagline="Accès dérogatoires aux médicaments : référentiel et demandes d'AAC",
    header_brand_html="République<br>Française",
    footer_brand_html="République<br>Française",
    footer_description=(
        "Référentiel des médicaments en accès dérogatoire (AAC, AAP, CPC, ATU/RTU historiques) "
        "et dépôt des demandes d'autorisation d'accès compassionnel."
    ),
    beta_tag=True,
    mourning=False,
    notice_title="",
    notice_description="",
    operator_logo_file=None,
    operator_logo_alt="",
    operator_logo_width=0,
    newsletter_description="",
    newsletter_url="",
    social_media=[],
    accessibility_status="NOT",
)
# The DSFR footer appends "conforme" itself: "Accessibilité : non conforme".
_SITE.get_accessibility_status_display = lambda: "non"


def site(request):
    return {"SITE_CONFIG": _SITE, "SERVICE_NAME": settings.SERVICE_NAME}


# Main menu: (URL name, label, roles allowed or None for everyone). Entries whose route is not installed are skipped.
_MENU = [
    ("referentiel:liste", "Référentiel", None),
    ("demandes:espace", "Mes demandes", {"prescripteur", "pharmacien"}),
    ("ansm:tableau_de_bord", "Espace ANSM", {"evaluateur", "administrateur"}),
    ("laboratoire:espace", "Espace laboratoire", {"laboratoire"}),
]


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def navigation(request):
    user = getattr(request, "user", None)  # absent on the 500 page when the middleware did not run
    role = getattr(user, "role", None) if user is not None and user.is_authenticated else None
    menu = []
    for name, libelle, roles in _MENU:
        url = _url(name)
        if url and (roles is None or role in roles):
            menu.append({"url": url, "libelle": libelle, "actif": request.path.startswith(url) and url != "/"})
    return {
        "MENU": menu,
        "LIENS": {
            "referentiel": _url("referentiel:liste") or "/",
            "demandes": _url("demandes:espace") or _url("comptes:connexion"),
            "backoffice": _url("ansm:tableau_de_bord") or _url("comptes:connexion"),
        },
        "skiplinks": [
            {"link": "#content", "label": "Contenu"},
            {"link": "#fr-navigation", "label": "Menu"},
            {"link": "#footer", "label": "Pied de page"},
        ],
        "DEMONSTRATION": demonstration_chargee(),
    }
