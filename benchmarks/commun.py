"""What the benchmarks share: their own databases on DATABASE_URL's server, and a production-like environment."""

import os
import sys
import tempfile
from urllib.parse import urlsplit, urlunsplit


def preparer_bases(*noms: str) -> None:
    """Create the databases that are missing on DATABASE_URL's server and point DATABASE_URL at the last one."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("DATABASE_URL est obligatoire (le serveur PostgreSQL où créer les bases du banc).")
    parties = urlsplit(url)
    import psycopg

    administration = urlunsplit(parties._replace(path="/postgres"))
    with psycopg.connect(administration, autocommit=True) as connexion:
        for nom in noms:
            if not connexion.execute("SELECT 1 FROM pg_database WHERE datname = %s", [nom]).fetchone():
                connexion.execute(f'CREATE DATABASE "{nom}"')
    os.environ["DATABASE_URL"] = urlunsplit(parties._replace(path=f"/{noms[-1]}"))


def environnement_production(*, fichiers: str | None = None, **reglages: str) -> None:
    """Production-like settings: DEBUG off (no query log), quiet logs, no statement timeout; with `fichiers`, the
    files (PDFs, mails, broker messages) go to a scratch folder of that prefix."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "false",
            "SECRET_KEY": "banc-de-mesure-" + "x" * 50,
            "ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
            "DB_STATEMENT_TIMEOUT_MS": "0",
        }
    )
    if fichiers:
        dossier = tempfile.mkdtemp(prefix=fichiers)
        os.environ.update(
            {
                "DATA_DIR": dossier,
                "MEDIA_ROOT": os.path.join(dossier, "media"),
                "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            }
        )
    os.environ.update(reglages)
