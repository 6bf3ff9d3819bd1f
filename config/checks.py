"""Project system checks: configuration that would break at runtime, reported by `manage.py check` with an id.

Registered by comptes.apps.ComptesConfig.ready(). `deploy=True` checks run with `check --deploy` only: they
describe what production needs, which `make run` deliberately does without.
"""

from django.conf import settings
from django.core import checks

MIDDLEWARE_OTP = "django_otp.middleware.OTPMiddleware"
MIDDLEWARE_DOUBLE_FACTEUR = "comptes.middleware.DoubleFacteurMiddleware"


@checks.register(checks.Tags.compatibility)
def verifier_postgresql(app_configs=None, **kwargs):
    """config.E001: PostgreSQL only (full-text search, constraints, triggers); there is no SQLite path."""
    moteur = settings.DATABASES["default"]["ENGINE"]
    if moteur != "django.db.backends.postgresql":
        return [
            checks.Error(
                f"La base de données doit être PostgreSQL (moteur configuré : {moteur}).",
                hint="Donnez à DATABASE_URL une adresse postgres://…, ou retirez-la pour utiliser le PostgreSQL "
                "embarqué.",
                id="config.E001",
            )
        ]
    return []


@checks.register(checks.Tags.security)
def verifier_double_facteur(app_configs=None, **kwargs):
    """config.E002: the second factor of ANSM staff is enforced by a middleware that must be installed in order."""
    middleware = list(settings.MIDDLEWARE)
    if MIDDLEWARE_DOUBLE_FACTEUR not in middleware or MIDDLEWARE_OTP not in middleware:
        return [
            checks.Error(
                "Le second facteur des agents de l'ANSM n'est pas imposé.",
                hint=f"Ajoutez {MIDDLEWARE_OTP} puis {MIDDLEWARE_DOUBLE_FACTEUR} à MIDDLEWARE.",
                id="config.E002",
            )
        ]
    if middleware.index(MIDDLEWARE_DOUBLE_FACTEUR) < middleware.index(MIDDLEWARE_OTP):
        return [
            checks.Error(
                f"{MIDDLEWARE_DOUBLE_FACTEUR} doit venir après {MIDDLEWARE_OTP}, qui lit l'appareil de la session.",
                id="config.E002",
            )
        ]
    return []


@checks.register(checks.Tags.compatibility, deploy=True)
def verifier_broker(app_configs=None, **kwargs):
    """config.W001: the filesystem broker is local to one machine; production workers need Redis or RabbitMQ."""
    if not settings.DEBUG and settings.CELERY_BROKER_URL.startswith("filesystem://"):
        return [
            checks.Warning(
                "Celery utilise le transport « système de fichiers » alors que DEBUG est désactivé.",
                hint="Ce transport ne fonctionne que sur une seule machine. Définissez CELERY_BROKER_URL "
                "(redis://… ou amqp://…).",
                id="config.W001",
            )
        ]
    return []


@checks.register(checks.Tags.caches, deploy=True)
def verifier_cache(app_configs=None, **kwargs):
    """config.W002: a per-process cache makes the API throttling count per worker, not per client."""
    backend = settings.CACHES["default"]["BACKEND"]
    if not settings.DEBUG and backend.endswith("LocMemCache"):
        return [
            checks.Warning(
                "Le cache est local à chaque processus alors que DEBUG est désactivé : la limitation de débit de "
                "l'API est alors comptée par processus.",
                hint="Définissez CACHE_URL (redis://…) pour partager le cache entre les processus.",
                id="config.W002",
            )
        ]
    return []


@checks.register(checks.Tags.compatibility, deploy=True)
def verifier_courriel(app_configs=None, **kwargs):
    """config.W003: with the console or memory backend, password-reset and notification emails never leave."""
    backend = settings.EMAIL_BACKEND
    if not settings.DEBUG and backend.rsplit(".", 2)[-2] in {"console", "locmem", "dummy", "filebased"}:
        return [
            checks.Warning(
                f"Les courriels ne sont pas envoyés (EMAIL_BACKEND = {backend}) alors que DEBUG est désactivé.",
                hint="Utilisez django.core.mail.backends.smtp.EmailBackend et EMAIL_HOST.",
                id="config.W003",
            )
        ]
    return []
