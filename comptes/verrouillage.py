"""django-axes hooks: which login and address an attempt counts against, and the French lockout page."""

import ipaddress

from django.conf import settings
from django.shortcuts import render


def identifiant_connexion(request, credentials: dict | None) -> str | None:
    """The login as axes counts it: lowercased, since emails log in case-insensitively.

    Without it, « Eva@ANSM.fr » and « eva@ansm.fr » would be two counters and the lockout easy to dodge.
    """
    valeur = (credentials or {}).get(settings.AXES_USERNAME_FORM_FIELD)
    if valeur is None and request is not None:
        valeur = request.POST.get(settings.AXES_USERNAME_FORM_FIELD)
    return valeur.strip().lower() if valeur else valeur


def adresse_client(request) -> str | None:
    """Behind the TLS reverse proxy (BEHIND_PROXY): the client address the proxy appended last to X-Forwarded-For.

    Without it every login would come from the proxy's address, and one person's failures would lock everybody out
    of that account. Only the last entry is trusted: anything before it was sent by the client and can be forged.
    """
    transmises = request.META.get("HTTP_X_FORWARDED_FOR", "")
    derniere = transmises.rsplit(",", 1)[-1].strip()
    try:
        return str(ipaddress.ip_address(derniere))
    except ValueError:
        return request.META.get("REMOTE_ADDR")


def reponse_verrouillage(request, original_response=None, credentials=None):
    """The page shown instead of the login form once the failure limit is reached (HTTP 429)."""
    duree = settings.AXES_COOLOFF_TIME
    minutes = round(duree * 60) if duree else None  # None: until an administrator unlocks the account
    return render(
        request,
        "comptes/verrouille.html",
        {
            "title": "Connexion temporairement bloquée",
            "duree_minutes": minutes,
            "tentatives": settings.AXES_FAILURE_LIMIT,
        },
        status=429,
    )
