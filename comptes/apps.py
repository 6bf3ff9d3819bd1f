from django.apps import AppConfig


class ComptesConfig(AppConfig):
    name = "comptes"
    verbose_name = "Comptes, rôles et établissements"

    def ready(self) -> None:
        # The accounts app also carries the project's operations concerns (issue 7): its system checks and the
        # request id that follows a request into the Celery tasks it enqueues.
        from config import checks  # noqa: F401 - registers the checks
        from config.logging import connecter_celery

        connecter_celery()
