"""Site-wide pages: home, the footer's legal pages, the error pages in the design system, the health probe."""

import os
import sys
import time

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views import defaults
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET

from .context_processors import site

PAGES_STATIQUES = {
    "accessibilite": "Déclaration d'accessibilité",
    "mentions_legales": "Mentions légales",
    "donnees_personnelles": "Données personnelles",
    "cookies": "Gestion des cookies",
    "plan_du_site": "Plan du site",
}

MESSAGE_BASE_INDISPONIBLE = (
    "Service momentanément indisponible : la base de données ne répond pas. Aucune donnée n'a été enregistrée "
    "à moitié ; réessayez dans quelques instants."
)
RETRY_AFTER_SECONDES = 30


@require_GET
def accueil(request):
    return render(request, "accueil.html", {"title": "Accueil"})


@require_GET
@cache_control(public=True, max_age=3600)
def page_statique(request, page: str):
    if page not in PAGES_STATIQUES:
        raise Http404
    return render(request, f"pages/{page}.html", {"title": PAGES_STATIQUES[page]})


def erreur_400(request, exception=None):
    """A 400 caused by a database outage (the session could not be saved) is a 503; any other keeps Django's."""
    from .middleware import cause_base_indisponible, reponse_base_indisponible

    panne = cause_base_indisponible(exception)
    if panne is not None:
        return reponse_base_indisponible(request, panne)
    return defaults.bad_request(request, exception)


def erreur_403(request, exception=None):
    return render(request, "erreurs/403.html", {"title": "Accès refusé"}, status=403)


def erreur_404(request, exception=None):
    return render(request, "erreurs/404.html", {"title": "Page non trouvée"}, status=404)


def _page_sans_base(request, gabarit: str, titre: str, statut: int) -> HttpResponse:
    """An error page in the design system rendered without context processors, hence without any query.

    The failure being reported may be the database itself: the menu, the user and the demonstration banner (which
    need it) are left out.
    """
    contexte = {
        **site(request),
        "request": request,
        "title": titre,
        "skiplinks": [{"link": "#content", "label": "Contenu"}, {"link": "#footer", "label": "Pied de page"}],
    }
    return HttpResponse(loader.render_to_string(gabarit, contexte), status=statut)


def base_indisponible(request) -> HttpResponse:
    """503 while PostgreSQL is down: JSON for the API, a page otherwise; clients may retry after 30 s."""
    if request.path.startswith("/api/"):
        reponse = JsonResponse({"detail": MESSAGE_BASE_INDISPONIBLE}, status=503)
    else:
        reponse = _page_sans_base(request, "erreurs/503.html", "Service momentanément indisponible", 503)
    reponse["Retry-After"] = str(RETRY_AFTER_SECONDES)
    reponse["Cache-Control"] = "no-store"
    return reponse


def erreur_500(request):
    from .middleware import ERREURS_BASE

    if isinstance(sys.exception(), ERREURS_BASE):
        return base_indisponible(request)
    return _page_sans_base(request, "erreurs/500.html", "Erreur du service", 500)


# --- Health probe -------------------------------------------------------------------------------------------------


def _chronometre(verification) -> dict:
    debut = time.perf_counter()
    resultat = verification()
    resultat["duree_ms"] = round((time.perf_counter() - debut) * 1000, 1)
    return resultat


def _verifier_base() -> dict:
    try:
        with connection.cursor() as curseur:
            curseur.execute("SELECT 1")
            curseur.fetchone()
    except DatabaseError as exc:
        return {"ok": False, "erreur": exc.__class__.__name__}
    return {"ok": True}


def _verifier_broker() -> dict:
    """A short connection to the Celery broker (2 s at most); the filesystem transport: its folder is writable."""
    from config.celery import app

    if app.conf.broker_url.startswith("filesystem://"):
        dossier = app.conf.broker_transport_options.get("data_folder_in", "")
        if dossier and os.path.isdir(dossier) and os.access(dossier, os.W_OK):
            return {"ok": True, "transport": "filesystem"}
        return {"ok": False, "transport": "filesystem", "erreur": "dossier du broker absent ou non inscriptible"}
    try:
        with app.connection_for_write(connect_timeout=2) as connexion:
            connexion.ensure_connection(max_retries=1, interval_start=0, interval_step=0.2, timeout=2)
            transport = connexion.transport_cls
    except Exception as exc:  # kombu raises the transport's own errors (redis, amqp, socket)
        return {"ok": False, "erreur": exc.__class__.__name__}
    return {"ok": True, "transport": str(transport)}


def _verifier_worker() -> dict:
    """At least one Celery worker answers a ping within a second (only when asked: it costs that second)."""
    from config.celery import app

    try:
        reponses = app.control.ping(timeout=1.0)
    except Exception as exc:
        return {"ok": False, "erreur": exc.__class__.__name__}
    return {"ok": bool(reponses), "workers": len(reponses)}


@require_GET
@never_cache
def sante(request):
    """Health probe for load balancers and monitoring: 200 when the database and the broker answer, else 503.

    `?worker=1` also pings the Celery workers. Error details name the failing part, never a URL or a secret.
    """
    verifications = {"base_de_donnees": _chronometre(_verifier_base), "broker": _chronometre(_verifier_broker)}
    if request.GET.get("worker"):
        verifications["worker"] = _chronometre(_verifier_worker)
    ok = all(resultat["ok"] for resultat in verifications.values())
    return JsonResponse(
        {"statut": "ok" if ok else "indisponible", "service": settings.SERVICE_NAME, "verifications": verifications},
        status=200 if ok else 503,
        json_dumps_params={"ensure_ascii": False},
    )
