"""Logging: a request id on every line, human-readable in development, one JSON object per line in production.

`LOG_FORMAT=json` turns on the JSON lines that log collectors parse; the request id set by
config.middleware.RequestIdMiddleware (or received in `X-Request-ID` from the reverse proxy) ties together every
line of one request, and follows it into the Celery tasks it enqueues.
"""

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

from django.core.exceptions import ImproperlyConfigured

# The id of the request (or task) being served by this thread or coroutine; "-" outside of one.
ID_REQUETE: ContextVar[str] = ContextVar("id_requete", default="-")

# Attributes every LogRecord has: anything else was passed with `extra=` and belongs in the JSON object.
_ATTRIBUTS_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}

FORMATS = ("texte", "json")
FORMAT_TEXTE = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s : %(message)s"


class FiltreIdRequete(logging.Filter):
    """Adds `record.request_id` (installed on the handlers, so records of every logger get it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = ID_REQUETE.get()
        return True


class FormateurJson(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request id, extras, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        objet = {
            "timestamp": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or ID_REQUETE.get(),
        }
        for cle, valeur in record.__dict__.items():
            if cle not in _ATTRIBUTS_STANDARD and not cle.startswith("_"):
                objet[cle] = valeur
        if record.exc_info:
            objet["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            objet["stack"] = self.formatStack(record.stack_info)
        return json.dumps(objet, ensure_ascii=False, default=str)


def configuration_journalisation(*, format_journal: str, niveau: str) -> dict:
    """The LOGGING setting; a wrong LOG_FORMAT or LOG_LEVEL stops the start with a message naming it."""
    if format_journal not in FORMATS:
        raise ImproperlyConfigured(f"LOG_FORMAT doit valoir texte ou json (reçu {format_journal!r}).")
    niveau = niveau.upper()
    if niveau not in logging.getLevelNamesMapping():
        raise ImproperlyConfigured(f"LOG_LEVEL doit être un niveau de journalisation, comme INFO (reçu {niveau!r}).")
    formateur = {"()": FormateurJson} if format_journal == "json" else {"format": FORMAT_TEXTE}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"id_requete": {"()": FiltreIdRequete}},
        "formatters": {"principal": formateur},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "filters": ["id_requete"], "formatter": "principal"}
        },
        "root": {"handlers": ["console"], "level": niveau},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # Django's runserver prints its own access line; ours (config.requetes) carries the request id.
            "django.server": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        },
    }


# --- Celery: the request id travels with the task -----------------------------------------------------------


def _id_vers_message(headers=None, **kwargs) -> None:
    if headers is not None and ID_REQUETE.get() != "-":
        headers.setdefault("request_id", ID_REQUETE.get())


def _id_depuis_message(task=None, **kwargs) -> None:
    if task is not None:
        ID_REQUETE.set(getattr(task.request, "request_id", None) or f"tache-{task.request.id}")


def _id_oublier(**kwargs) -> None:
    ID_REQUETE.set("-")


def connecter_celery() -> None:
    """Carry the request id in the message headers and restore it in the worker while the task runs."""
    from celery.signals import before_task_publish, task_postrun, task_prerun

    before_task_publish.connect(_id_vers_message, dispatch_uid="config.logging.id_vers_message")
    task_prerun.connect(_id_depuis_message, dispatch_uid="config.logging.id_depuis_message")
    task_postrun.connect(_id_oublier, dispatch_uid="config.logging.id_oublier")
