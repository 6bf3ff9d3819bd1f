"""Operations middleware: a request id on every request and log line (and audit row), and a clean 503 when
PostgreSQL is down."""

import logging
import re
import sys
import time
import uuid

from django.core.signals import got_request_exception, request_finished
from django.db import InterfaceError, OperationalError

from comptes.audit import REQUETE_COURANTE

from .logging import ID_REQUETE

logger = logging.getLogger("config.requetes")

# An id received from the reverse proxy is kept only if it cannot inject anything into a log line.
_ID_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

# What psycopg raises, wrapped by Django, when the server is down, restarting, or refuses connections; also a
# statement or lock timeout (OperationalError subclasses), after which retrying later is the right advice too.
ERREURS_BASE = (OperationalError, InterfaceError)


class RequestIdMiddleware:
    """Give each request an id (the proxy's `X-Request-ID` or a new one), log it, and return it in the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        entrant = request.headers.get("X-Request-ID", "")
        identifiant = entrant if _ID_ACCEPTABLE.match(entrant) else uuid.uuid4().hex
        # Left set until request_finished: Django's own "Bad Request"/"Internal Server Error" lines are logged
        # after the middleware chain returns, and must carry the id too.
        ID_REQUETE.set(identifiant)
        request.request_id = identifiant
        # The audit trail's triggers learn the logged-in user from this request, at the moment a write happens
        # (comptes.audit): the user may log in or out during the request itself. Forgotten as soon as the view has
        # answered, streamed or not (request_finished never comes for a streamed body nobody reads to the end):
        # a write made afterwards by the same thread is not this user's.
        jeton = REQUETE_COURANTE.set(request)
        debut = time.perf_counter()
        try:
            reponse = self.get_response(request)
        finally:
            REQUETE_COURANTE.reset(jeton)
        reponse["X-Request-ID"] = identifiant
        logger.info(
            "%s %s %s",
            request.method,
            request.path,
            reponse.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": reponse.status_code,
                "duration_ms": round((time.perf_counter() - debut) * 1000, 1),
            },
        )
        return reponse


def _oublier_id_requete(sender, **kwargs):
    ID_REQUETE.set("-")
    REQUETE_COURANTE.set(None)


request_finished.connect(_oublier_id_requete, dispatch_uid="config.middleware.oublier_id_requete")


def _noter_base_indisponible(sender, request=None, **kwargs):
    """Mark a request whose uncaught exception is a database outage (raised in a middleware, not a view).

    Django turns such an exception into a 500 inside the middleware chain before it can reach an outer
    middleware; this signal is sent while the exception is being handled, so the outer middleware can tell.
    """
    exception = sys.exception()
    if request is not None and isinstance(exception, ERREURS_BASE):
        request.base_indisponible = exception


got_request_exception.connect(_noter_base_indisponible, dispatch_uid="config.middleware.base_indisponible")


class BaseIndisponibleMiddleware:
    """Answer 503 (design-system page, or JSON for the API) when PostgreSQL cannot serve the request.

    Place it before SessionMiddleware: loading the session or the user is often the first query that fails.
    A failed request wrote nothing: every write runs in a transaction that the error rolled back.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        reponse = self.get_response(request)
        exception = getattr(request, "base_indisponible", None)
        if exception is not None:
            return self._indisponible(request, exception)
        return reponse

    def process_exception(self, request, exception):
        if isinstance(exception, ERREURS_BASE):
            return self._indisponible(request, exception)
        return None

    def _indisponible(self, request, exception):
        return reponse_base_indisponible(request, exception)


def cause_base_indisponible(exception: BaseException | None) -> BaseException | None:
    """The database outage behind `exception`, if any, following the chain of exceptions raised while handling.

    Django's session backend turns any DatabaseError while saving the session into UpdateError, which the session
    middleware turns into a 400 (SessionInterrupted): the outage must still be answered with a 503.
    """
    vues = set()
    while exception is not None and id(exception) not in vues:
        if isinstance(exception, ERREURS_BASE):
            return exception
        vues.add(id(exception))
        exception = exception.__cause__ or exception.__context__
    return None


def reponse_base_indisponible(request, exception: BaseException):
    """Log the outage (its first line, never a URL or a secret) and answer the 503 page or JSON."""
    from .views import base_indisponible

    detail = str(exception).strip().splitlines()
    logger.warning(
        "Base de données indisponible pendant %s %s : %s",
        request.method,
        request.path,
        exception.__class__.__name__,
        extra={"database_error": detail[0] if detail else ""},
    )
    return base_indisponible(request)
