from django.apps import AppConfig
from django.db import connections
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


def _apres_migration(sender, using="default", **kwargs) -> None:
    """Every migrate leaves the audit triggers in place (idempotent, see comptes.audit)."""
    if connections[using].vendor != "postgresql":
        return
    from . import audit

    audit.installer(using=using)


class ComptesConfig(AppConfig):
    name = "comptes"
    verbose_name = "Comptes, rôles et établissements"

    def ready(self) -> None:
        # The accounts app also carries the project's operations concerns (issue 7): its system checks, the
        # request id that follows a request into the Celery tasks it enqueues, and the audit trail's triggers
        # (installed after every migrate) and execute wrapper (on every connection), see comptes.audit.
        from config import checks  # noqa: F401 - registers the checks
        from config.logging import connecter_celery

        from . import audit

        connecter_celery()
        post_migrate.connect(_apres_migration, sender=self, dispatch_uid="comptes.apres_migration")
        connection_created.connect(audit.installer_enveloppe, dispatch_uid="comptes.audit.enveloppe")
