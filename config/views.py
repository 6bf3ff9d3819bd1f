"""Site-wide pages: home, the footer's legal pages, and the error pages in the design system."""

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

PAGES_STATIQUES = {
    "accessibilite": "Déclaration d'accessibilité",
    "mentions_legales": "Mentions légales",
    "donnees_personnelles": "Données personnelles",
    "cookies": "Gestion des cookies",
    "plan_du_site": "Plan du site",
}


@require_GET
def accueil(request):
    return render(request, "accueil.html", {"title": "Accueil"})


@require_GET
@cache_control(public=True, max_age=3600)
def page_statique(request, page: str):
    if page not in PAGES_STATIQUES:
        raise Http404
    return render(request, f"pages/{page}.html", {"title": PAGES_STATIQUES[page]})


def erreur_403(request, exception=None):
    return render(request, "erreurs/403.html", {"title": "Accès refusé"}, status=403)


def erreur_404(request, exception=None):
    return render(request, "erreurs/404.html", {"title": "Page non trouvée"}, status=404)


def erreur_500(request):
    # No context processors that could fail again: the template only needs static text.
    return render(request, "erreurs/500.html", {"title": "Erreur du service"}, status=500)
